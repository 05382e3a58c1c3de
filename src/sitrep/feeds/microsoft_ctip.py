"""Microsoft CTIP (Cyber Threat Intelligence Program): devices seen talking to Microsoft's sinkholes.

Microsoft shares CTIP with national CERTs through its Government Security Program, in two layouts
(IntelMQ's parser ``intelmq/bots/parsers/microsoft/parser_ctip.py`` and its feed documentation
describe both):

* ``microsoft-ctip-infected`` — the Infected-Devices JSON of the Interflow API: one JSON array of flat
  objects, ``version`` 1.5, ``indicatorthreattype`` ``Botnet``, lower-case keys (``networksourceipv4``,
  ``externalid``, ``firstreporteddatetime``, ``tlplevel``…).
* ``microsoft-ctip-azure`` — the JSON the Azure storage holds (containers ``ctip-infected-summary``
  and ``ctip-c2``): one object per line with ``DataFeed``, ``DateTimeReceivedUtc`` (Windows file time:
  100 ns steps since 1601), ``Malware``, ``ThreatCode``, ``SourceIp``, ``SourceIpInfo``…, and a
  ``Payload`` that is usually base64-encoded JSON.

An infected device is RSIT ``malicious-code/infected-system`` (the report's 感染网络病毒的主机) with its
malware family.  Rows of the Azure C2 feed (a ``DataFeed`` naming C2) describe the command-and-control
server, which CTIP puts in ``DestinationIp`` with its ``DestinationIpInfo``: they are
``malicious-code/c2-server`` events about that server.  TLP is CTIP's own label (``Yellow``, which
CTIP also writes, is AMBER); without one, AMBER, as the data is shared with the recipient only.
"""

from __future__ import annotations

import re

from sitrep.feeds.base import Feed, JsonLines, JsonRecords, Sample
from sitrep.feeds.sql import (
    asn,
    bad_asn,
    bad_ip,
    bad_port,
    bad_time,
    country,
    field,
    ip,
    lit,
    lower,
    missing_ip,
    path,
    port,
    text,
    ts,
)
from sitrep.taxonomy import INFECTED_SYSTEM

PROVIDER = "Microsoft"

# CTIP's TLP words → TLP 2.0 labels; anything else ("Unknown") leaves the feed's default.
_TLP_WORDS = {"white": "CLEAR", "clear": "CLEAR", "green": "GREEN", "amber": "AMBER", "yellow": "AMBER", "red": "RED"}


def _tlp(expr: str) -> str:
    whens = " ".join(f"WHEN {lit(word)} THEN {lit(label)}" for word, label in _TLP_WORDS.items())
    return f"CASE lower(replace({text(expr)}, 'TLP:', '')) {whens} END"


def _json_object(**members: str) -> str:
    """A JSON object of the members that are not NULL (NULL when none is)."""
    pairs = ", ".join(f"{lit(name)}, {expr}" for name, expr in members.items())
    return f"nullif(CAST(json_merge_patch('{{}}', json_object({pairs})) AS VARCHAR), '{{}}')"


# --- Interflow: Infected-Devices JSON -------------------------------------------------------------

# "192.0.2.1, 192.0.2.1" has been seen in networkdestinationipv4 (IntelMQ notes it): the first is meant.
_DESTINATION = f"nullif(trim(split_part({field('networkdestinationipv4')}, ',', 1)), '0.0.0.0')"
_HOSTNAME = lower(field("hostname"))
_METADATA = "json_extract(__json, '$.additionalmetadata')"

INTERFLOW_FIELDS = {
    "time_source": ts(field("firstreporteddatetime")),
    "classification_taxonomy": lit(INFECTED_SYSTEM.taxonomy),
    "classification_type": lit(INFECTED_SYSTEM.type),
    "classification_identifier": lit(INFECTED_SYSTEM.identifier),
    "source_ip": ip(field("networksourceipv4")),
    "source_port": port(field("networksourceport")),
    "source_asn": asn(field("networksourceasn")),
    "destination_ip": ip(_DESTINATION),
    "destination_port": port(field("networkdestinationport")),
    "malware_name": lower(field("externalid")),
    "tlp": _tlp(field("tlplevel")),
    "extra": _json_object(
        description=field("description"),
        confidence=f"try_cast({field('confidence')} AS INTEGER)",
        severity=field("severity"),
        # The sinkhole's host name, unless it merely repeats the destination IP.
        hostname=f"CASE WHEN {_HOSTNAME} IS DISTINCT FROM {_DESTINATION} THEN {_HOSTNAME} END",
        useragent=field("useragent"),
        tags=field("tags"),
        indicatorexpirationdatetime=field("indicatorexpirationdatetime"),
        # [null], [""] and ["null"] are how CTIP writes "no metadata".
        additionalmetadata=(
            f"CASE WHEN len(list_filter(CAST({_METADATA} AS VARCHAR[]), "
            "lambda m: nullif(nullif(m, 'null'), '') IS NOT NULL)) > 0 "
            f"THEN {_METADATA} END"
        ),
    ),
}

INTERFLOW_CHECKS = (
    (bad_time(field("firstreporteddatetime")), "firstreporteddatetime is missing or not a date-time"),
    (missing_ip(field("networksourceipv4")), "networksourceipv4 is empty"),
    (bad_ip(field("networksourceipv4")), "networksourceipv4 is not an IP address"),
    (bad_port(field("networksourceport")), "networksourceport is not a port"),
    (
        f"{field('indicatorthreattype')} IS DISTINCT FROM 'Botnet'",
        "indicatorthreattype is not Botnet (the only CTIP threat type)",
    ),
)

_INTERFLOW_HEAD = re.compile(r'^\s*\[\s*\{\s*"')


def _recognise_interflow(sample: Sample) -> bool:
    head = sample.text[:4096]
    return _INTERFLOW_HEAD.match(head) is not None and '"indicatorthreattype"' in head and '"networksourceipv4"' in head


INFECTED = Feed(
    name="microsoft-ctip-infected",
    provider=PROVIDER,
    summary="Microsoft CTIP Infected-Devices JSON (Interflow): sinkholed botnet devices.",
    reader=JsonRecords(
        "$[*]",
        layout="json_type(json) = 'ARRAY'",
        not_layout="not CTIP Infected-Devices JSON: the document is not an array",
    ),
    recognise=_recognise_interflow,
    fields=INTERFLOW_FIELDS,
    checks=INTERFLOW_CHECKS,
    tlp="AMBER",
    priority=60,
)

# --- Azure: one object per line ---------------------------------------------------------------------

# A Windows file time (100 ns since 1601-01-01 UTC) to a timestamp, in integers: no rounding.
_RECEIVED = f"try_cast({field('DateTimeReceivedUtc')} AS BIGINT)"
_RECEIVED_TIME = (
    f"CASE WHEN {_RECEIVED} > 116444736000000000 THEN make_timestamptz({_RECEIVED} // 10 - 11644473600000000) END"
)
_C2 = f"coalesce(regexp_matches({field('DataFeed')}, '(?i)(^|[.-])c2($|[.-])'), false)"
# The Payload: base64 of JSON, else base64 of text ("AA==" is CTIP's empty payload).
_PAYLOAD_TEXT = f"try(decode(from_base64(nullif({field('Payload')}, 'AA=='))))"
_PAYLOAD = f"CASE WHEN json_valid({_PAYLOAD_TEXT}) THEN CAST({_PAYLOAD_TEXT} AS JSON) ELSE to_json({_PAYLOAD_TEXT}) END"


def _side(own: str, c2: str) -> str:
    """The observed host's value: the source of an infected device, the destination of a C2 row."""
    return f"CASE WHEN {_C2} THEN {c2} ELSE {own} END"


_OBSERVED_PORT = _side(field("SourcePort"), field("DestinationPort"))
_OBSERVED_ASN = _side(path("$.SourceIpInfo.SourceIpAsnNumber"), path("$.DestinationIpInfo.DestinationIpAsnNumber"))

AZURE_FIELDS = {
    "time_source": _RECEIVED_TIME,
    "classification_taxonomy": lit("malicious-code"),
    "classification_type": f"CASE WHEN {_C2} THEN 'c2-server' ELSE {lit(INFECTED_SYSTEM.type)} END",
    "classification_identifier": f"CASE WHEN {_C2} THEN 'c2-server' ELSE {lit(INFECTED_SYSTEM.identifier)} END",
    "source_ip": ip(_side(field("SourceIp"), field("DestinationIp"))),
    "source_port": port(_OBSERVED_PORT),
    "source_asn": asn(_OBSERVED_ASN),
    "source_geolocation_cc": country(
        _side(path("$.SourceIpInfo.SourceIpCountryCode"), path("$.DestinationIpInfo.DestinationIpCountryCode"))
    ),
    "source_geolocation_region": _side(
        path("$.SourceIpInfo.SourceIpRegion"), path("$.DestinationIpInfo.DestinationIpRegion")
    ),
    "destination_ip": f"CASE WHEN NOT {_C2} THEN {ip(field('DestinationIp'))} END",
    "destination_port": f"CASE WHEN NOT {_C2} THEN {port(field('DestinationPort'))} END",
    # The family Microsoft names (Emotet, Avalanche…), else its threat code (B67-SS-TINBA).
    "malware_name": lower(f"coalesce({field('Malware')}, {field('ThreatCode')})"),
    "tlp": _tlp(field("TLP")),
    "extra": _json_object(
        DataFeed=field("DataFeed"),
        SourcedFrom=field("SourcedFrom"),
        ThreatCode=field("ThreatCode"),
        ThreatConfidence=field("ThreatConfidence"),
        TotalEncounters=f"try_cast({field('TotalEncounters')} AS BIGINT)",
        SourceIpAsnOrgName=path("$.SourceIpInfo.SourceIpAsnOrgName"),
        SourceIpCity=path("$.SourceIpInfo.SourceIpCity"),
        SourceIpConnectionType=path("$.SourceIpInfo.SourceIpConnectionType"),
        HttpHost=path("$.HttpInfo.HttpHost"),
        HttpRequest=path("$.HttpInfo.HttpRequest"),
        HttpUserAgent=path("$.HttpInfo.HttpUserAgent"),
        CustomField1=path("$.CustomInfo.CustomField1"),
        CustomField2=path("$.CustomInfo.CustomField2"),
        # A C2 row's other end: the device that talked to it.
        SourceIp=f"CASE WHEN {_C2} THEN {field('SourceIp')} END",
        Payload=_PAYLOAD,
    ),
}

_OBSERVED_IP = _side(field("SourceIp"), field("DestinationIp"))

AZURE_CHECKS = (
    (f"({_RECEIVED_TIME}) IS NULL", "DateTimeReceivedUtc is missing or not a Windows file time"),
    (missing_ip(_OBSERVED_IP), "SourceIp (DestinationIp for C2) is empty"),
    (bad_ip(_OBSERVED_IP), "SourceIp (DestinationIp for C2) is not an IP address"),
    (bad_port(_OBSERVED_PORT), "SourcePort (DestinationPort for C2) is not a port number"),
    (f"NOT {_C2} AND {bad_port(field('DestinationPort'))}", "DestinationPort is not a port number"),
    (bad_asn(_OBSERVED_ASN), "SourceIpAsnNumber (DestinationIpAsnNumber for C2) is not an AS number"),
)


def _recognise_azure(sample: Sample) -> bool:
    record = sample.first_json_object()
    return record is not None and "DataFeed" in record and "DateTimeReceivedUtc" in record


AZURE = Feed(
    name="microsoft-ctip-azure",
    provider=PROVIDER,
    summary="Microsoft CTIP JSON from Azure storage (one object per line): infected devices, C2 servers.",
    reader=JsonLines(),
    recognise=_recognise_azure,
    fields=AZURE_FIELDS,
    checks=AZURE_CHECKS,
    tlp="AMBER",
    priority=60,
)

FEEDS = (INFECTED, AZURE)
