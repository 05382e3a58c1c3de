"""OpenPhish: the plain feed (``feed.txt``, one URL per line) and the premium JSON-lines feed.

Both are RSIT ``fraud/phishing``.  The plain feed carries no time at all: a URL's time is the time
the file was written (its modification time, or the member's date inside a zip — the engine's
``FILE_TIME``), which is when OpenPhish last listed it; download the feed as it is published and
keep the file's time (``curl -R``, ``wget`` do).  The premium feed names the imitated brand
(``event_description.target``) and the hosting IP, AS and country; its times are UTC, written twice:
``isotime`` (``2025-01-06T03:12:09Z``) and ``discover_time`` (``06-01-2025 03:12:09 UTC``, day first), as
IntelMQ's OpenPhish commercial parser and its sample show (certtools/intelmq
``intelmq/bots/parsers/openphish/parser_commercial.py``).
"""

from __future__ import annotations

import re

from sitrep.feeds.base import Feed, JsonLines, Lines, Sample
from sitrep.feeds.sql import (
    FILE_TIME,
    asn,
    bad_ip,
    classified,
    coalesce,
    col,
    country,
    extra,
    field,
    ip,
    lit,
    lower,
    missing,
    text,
    ts,
)
from sitrep.taxonomy import PHISHING

PROVIDER = "OpenPhish"
_URL = re.compile(r"^(?i:https?)://\S+$")
_URL_SQL = "'^(?i)https?://[^/\\s]+'"
# Premium-feed brands that say the target is unknown: no target rather than a fake brand.
_NO_BRAND = ("generic/spear phishing", "unknown", "generic")
_CLASS = {
    **classified(PHISHING),
}
# ``discover_time`` is day-first with a literal "UTC"; an ISO text is read too.
_DISCOVER_TIME = coalesce(
    f"make_timestamptz(epoch_us(try_strptime({field('discover_time')}, '%d-%m-%Y %H:%M:%S UTC')))",
    ts(field("discover_time")),
)
_TIME = coalesce(ts(field("isotime")), _DISCOVER_TIME)


def _recognise_plain(sample: Sample) -> bool:
    # A bare URL list says nothing about its origin, so this is tried last (priority) and only
    # without comment lines (URLhaus' plain dump, for one, opens with a '#' block).
    lines = [line.strip() for line in sample.lines if line.strip()][:200]
    if not lines or not _URL.match(lines[0]) or any(line.startswith("#") for line in lines):
        return False
    return sum(1 for line in lines if _URL.match(line)) >= 0.75 * len(lines)


def _recognise_json(sample: Sample) -> bool:
    record = sample.first_json_object()
    return (
        record is not None and {"url", "brand"} <= record.keys() and ("isotime" in record or "discover_time" in record)
    )


PLAIN = Feed(
    name="openphish",
    provider=PROVIDER,
    summary="OpenPhish plain feed (one URL per line; time = the file's time): phishing pages.",
    reader=Lines(),
    recognise=_recognise_plain,
    columns=("line",),
    required=("line",),
    fields={
        "time_source": FILE_TIME,
        "time_observation": FILE_TIME,
        **_CLASS,
        "source_url": text(col("line")),
    },
    checks=((f"NOT regexp_matches({text(col('line'))}, {_URL_SQL})", "line is not an http(s) URL"),),
    priority=900,
)

_URL_FIELD = field("url")

JSON = Feed(
    name="openphish-json",
    provider=PROVIDER,
    summary="OpenPhish premium JSON-lines feed: phishing pages with brand, IP, AS and country.",
    reader=JsonLines(),
    recognise=_recognise_json,
    fields={
        "time_source": _TIME,
        **_CLASS,
        "source_url": _URL_FIELD,
        "source_fqdn": lower(field("host")),
        "source_ip": ip(field("ip")),
        "source_asn": asn(field("asn")),
        "source_geolocation_cc": country(field("country_code")),
        "event_description_target": (
            f"CASE WHEN lower({field('brand')}) NOT IN ({', '.join(lit(b) for b in _NO_BRAND)}) "
            f"THEN {field('brand')} END"
        ),
        "extra": extra(
            "sector",
            "page_language",
            "tld",
            "asn_name",
            "country_name",
            "family_id",
            "phishing_kit",
            "ssl_cert_issued_by",
            "ssl_cert_issued_to",
            reader_json=True,
        ),
    },
    checks=(
        (f"({_TIME}) IS NULL", "isotime/discover_time is missing or not a date-time"),
        (missing(_URL_FIELD), "url is empty"),
        (f"NOT regexp_matches({_URL_FIELD}, {_URL_SQL})", "url is not an http(s) URL"),
        (bad_ip(field("ip")), "ip is not an IP address"),
    ),
    priority=60,
)

FEEDS = (PLAIN, JSON)
