"""Team Cymru CAP (CSIRT Assistance Program) feed: what Team Cymru saw from a CERT's networks, per day.

A ``|``-separated text file, no quoting, ``#`` comment lines.  Two layouts, both the ones IntelMQ's parser
documents (certtools/intelmq ``intelmq/bots/parsers/cymru/parser_cap_program.py`` and its two test
files):

* the current one, opened by ``#generated on YYYYMMDD`` and the header comment
  ``#category|address|asn|timestamp|optional_information|asninfo``.  ``optional_information`` holds
  ``key: value;`` pairs (``family: nivdort;dest_addr: 192.0.2.1; dest_port: 80;protocol: 6;``);
  ``asinfo`` is the AS name with the country code after its last comma (``CHINANET-BACKBONE …, CN``);
* the old one, opened by ``# Data file written at …`` and ``# Format: report|ip|asn|timestamp|comments|
  asn_name``, whose comments are free text per report type (``srcport 1337 mwtype Conficker destaddr
  192.0.2.1``).

``timestamp`` is UTC (``2025-01-06 03:44:22``); AS ``0`` means none.  Each category is classified as
IntelMQ classifies it, with IntelMQ 3's RSIT names: the infected hosts (``bot``, ``conficker``; old
``bots``, ``toxbot`` and the worm reports) are ``malicious-code/infected-system`` (感染网络病毒的主机)
with the family as malware name and identifier.  Where IntelMQ makes one event per destination port of a
row, Sitrep keeps the row as one event (the ports in ``extra``; ``destination_port`` when there is one).
"""

from __future__ import annotations

import re

from sitrep.feeds._rsit import Rule, classified_by
from sitrep.feeds.base import Csv, Feed, Sample
from sitrep.feeds.sql import (
    asn,
    bad_asn,
    bad_ip,
    bad_port,
    bad_time,
    col,
    country,
    extra_of,
    ip,
    lit,
    lower,
    missing_ip,
    port,
    text,
    ts,
)
from sitrep.taxonomy import DEFACEMENT, INFECTED_SYSTEM

PROVIDER = "Team Cymru"
COLUMNS = ("category", "address", "asn", "timestamp", "optional_information", "asninfo")
LEGACY_COLUMNS = ("report", "ip", "asn", "timestamp", "comments", "asn_name")

# IP protocol numbers the feed writes, by name (IntelMQ's table); higher, unassigned numbers stay numbers.
PROTOCOLS = {"1": "icmp", "6": "tcp", "11": "nvp-ii", "17": "udp", "47": "gre", "59": "ipv6-nonxt"}

_NOTES = text(col("optional_information"))
_CATEGORY = lower(col("category"))


def _note(*keys: str) -> str:
    """The value of the first of ``keys`` in ``optional_information`` (``key: value;`` pairs), or NULL."""
    pattern = lit("(?:^|;)\\s*(?:" + "|".join(re.escape(k) for k in keys) + "):\\s*([^;]*)")
    return f"nullif(trim(regexp_extract({_NOTES}, {pattern}, 1)), '')"


def _first_note() -> str:
    """The first ``;``-separated item of ``optional_information`` (bruteforce: the protocol; phishing:
    the URL)."""
    return f"nullif(trim(split_part({_NOTES}, ';', 1)), '')"


def _old_word(source: str, key: str) -> str:
    """The word after ``key`` in old-style ``srcport 1337 mwtype Conficker destaddr 192.0.2.1`` text."""
    pattern = lit("(?:^|\\s)" + key + "\\s+(\\S+)")
    return f"nullif(regexp_extract({source}, {pattern}, 1), '')"


def _old_family(source: str) -> str:
    """Old-style ``mwtype``: it may hold spaces (``mwtype Mirai Mirai Bot``), up to the next keyword."""
    value = f"regexp_extract({source}, '(?:^|\\s)mwtype\\s+(.+?)(?:\\s+(?:srcport|destaddr|dstaddr)\\s|$)', 1)"
    return f"nullif(lower(trim({value})), '')"


# The bogus 'hostname: sub.example.comport: 80' IntelMQ repairs: the port glued to the host name.
_GLUED_PORT = "hostname:\\s*[^;]*?port:\\s*([0-9]+)"
_HOSTNAME = (
    f"nullif(lower(trim(regexp_extract({_NOTES}, "
    f"'(?:^|;)\\s*hostname:\\s*([^;]*?)(?:port:\\s*[0-9]+)?\\s*(?:;|$)', 1))), '')"
)
_FAMILY = lower(f"coalesce({_note('family')}, {_old_family(_NOTES)})")
_PROXY = f"coalesce({_note('proxy_type')}, CASE WHEN {_CATEGORY} = 'proxy' THEN {_first_note()} END)"
# The destination ports a row names, under whichever key its category uses ("17875,24526 (total_count:2)").
_PORT_KEYS = ("dest_port", "ports_scanned", "honeypot_port", "darknet_port", "destination_port_numbers")
_PORTS = f"nullif(trim(regexp_replace({_note(*_PORT_KEYS)}, '\\s*\\(total_count:[0-9]+\\)\\s*$', '')), '')"
_DESTINATION = (
    f"coalesce({_note('dest_addr', 'destaddr')}, {_old_word(_NOTES, 'dstaddr')}, {_old_word(_NOTES, 'destaddr')})"
)
_SOURCE_PORT = (
    f"coalesce({_note('port', 'srcport')}, nullif(regexp_extract({_NOTES}, {lit(_GLUED_PORT)}, 1), ''), "
    f"nullif(regexp_extract({_PROXY}, '-([0-9]+)$', 1), ''), {_old_word(_NOTES, 'srcport')})"
)
_PROTOCOL = _note("protocol")

CATEGORIES: dict[str, Rule] = {
    "bot": Rule(INFECTED_SYSTEM.type, f"coalesce({_FAMILY}, {lit(INFECTED_SYSTEM.identifier)})"),
    "conficker": Rule(INFECTED_SYSTEM.type, lit("conficker")),
    "bruteforce": Rule("brute-force", lower(_first_note())),
    "controller": Rule("c2-server", f"coalesce({_FAMILY}, 'c2-server')"),
    "darknet": Rule("scanner", lit("darknet")),
    "honeypot": Rule("scanner", "NULL"),
    "scanner": Rule("scanner", lit("scanner")),
    "phishing": Rule("phishing", lit("phishing")),
    "proxy": Rule("proxy", lit("openproxy")),
    "openresolvers": Rule("vulnerable-system", lit("dns-open-resolver")),
    "openresolver": Rule("vulnerable-system", lit("dns-open-resolver")),
    "spam": Rule("spam", lit("spam")),
}
_UNKNOWN = Rule("undetermined", "NULL")


def _unknown_category(column: str, known: dict[str, Rule]) -> tuple[str, str]:
    """The check rejecting a row whose category (``column``) is none the feed documents."""
    value = lower(col(column))
    return (
        f"{value} IS NULL OR {value} NOT IN ({', '.join(lit(c) for c in known)})",
        f"{column} is missing or not one of Team Cymru's",
    )


def _protocol_name(number: str) -> str:
    whens = " ".join(f"WHEN {lit(n)} THEN {lit(name)}" for n, name in PROTOCOLS.items())
    return f"CASE {number} {whens} ELSE {number} END"


def _recognise(sample: Sample) -> bool:
    return sample.matches(r"(?m)^#\s*category\|address\|asn\|timestamp\|optional_information\|asninfo\s*$") or (
        sample.matches(r"(?mi)^#\s*generated on \d{8}") and sample.matches(r"(?m)^[a-z]+\|[^|]*\|\d*\|[^|]*\|[^|]*\|")
    )


def _recognise_legacy(sample: Sample) -> bool:
    return sample.matches(r"(?m)^#\s*Format:\s*report\|ip\|asn\|timestamp\|comments\|asn_name\s*$") or (
        sample.matches(r"(?m)^#\s*Data file written at ") and sample.matches(r"(?m)^[a-z]+\|[^|]*\|\d*\|[^|]*\|")
    )


_ASINFO = text(col("asninfo"))
# "AS name, CC": the country code is what follows the last comma.
_ASINFO_CC = f"regexp_extract({_ASINFO}, ',\\s*([A-Za-z]{{2}})\\s*$', 1)"

FEED = Feed(
    name="teamcymru-cap",
    provider=PROVIDER,
    summary="Team Cymru CAP feed (|-separated, '#generated on'): infected hosts, C&Cs, scanners of a CERT's networks.",
    reader=Csv(delimiter="|", header=False, names=COLUMNS, comment="#", quote=""),
    recognise=_recognise,
    columns=COLUMNS,
    required=("address", "timestamp"),
    fields={
        "time_source": ts(col("timestamp")),
        **classified_by(_CATEGORY, CATEGORIES, _UNKNOWN),
        "source_ip": ip(col("address")),
        "source_port": port(_SOURCE_PORT),
        "source_asn": asn(col("asn")),
        "source_fqdn": _HOSTNAME,
        "source_url": f"CASE WHEN {_CATEGORY} = 'phishing' THEN {_first_note()} END",
        "source_geolocation_cc": country(_ASINFO_CC),
        "destination_ip": ip(_DESTINATION),
        "destination_port": f"CASE WHEN NOT contains({_PORTS}, ',') THEN {port(_PORTS)} END",
        "malware_name": f"CASE WHEN {_CATEGORY} = 'conficker' THEN 'conficker' "
        f"WHEN {_CATEGORY} IN ('bot', 'controller') THEN {_FAMILY} END",
        "extra": extra_of(
            {
                "as_name": f"nullif(trim(regexp_replace({_ASINFO}, ',\\s*[A-Za-z]{{2}}\\s*$', '')), '')",
                "optional_information": _NOTES,
                "protocol.transport": _protocol_name(_PROTOCOL),
                "protocol.application": (
                    f"CASE {_CATEGORY} WHEN 'bruteforce' THEN lower({_first_note()}) "
                    f"WHEN 'proxy' THEN lower(regexp_replace({_PROXY}, '-[0-9]+$', '')) "
                    "WHEN 'openresolvers' THEN 'dns' WHEN 'openresolver' THEN 'dns' END"
                ),
                "destination_ports": (
                    f"CASE WHEN contains({_PORTS}, ',') THEN regexp_replace({_PORTS}, '\\s', '', 'g') END"
                ),
                "source.account": _note("username"),
                "additional_asns": _note("additional_asns"),
            }
        ),
    },
    checks=(
        (bad_time(col("timestamp")), "timestamp is missing or not a date-time"),
        (missing_ip(col("address")), "address is empty"),
        (bad_ip(col("address")), "address is not an IP address"),
        (bad_asn(col("asn")), "asn is not an AS number"),
        (bad_port(_SOURCE_PORT), "the source port in optional_information is not a port number"),
        (
            f"NOT contains({_PORTS}, ',') AND {bad_port(_PORTS)}",
            "the destination port in optional_information is not a port number",
        ),
        _unknown_category("category", CATEGORIES),
    ),
    tlp="AMBER",
    priority=50,
)

# The old layout ---------------------------------------------------------------------------------------

_REPORT = lower(col("report"))
_COMMENTS = text(col("comments"))
_FIRST_WORD = f"nullif(split_part({_COMMENTS}, ' ', 1), '')"
_SECOND_WORD = f"nullif(split_part({_COMMENTS}, ' ', 2), '')"
_LEGACY_FAMILY = _old_family(_COMMENTS)
# Old worm reports whose name is the family (IntelMQ's 'malware' type: an infected host).
WORMS = ("beagle", "blaster", "dameware", "dipnet", "mydoom", "nachi", "phatbot", "sinit", "slammer")

LEGACY_CATEGORIES: dict[str, Rule] = {
    **{worm: Rule(INFECTED_SYSTEM.type, lit(worm)) for worm in WORMS},
    "bots": Rule(INFECTED_SYSTEM.type, f"coalesce({_LEGACY_FAMILY}, {lit(INFECTED_SYSTEM.identifier)})"),
    "toxbot": Rule(INFECTED_SYSTEM.type, lit("toxbot")),
    # IntelMQ leaves the Storm worm's reports unclassified; its hosts are that worm's bots.
    "stormworm": Rule(INFECTED_SYSTEM.type, lit("stormworm")),
    "bruteforce": Rule("brute-force", f"lower({_COMMENTS})"),
    "defacement": Rule(DEFACEMENT.type, lit(DEFACEMENT.identifier)),
    "fastflux": Rule("system-compromise", lit("fastflux")),
    "routers": Rule("system-compromise", f"coalesce(lower({_COMMENTS}), 'compromised')"),
    "malwareurl": Rule("malware-distribution", lit("malwareurl")),
    "spreaders": Rule("malware-distribution", lit("spreader")),
    "openresolvers": Rule("vulnerable-system", lit("dns-open-resolver")),
    "phishing": Rule("phishing", lit("phishing")),
    "proxy": Rule("proxy", lit("openproxy")),
    "scanners": Rule("scanner", lit("scanner")),
    "spam": Rule("spam", lit("spam")),
}
_URL_REPORTS = ("defacement", "malwareurl", "spreaders")
# A scanners row's comment is the port it scanned from; the others name it after ``srcport``.
_LEGACY_PORT = f"CASE {_REPORT} WHEN 'scanners' THEN {_COMMENTS} ELSE {_old_word(_COMMENTS, 'srcport')} END"

LEGACY = Feed(
    name="teamcymru-cap-legacy",
    provider=PROVIDER,
    summary="Team Cymru CAP feed, old layout ('# Data file written at'): infected hosts and more.",
    reader=Csv(delimiter="|", header=False, names=LEGACY_COLUMNS, comment="#", quote=""),
    recognise=_recognise_legacy,
    columns=LEGACY_COLUMNS,
    required=("ip", "timestamp"),
    fields={
        "time_source": ts(col("timestamp")),
        **classified_by(_REPORT, LEGACY_CATEGORIES, _UNKNOWN),
        "source_ip": ip(col("ip")),
        "source_port": port(_LEGACY_PORT),
        "source_asn": asn(col("asn")),
        "source_url": (
            f"CASE WHEN {_REPORT} IN ({', '.join(map(lit, _URL_REPORTS))}) THEN {_FIRST_WORD} "
            f"WHEN {_REPORT} = 'phishing' THEN {_COMMENTS} END"
        ),
        "destination_ip": ip(f"coalesce({_old_word(_COMMENTS, 'destaddr')}, {_old_word(_COMMENTS, 'dstaddr')})"),
        "malware_name": (
            f"CASE WHEN {_REPORT} IN ({', '.join(map(lit, (*WORMS, 'toxbot', 'stormworm')))}) THEN {_REPORT} "
            f"WHEN {_REPORT} = 'bots' THEN {_LEGACY_FAMILY} END"
        ),
        "extra": extra_of(
            {
                "as_name": text(col("asn_name")),
                "comments": _COMMENTS,
                "zoneh_id": f"CASE WHEN {_REPORT} = 'defacement' THEN {_SECOND_WORD} END",
            }
        ),
    },
    checks=(
        (bad_time(col("timestamp")), "timestamp is missing or not a date-time"),
        (missing_ip(col("ip")), "ip is empty"),
        (bad_ip(col("ip")), "ip is not an IP address"),
        (bad_asn(col("asn")), "asn is not an AS number"),
        (bad_port(_LEGACY_PORT), "the source port in comments is not a port number"),
        # IntelMQ does not know the layout of these comments either.
        (f"{_REPORT} = 'ddosreport'", "report ddosreport: its comment layout is not documented"),
        _unknown_category("report", {**LEGACY_CATEGORIES, "ddosreport": _UNKNOWN}),
    ),
    tlp="AMBER",
    priority=50,
)

FEEDS = (FEED, LEGACY)
