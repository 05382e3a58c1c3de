"""abuse.ch URLhaus: URLs that serve malware, in each layout abuse.ch publishes.

* The database dumps ``csv`` / ``csv_recent`` / ``csv_online`` (https://urlhaus.abuse.ch/api/): a ``#``
  comment block whose last line is the column header
  (``# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter``), every field quoted.
* The feeds for network operators, CERTs and registries, one per AS number, country or TLD
  (https://urlhaus.abuse.ch/feeds/asn/<ASN>/, …/country/<CC>/, …/tld/<TLD>/): a ``#`` preamble ending in
  ``# Dateadded (UTC),URL,URL_status,Threat,Host,IPaddress,ASnumber,Country``, the layout IntelMQ's
  URLhaus parser documents (certtools/intelmq ``intelmq/bots/parsers/abusech/parser_urlhaus.py`` and the
  generic-CSV column list of its feeds documentation), and the same with ``Tags`` after ``Threat`` as
  newer feeds write it.
* The plain-text URL lists ``text`` / ``text_recent`` / ``text_online``: a ``#`` comment block, then one
  URL per line, nothing else.

Every row is a malware-hosting site: RSIT ``malicious-code/malware-distribution`` (放马站点), TLP CLEAR
(the data is public).  ``dateadded`` is UTC; the plain lists carry no time, so a URL's time is the time the
file was written (the engine's ``FILE_TIME``).  The family is the first tag that is not a file type or
CPU architecture (``32-bit,elf,mips,Mozi`` → ``mozi``); all tags stay in ``extra`` so that Android
downloads (tag ``apk`` or a URL ending ``.apk``) can be told apart as mobile malware.
"""

from __future__ import annotations

import re

from sitrep.enrich.sites import is_ip_sql
from sitrep.feeds.base import Csv, Feed, Lines, Sample
from sitrep.feeds.sql import (
    FILE_TIME,
    asn,
    bad_asn,
    bad_ip,
    bad_time,
    classified,
    col,
    country,
    extra,
    ip,
    lit,
    lower,
    missing,
    text,
    ts,
)
from sitrep.taxonomy import MALWARE_DISTRIBUTION

PROVIDER = "abuse.ch"
COLUMNS = (
    "id",
    "dateadded",
    "url",
    "url_status",
    "last_online",
    "threat",
    "tags",
    "urlhaus_link",
    "reporter",
)
# The per-ASN/country/TLD feeds, as their header comment names the columns.
FEED_COLUMNS = ("Dateadded (UTC)", "URL", "URL_status", "Threat", "Host", "IPaddress", "ASnumber", "Country")
FEED_TAGS_COLUMNS = (*FEED_COLUMNS[:4], "Tags", *FEED_COLUMNS[4:])

# Tags that describe the file or the platform, not the family; the first other tag names the family.
# "None" is what the dumps write for a URL without tags.
GENERIC_TAGS = (
    "none", "32-bit", "64-bit", "elf", "exe", "dll", "apk", "jar", "msi", "zip", "rar", "7z", "iso", "lnk",
    "doc", "docx", "xls", "xlsx", "pdf", "js", "vbs", "ps1", "hta", "bat", "sh", "txt", "html", "ascii",
    "powershell", "encrypted", "opendir", "payload", "dropper", "botnet", "malware", "mips", "mipsel",
    "mpsl", "arm", "arm4", "arm5", "arm6", "arm7", "aarch64", "x86", "x86-64", "x64", "i686", "sh4",
    "m68k", "ppc", "powerpc", "sparc", "android", "windows", "linux",
)  # fmt: skip

_DUMP_HEADER = re.compile(r"^#\s*id,dateadded,url,url_status,last_online,threat,tags", re.MULTILINE)
_URL = re.compile(r"^(?i:https?|ftp)://\S+$")
_URL_SQL = "'^(?i)(https?|ftp)://[^/\\s]+'"


def _header_comment(columns: tuple[str, ...]) -> re.Pattern[str]:
    """The feed's header comment line naming exactly ``columns`` (spaces after commas tolerated)."""
    names = r",\s*".join(re.escape(c) for c in columns)
    return re.compile(rf"^#\s*{names}\s*$", re.MULTILINE | re.IGNORECASE)


_FEED_HEADER = _header_comment(FEED_COLUMNS)
_FEED_TAGS_HEADER = _header_comment(FEED_TAGS_COLUMNS)


def _recognise_text(sample: Sample) -> bool:
    """A ``#`` block that names URLhaus or abuse.ch, then URLs: at least three in four other non-empty
    lines.  (A bare URL list names no provider: that is OpenPhish's plain feed, tried last.)"""
    lines = [line.strip() for line in sample.lines if line.strip()][:400]
    comments = [line.lower() for line in lines if line.startswith("#")]
    urls = [line for line in lines if not line.startswith("#")]
    if not any("urlhaus" in line or "abuse.ch" in line for line in comments) or not urls:
        return False
    return sum(1 for line in urls if _URL.match(line)) >= 0.75 * len(urls)


def _family(tags: str) -> str:
    tag_list = f"list_transform(string_split(lower({text(tags)}), ','), lambda t: trim(t))"
    generic = "[" + ", ".join(lit(t) for t in GENERIC_TAGS) + "]"
    return f"list_filter({tag_list}, lambda t: t <> '' AND NOT list_contains({generic}, t))[1]"


def _not_a_url(value: str) -> str:
    return f"NOT regexp_matches({value}, {_URL_SQL})"


DUMP = Feed(
    name="abusech-urlhaus",
    provider=PROVIDER,
    summary="abuse.ch URLhaus CSV dump (csv, csv_recent, csv_online): malware download URLs.",
    reader=Csv(header=False, names=COLUMNS, comment="#"),
    recognise=lambda sample: _DUMP_HEADER.search(sample.text) is not None,
    columns=COLUMNS,
    required=("dateadded", "url"),
    fields={
        "time_source": ts(col("dateadded")),
        **classified(MALWARE_DISTRIBUTION),
        "source_url": text(col("url")),
        "malware_name": _family(col("tags")),
        "extra": extra("id", "url_status", "last_online", "threat", "tags", "urlhaus_link", "reporter"),
    },
    checks=(
        (bad_time(col("dateadded")), "dateadded is missing or not a date-time"),
        (missing(col("url")), "url is empty"),
        (_not_a_url(text(col("url"))), "url is not a URL"),
    ),
    tlp="CLEAR",
    priority=60,
)


def _network_feed(name: str, columns: tuple[str, ...], header: re.Pattern[str], summary: str) -> Feed:
    """A per-ASN/country/TLD feed in one of its two column layouts (with or without ``Tags``)."""
    host = text(col("Host"))
    tags = "Tags" in columns
    return Feed(
        name=name,
        provider=PROVIDER,
        summary=summary,
        reader=Csv(header=False, names=columns, comment="#"),
        recognise=lambda sample: header.search(sample.text) is not None,
        columns=columns,
        required=("Dateadded (UTC)", "URL"),
        fields={
            "time_source": ts(col("Dateadded (UTC)")),
            **classified(MALWARE_DISTRIBUTION),
            "source_url": text(col("URL")),
            # The host of an IP URL is the address itself: that is source_ip, not a host name.
            "source_fqdn": f"CASE WHEN NOT {is_ip_sql(host)} THEN {lower(col('Host'))} END",
            "source_ip": ip(col("IPaddress")),
            "source_asn": asn(col("ASnumber")),
            "source_geolocation_cc": country(col("Country")),
            **({"malware_name": _family(col("Tags"))} if tags else {}),
            "extra": extra("URL_status", "Threat", *(("Tags",) if tags else ())),
        },
        checks=(
            (bad_time(col("Dateadded (UTC)")), "Dateadded is missing or not a date-time"),
            (missing(col("URL")), "URL is empty"),
            (_not_a_url(text(col("URL"))), "URL is not a URL"),
            (bad_ip(col("IPaddress")), "IPaddress is not an IP address"),
            (bad_asn(col("ASnumber")), "ASnumber is not an AS number"),
        ),
        tlp="CLEAR",
        priority=60,
    )


NETWORK = _network_feed(
    "abusech-urlhaus-feed",
    FEED_COLUMNS,
    _FEED_HEADER,
    "abuse.ch URLhaus feed per ASN, country or TLD (CSV): malware download URLs with host, IP, AS, country.",
)
NETWORK_TAGS = _network_feed(
    "abusech-urlhaus-feed-tags",
    FEED_TAGS_COLUMNS,
    _FEED_TAGS_HEADER,
    "abuse.ch URLhaus feed per ASN, country or TLD with a Tags column (CSV): malware download URLs.",
)

TEXT = Feed(
    name="abusech-urlhaus-text",
    provider=PROVIDER,
    summary="abuse.ch URLhaus plain-text URL list (text, text_recent, text_online; time = the file's time).",
    reader=Lines(comment="#"),
    recognise=_recognise_text,
    columns=("line",),
    required=("line",),
    fields={
        "time_source": FILE_TIME,
        "time_observation": FILE_TIME,
        **classified(MALWARE_DISTRIBUTION),
        "source_url": text(col("line")),
    },
    checks=((_not_a_url(text(col("line"))), "line is not a URL"),),
    tlp="CLEAR",
    # After every format with a recognisable header: a URL list says little about itself.
    priority=800,
)

FEEDS = (DUMP, NETWORK, NETWORK_TAGS, TEXT)
