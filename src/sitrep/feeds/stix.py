"""STIX 2.1 bundles (OASIS, STIX Version 2.1: ``{"type": "bundle", "id": …, "objects": […]}``).

Three kinds of objects are observations; one event is made per address, URL or domain they name:

* ``indicator`` (pattern_type ``stix``): one event per equality comparison ``ipv4-addr:value = '…'``,
  ``ipv6-addr:value``, ``url:value``, ``domain-name:value`` in its ``pattern``, whatever joins them
  (``OR``, ``AND``, ``FOLLOWEDBY``); time ``valid_from``, else ``created``;
* ``observed-data``: one event per SCO of those four types, in its (deprecated) ``objects`` or among
  the bundle's objects its ``object_refs`` name; time ``first_observed``, else ``created``;
* ``sighting``: one event per comparison of the indicator its ``sighting_of_ref`` names (it must be in
  the bundle); time ``first_seen``, else ``created``.

Classification from the object's ``indicator_types`` and ``labels`` (a sighting: its indicator's), first
match: a term with ``phishing`` → ``fraud/phishing``; ``c2``, ``c&c``, ``command-and-control`` →
``malicious-code/c2-server``; ``malware-distribution``, ``malware-download``, ``exploit-kit`` →
``malicious-code/malware-distribution``; ``botnet``, ``infected``, ``bot`` → ``malicious-code/
infected-system``; ``compromised`` → ``intrusions/system-compromise``; ``defacement`` →
``information-content-security/unauthorised-information-modification``; otherwise
``other/undetermined`` (identifier the first term, e.g. ``malicious-activity``).  An indicator typed
only ``benign`` is rejected.

TLP from marking definitions: the object's ``object_marking_refs`` (a sighting's, else its
indicator's), else the bundle's own ``object_marking_refs`` when a producer sets them; the TLP 1.0
marking-definition ids of the STIX 2.1 specification (white = CLEAR) and the TLP 2.0 ones of the
OASIS TLP 2.0 extension, or a marking definition in the bundle that says its TLP (``definition_type``
``tlp``, or the TLP 2.0 extension's ``tlp_2_0``).  The strictest label wins; without one, AMBER.
"""

from __future__ import annotations

import re

from sitrep.feeds.base import Feed, JsonQuery, JsonRecords, Sample
from sitrep.feeds.sql import classified_as, coalesce, lit, lower, path, text, ts
from sitrep.feeds.sql import ip as ip_of

# STIX 2.1 §7.2.1.4 (TLP 1.0) and the OASIS TLP 2.0 marking definitions.
TLP_MARKINGS = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "CLEAR",  # TLP:WHITE
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "GREEN",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "AMBER",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "RED",
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": "CLEAR",
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": "GREEN",
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": "AMBER",
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": "AMBER+STRICT",
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": "RED",
}
_RANK = {"CLEAR": 1, "GREEN": 2, "AMBER": 3, "AMBER+STRICT": 4, "RED": 5}
_TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
SCO_TYPES = ("ipv4-addr", "ipv6-addr", "url", "domain-name")

# An equality comparison on a value we map; the literal may hold \' and \\ escapes.  The object type is
# a whole name: ``x-custom-url:value`` is not ``url:value``.
_COMPARISON = r"(?:^|[^A-Za-z0-9_-])(ipv4-addr|ipv6-addr|url|domain-name):value\s*=\s*'((?:[^'\\]|\\.)*)'"

_STANDARD = " UNION ALL ".join(f"SELECT {lit(id_)} AS id, {lit(label)} AS label" for id_, label in TLP_MARKINGS.items())
_RANKS = " ".join(f"WHEN {lit(label)} THEN {rank}" for label, rank in _RANK.items())
_TLP_WORD = (
    "CASE upper(coalesce(json_extract_string(o, '$.definition.tlp'), "
    f"json_extract_string(o, '$.extensions.\"{_TLP2_EXTENSION}\".tlp_2_0'))) "
    "WHEN 'WHITE' THEN 'CLEAR' WHEN 'CLEAR' THEN 'CLEAR' WHEN 'GREEN' THEN 'GREEN' WHEN 'AMBER' THEN 'AMBER' "
    "WHEN 'AMBER+STRICT' THEN 'AMBER+STRICT' WHEN 'RED' THEN 'RED' END"
)


def _strictest(refs: str) -> str:
    """SQL: the strictest TLP label among marking-definition ids (a VARCHAR[]), from ``tlp_ids``."""
    return (
        f"(SELECT t.label FROM tlp_ids t WHERE list_contains({refs}, t.id) "
        f"ORDER BY CASE t.label {_RANKS} END DESC LIMIT 1)"
    )


_COMPARISONS = f"regexp_extract_all(json_extract_string(o, '$.pattern'), {lit(_COMPARISON)}, 0)"
_MARKS = "json_extract_string({0}, '$.object_marking_refs[*]')"

QUERY = f"""
WITH objs AS (
    SELECT unnest(l) AS o, unnest(range(1, len(l) + 1)) AS oi
    FROM (SELECT coalesce(json_extract(json, '$.objects[*]'), []) AS l FROM __document)
),
bundle AS (SELECT {_MARKS.format("json")} AS marks FROM __document),
tlp_ids AS (
    {_STANDARD}
    UNION ALL
    SELECT json_extract_string(o, '$.id'), {_TLP_WORD} FROM objs
    WHERE json_extract_string(o, '$.type') = 'marking-definition' AND {_TLP_WORD} IS NOT NULL
),
by_id AS (SELECT json_extract_string(o, '$.id') AS id, o FROM objs),
-- One row per mapped comparison of an indicator (one row with none when it has no such comparison).
indicator_rows AS (
    SELECT oi, o, o AS ind, unnest(CASE WHEN len(c) = 0 THEN [NULL] ELSE c END) AS comparison,
           unnest(range(1, greatest(len(c), 1) + 1)) AS ci
    FROM (SELECT oi, o, {_COMPARISONS} AS c FROM objs WHERE json_extract_string(o, '$.type') = 'indicator')
),
sighting_rows AS (
    SELECT s.oi, s.o, i.o AS ind, unnest(CASE WHEN len(c) = 0 THEN [NULL] ELSE c END) AS comparison,
           unnest(range(1, greatest(len(c), 1) + 1)) AS ci
    FROM (
        SELECT oi, o, CASE WHEN json_extract_string(o, '$.sighting_of_ref') IN (
                   SELECT id FROM by_id WHERE json_extract_string(o, '$.type') = 'indicator')
               THEN json_extract_string(o, '$.sighting_of_ref') END AS ref
        FROM objs WHERE json_extract_string(o, '$.type') = 'sighting'
    ) s
    LEFT JOIN (SELECT id, o, {_COMPARISONS} AS c FROM by_id) i ON i.id = s.ref
),
observed AS (
    SELECT oi, o, CASE WHEN json_type(o, '$.objects') = 'OBJECT' THEN CAST(json_extract(o, '$.objects.*') AS VARCHAR[])
                       ELSE json_extract_string(o, '$.object_refs[*]') END AS items
    FROM objs WHERE json_extract_string(o, '$.type') = 'observed-data'
),
observed_scos AS (
    SELECT oi, o, item, ii FROM (
        SELECT oi, o, unnest(coalesce(items, [])) AS item, unnest(range(1, len(coalesce(items, [])) + 1)) AS ii
        FROM observed
    )
),
observed_rows AS (
    -- An inline SCO is JSON; a reference is an id to look up among the bundle's objects.
    SELECT x.oi, x.o, x.ii AS ci,
           CASE WHEN json_valid(CAST(x.item AS VARCHAR)) AND json_type(CAST(x.item AS JSON)) = 'OBJECT'
                THEN CAST(x.item AS JSON) ELSE b.o END AS sco
    FROM (SELECT oi, o, ii, CAST(item AS VARCHAR) AS item FROM observed_scos) x
    LEFT JOIN by_id b ON b.id = x.item
),
observed_kept AS (
    SELECT oi, o, ci, sco FROM observed_rows
    WHERE json_extract_string(sco, '$.type') IN ({", ".join(lit(t) for t in SCO_TYPES)})
    UNION ALL
    -- observed-data with nothing we map: one row, rejected.
    SELECT oi, o, 1, NULL FROM observed o1 WHERE NOT EXISTS (
        SELECT 1 FROM observed_rows r WHERE r.oi = o1.oi
        AND json_extract_string(r.sco, '$.type') IN ({", ".join(lit(t) for t in SCO_TYPES)}))
),
records AS (
    SELECT oi, ci, o AS __json, ind AS __indicator,
           regexp_extract(comparison, {lit(_COMPARISON)}, 1) AS __kind,
           regexp_replace(regexp_extract(comparison, {lit(_COMPARISON)}, 2), '\\\\(.)', '\\1', 'g') AS __value,
           CASE WHEN lower(coalesce(json_extract_string(o, '$.pattern_type'), 'stix')) <> 'stix'
                THEN 'pattern_type is ' || json_extract_string(o, '$.pattern_type') || ', not stix'
                WHEN comparison IS NULL THEN 'pattern compares no ipv4-addr, ipv6-addr, url or domain-name value' END
               AS __reject
    FROM indicator_rows
    UNION ALL
    SELECT oi, ci, o, ind, regexp_extract(comparison, {lit(_COMPARISON)}, 1),
           regexp_replace(regexp_extract(comparison, {lit(_COMPARISON)}, 2), '\\\\(.)', '\\1', 'g'),
           CASE WHEN ind IS NULL THEN 'sighting_of_ref is not an indicator of the bundle'
                WHEN comparison IS NULL THEN 'its indicator compares no ipv4-addr, ipv6-addr, url or domain-name value'
           END
    FROM sighting_rows
    UNION ALL
    SELECT oi, ci, o, NULL, json_extract_string(sco, '$.type'), json_extract_string(sco, '$.value'),
           CASE WHEN sco IS NULL THEN 'observed-data holds no ipv4-addr, ipv6-addr, url or domain-name' END
    FROM observed_kept
)
SELECT row_number() OVER (ORDER BY oi, ci) AS __ordinal, __json, __indicator, __kind, __value, __reject,
       coalesce({_strictest(_MARKS.format("__json"))}, {_strictest(_MARKS.format("__indicator"))},
                {_strictest("(SELECT marks FROM bundle)")}) AS __tlp
FROM records
"""

_TYPE = "json_extract_string(__json, '$.type')"
# The terms that classify: the object's own, a sighting's indicator's.
_TERMS = (
    "list_transform(list_concat("
    "coalesce(json_extract_string(coalesce(__indicator, __json), '$.indicator_types[*]'), []), "
    "coalesce(json_extract_string(coalesce(__indicator, __json), '$.labels[*]'), [])), lambda t: lower(trim(t)))"
)
_RULES = (
    ("phish", "fraud/phishing/phishing"),
    ("^(c2|c&c|cnc)$|command-and-control|c2-server|botnet-c2", "malicious-code/c2-server/c2-server"),
    ("malware-distribution|malware-download|exploit-kit", "malicious-code/malware-distribution/malware-distribution"),
    ("^(botnet|bot|infected|infected-system)$", "malicious-code/infected-system/infected-system"),
    ("compromised", "intrusions/system-compromise/compromised"),
    ("defacement", "information-content-security/unauthorised-information-modification/defacement"),
)


def _class() -> str:
    whens = " ".join(
        f"WHEN len(list_filter({_TERMS}, lambda t: regexp_matches(t, {lit(pattern)}))) > 0 THEN {lit(value)}"
        for pattern, value in _RULES
    )
    return f"CASE {whens} ELSE 'other/undetermined/' || coalesce({_TERMS}[1], 'undetermined') END"


_CLASS = _class()
_VALUE = text("__value")

FIELDS = {
    "time_source": coalesce(
        ts(path("$.valid_from")),
        ts(path("$.first_observed")),
        ts(path("$.first_seen")),
        ts(path("$.created")),
    ),
    "time_observation": ts(path("$.modified")),
    **classified_as(_CLASS),
    "source_ip": f"CASE WHEN __kind IN ('ipv4-addr', 'ipv6-addr') THEN {ip_of(_VALUE)} END",
    "source_fqdn": f"CASE WHEN __kind = 'domain-name' THEN {lower(_VALUE)} END",
    "source_url": f"CASE WHEN __kind = 'url' THEN {_VALUE} END",
    "tlp": "__tlp",
    "extra": (
        "nullif(CAST(json_merge_patch('{}', json_object("
        f"'stix_id', {path('$.id')}, 'stix_type', {_TYPE}, 'name', {path('$.name', 'coalesce(__indicator, __json)')}, "
        f"'pattern', {path('$.pattern', 'coalesce(__indicator, __json)')}, "
        "'indicator_types', json_extract(coalesce(__indicator, __json), '$.indicator_types'), "
        "'labels', json_extract(coalesce(__indicator, __json), '$.labels'), "
        f"'sighting_of_ref', {path('$.sighting_of_ref')}, 'count', json_extract(__json, '$.count'))) "
        "AS VARCHAR), '{}')"
    ),
}

CHECKS = (
    ("coalesce(json_extract(__json, '$.revoked') = 'true'::JSON, false)", "revoked"),
    (
        "coalesce(json_extract_string(coalesce(__indicator, __json), '$.indicator_types[*]') = ['benign'], false)",
        "indicator_types says benign",
    ),
    (
        f"__kind IN ('ipv4-addr', 'ipv6-addr') AND ({ip_of(_VALUE)}) IS NULL",
        "value is not an IP address",
    ),
    (f"{_VALUE} IS NULL", "value is empty"),
)

_BUNDLE = re.compile(r'"type"\s*:\s*"bundle"')
_SPEC = re.compile(r'"spec_version"\s*:\s*"2\.1"|"type"\s*:\s*"(indicator|observed-data|sighting)"')


def _recognise(sample: Sample) -> bool:
    head = sample.text.lstrip()
    return head.startswith("{") and _BUNDLE.search(head[:4096]) is not None and _SPEC.search(head) is not None


FEED = Feed(
    name="stix",
    provider="STIX",
    summary="STIX 2.1 bundle: indicators (IP, URL, domain patterns), observed-data and sightings.",
    reader=JsonRecords(
        JsonQuery(QUERY, salvage="$.objects[*]"),
        layout="json->>'type' = 'bundle'",
        not_layout='not a STIX bundle: the document\'s "type" is not "bundle"',
    ),
    recognise=_recognise,
    fields=FIELDS,
    checks=CHECKS,
    tlp="AMBER",
    priority=60,
)
