"""IntelMQ JSON lines: the events an IntelMQ file output bot writes, one flat JSON object per line.

Keys are IntelMQ's dotted field names (``time.source``, ``source.ip``, ``classification.taxonomy``…).
Every field that has an event column is mapped to it (:data:`sitrep.lake.schema.INTELMQ_NAMES`), and
the classification is kept as IntelMQ wrote it; names from before IntelMQ 3.0 (``malicious code``,
type ``malware``, ``defacement``, ``backdoor``…) are translated to the RSIT ones, keeping the old type
as the identifier where the report needs it (defacement, backdoor).  An event without
``classification.taxonomy`` gets the one IntelMQ's taxonomy expert derives from its type
(:data:`sitrep.taxonomy.TAXONOMY_OF_TYPE`), one without a type ``undetermined``, as the expert does.
``extra.*`` keys go into ``extra`` without their prefix; other IntelMQ fields without a column
(``feed.name`` of the original feed, ``source.as_name``…) go into ``extra`` under their own names;
``raw`` (a base64 copy of the source line) is dropped.  An event without ``time.source`` takes
``time.observation`` (DESIGN §4).  IntelMQ events rarely carry ``tlp``; those that do not are AMBER,
since a CERT's own pipeline is not public by default.
"""

from __future__ import annotations

from sitrep.feeds._rsit import taxonomy_sql
from sitrep.feeds.base import Feed, JsonLines, Sample
from sitrep.feeds.sql import (
    asn,
    bad_asn,
    bad_ip,
    bad_port,
    bad_time,
    coalesce,
    country,
    field,
    ip,
    lit,
    lower,
    port,
    ts,
)
from sitrep.lake.schema import INTELMQ_NAMES, MAPPED_NAMES
from sitrep.taxonomy import NO_TYPE, UNLISTED_TYPE_TAXONOMY

# Classification types from before IntelMQ 3.0 → the RSIT type (IntelMQ's harmonization documents the
# renames, and the 2.x types 3.0 dropped).  An old type takes the taxonomy of its new type, since
# some moved (defacement: intrusions → information-content-security).  ``malware`` stays Sitrep's reading
# of old files: an infected host, as the feeds that wrote it meant.
OLD_TYPES: dict[str, str] = {
    "malware": "infected-system",
    "botnet drone": "infected-system",
    "infected system": "infected-system",
    "ransomware": "infected-system",
    "c&c": "c2-server",
    "c2server": "c2-server",
    "malware configuration": "malware-configuration",
    "dga domain": "dga-domain",
    "ids alert": "ids-alert",
    "compromised": "system-compromise",
    "backdoor": "system-compromise",
    "defacement": "unauthorised-information-modification",
    "leak": "data-leak",
    "vulnerable service": "vulnerable-system",
    "vulnerable-service": "vulnerable-system",
    "vulnerable client": "vulnerable-system",
    "vulnerable-client": "vulnerable-system",
    "unknown": "undetermined",
}
# Old types whose name is what the report counts by (taxonomy.DEFACEMENT, taxonomy.BACKDOOR).
OLD_TYPE_IDENTIFIERS = ("defacement", "backdoor")

_TLP = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")
# Event columns filled from a field of the same IntelMQ name (the columns that need more are below).
_KEYS = {column: key for column, key in INTELMQ_NAMES.items() if column in MAPPED_NAMES and column != "extra"}


def _key(column: str) -> str:
    return field(_KEYS[column])


_OLD_TYPE = f"lower({_key('classification_type')})"
# Old taxonomies differ from RSIT's only by spaces ("malicious code" → "malicious-code").
_GIVEN_TAXONOMY = f"replace(lower({_key('classification_taxonomy')}), ' ', '-')"
_TYPE = (
    f"CASE {_OLD_TYPE} {' '.join(f'WHEN {lit(old)} THEN {lit(new)}' for old, new in OLD_TYPES.items())} "
    f"ELSE coalesce({_OLD_TYPE}, {lit(NO_TYPE)}) END"
)
# The taxonomy expert's rules: a given taxonomy stays (unless the type is an old one), a missing one
# follows from the type; an event with neither is other/undetermined.
_TAXONOMY = (
    f"CASE WHEN {_OLD_TYPE} IN ({', '.join(map(lit, OLD_TYPES))}) THEN {taxonomy_sql(_TYPE)} "
    f"WHEN {_GIVEN_TAXONOMY} IS NOT NULL THEN {_GIVEN_TAXONOMY} "
    f"WHEN {_OLD_TYPE} IS NOT NULL THEN {taxonomy_sql(_OLD_TYPE)} "
    f"ELSE {lit(UNLISTED_TYPE_TAXONOMY)} END"
)


def _tlp() -> str:
    label = f"replace(upper(replace(trim({_key('tlp')}), 'TLP:', '')), 'WHITE', 'CLEAR')"
    return f"CASE WHEN {label} IN ({', '.join(lit(t) for t in _TLP)}) THEN {label} END"


def _extra() -> str:
    mapped = ", ".join(lit(k) for k in (*_KEYS.values(), "raw"))
    keys = f"list_filter(json_keys(__json), lambda k: k NOT IN ({mapped}))"
    entries = (
        f"list_transform({keys}, lambda k: {{"
        "'k': CASE WHEN starts_with(k, 'extra.') THEN substr(k, 7) ELSE k END, "
        "'v': json_extract(__json, '$.\"' || replace(k, '\"', '\\\"') || '\"')})"
    )
    return f"CASE WHEN len({keys}) > 0 THEN CAST(to_json(map_from_entries({entries})) AS VARCHAR) END"


def _recognise(sample: Sample) -> bool:
    record = sample.first_json_object()
    # IntelMQ's own dotted names; an event may lack any one of them (a type without its taxonomy).
    keys = ("classification.taxonomy", "classification.type", "time.observation", "time.source")
    return record is not None and any(k in record for k in keys)


FEED = Feed(
    name="intelmq",
    provider="IntelMQ",
    summary="IntelMQ JSON lines (file output): events with IntelMQ field names.",
    reader=JsonLines(),
    recognise=_recognise,
    fields={
        "time_source": coalesce(ts(_key("time_source")), ts(_key("time_observation"))),
        "time_observation": ts(_key("time_observation")),
        "classification_taxonomy": _TAXONOMY,
        "classification_type": _TYPE,
        "classification_identifier": coalesce(
            _key("classification_identifier"),
            f"CASE WHEN {_OLD_TYPE} IN ({', '.join(map(lit, OLD_TYPE_IDENTIFIERS))}) THEN {_OLD_TYPE} END",
        ),
        "source_ip": ip(_key("source_ip")),
        "source_port": port(_key("source_port")),
        "source_asn": asn(_key("source_asn")),
        "source_fqdn": lower(_key("source_fqdn")),
        "source_url": _key("source_url"),
        "source_geolocation_cc": country(_key("source_geolocation_cc")),
        "source_geolocation_region": _key("source_geolocation_region"),
        "destination_ip": ip(_key("destination_ip")),
        "destination_port": port(_key("destination_port")),
        "malware_name": lower(_key("malware_name")),
        "event_description_target": _key("event_description_target"),
        "tlp": _tlp(),
        "extra": _extra(),
    },
    checks=(
        (
            f"({bad_time(_key('time_source'))} AND {bad_time(_key('time_observation'))})",
            "time.source/time.observation is missing or not a date-time",
        ),
        (bad_ip(_key("source_ip")), "source.ip is not an IP address"),
        (bad_port(_key("source_port")), "source.port is not a port number"),
        (bad_asn(_key("source_asn")), "source.asn is not an AS number"),
        (bad_ip(_key("destination_ip")), "destination.ip is not an IP address"),
        (bad_port(_key("destination_port")), "destination.port is not a port number"),
        (f"{_key('tlp')} IS NOT NULL AND ({_tlp()}) IS NULL", "tlp is not a TLP label"),
    ),
    tlp="AMBER",
    priority=60,
)
