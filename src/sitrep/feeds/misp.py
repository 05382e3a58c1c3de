"""MISP events in the MISP core format: an event export ``{"Event": {…}}`` or the REST search
response ``{"response": [{"Event": {…}}, …]}`` (https://github.com/MISP/misp-rfc, misp-core-format).

The records are the attributes that name something observable on the network, of the event itself
(``Event.Attribute``) and of its objects (``Event.Object[].Attribute``): types ``ip-src``, ``ip-dst``,
``ip-src|port``, ``ip-dst|port``, ``domain``, ``hostname``, ``domain|ip``, ``hostname|port``, ``url``,
``link`` and ``vulnerability`` (a CVE).  Hashes, file names, text and the other types describe rather
than locate, and are not read.  Each record carries its event (``__event``: uuid, info, date,
timestamps, tag names, the first ``Payload type`` value) and its object (``__object``: name, uuid,
meta-category).

Classification, first that applies (IntelMQ's MISP parser maps the ``ecsirt`` tags the same way):

1. an ``rsit:<taxonomy>="<type>"`` or ``ecsirt:<category>="<type>"`` tag on the attribute
   (``ecsirt`` names translated to RSIT: ``botnet-drone``/``malware``/``trojan``… →
   ``malicious-code/infected-system``, ``c&c`` → ``c2-server``, ``defacement`` →
   ``information-content-security/unauthorised-information-modification``, ``backdoor`` and
   ``compromised`` → ``intrusions/system-compromise``, ``vulnerable-service`` → ``vulnerable-system``);
2. type ``vulnerability`` → ``vulnerable/vulnerable-system`` (identifier ``vulnerability``);
3. such a tag on the event;
4. category ``Payload delivery`` → ``malicious-code/malware-distribution``;
5. category ``Network activity`` with a destination, host name or URL (``ip-dst``, ``domain``,
   ``hostname``, ``url``…) → ``malicious-code/c2-server`` (where the malware connects to);
6. otherwise ``other/undetermined``.

TLP from a ``tlp:*`` tag of the attribute, else of the event (``tlp:white`` is CLEAR; the strictest
when several are given), else AMBER.  Time: the attribute's ``first_seen``, else its ``timestamp``
(Unix seconds), else the event's ``date``, else its ``publish_timestamp``; the event's publication is
``time_observation``.  The malware is a ``misp-galaxy:malpedia`` cluster tag of the attribute or the
event, else the event's first ``Payload type`` attribute.
"""

from __future__ import annotations

import re

from sitrep.feeds.base import Feed, JsonQuery, JsonRecords, Sample
from sitrep.feeds.sql import bad_port, classified_as, coalesce, epoch, lit, lower, path, port, text, ts
from sitrep.feeds.sql import ip as ip_of

TYPES = (
    "ip-src",
    "ip-dst",
    "ip-src|port",
    "ip-dst|port",
    "domain",
    "hostname",
    "domain|ip",
    "hostname|port",
    "url",
    "link",
    "vulnerability",
)

_EVENT_CONTEXT = (
    "json_object('uuid', ev->>'uuid', 'info', ev->>'info', 'date', ev->>'date', 'timestamp', ev->>'timestamp', "
    "'publish_timestamp', ev->>'publish_timestamp', 'tags', json_extract_string(ev, '$.Tag[*].name'), "
    "'payload_type', list_filter(json_extract(ev, '$.Attribute[*]'), "
    "lambda a: json_extract_string(a, '$.category') = 'Payload type')[1]->>'value')"
)

# Events of either layout, then their attributes and their objects' attributes, in document order.
QUERY = f"""
WITH events AS (
    SELECT unnest(l) AS ev, unnest(range(1, len(l) + 1)) AS ei FROM (
        SELECT CASE WHEN json_type(json, '$.response') = 'ARRAY' THEN json_extract(json, '$.response[*].Event')
                    WHEN json_exists(json, '$.Event') THEN [json_extract(json, '$.Event')]
                    WHEN json_type(json) = 'ARRAY' THEN json_extract(json, '$[*].Event')
                    -- An attribute search: its attributes, without an event around them.
                    WHEN json_type(json, '$.response.Attribute') = 'ARRAY' THEN [json_extract(json, '$.response')]
                    ELSE [] END AS l
        FROM __document
    )
),
direct AS (
    SELECT ei, 0 AS oi, unnest(a) AS attr, unnest(range(1, len(a) + 1)) AS ai, CAST(NULL AS JSON) AS obj
    FROM (SELECT ei, coalesce(json_extract(ev, '$.Attribute[*]'), []) AS a FROM events)
),
objects AS (
    SELECT ei, unnest(o) AS obj, unnest(range(1, len(o) + 1)) AS oi
    FROM (SELECT ei, coalesce(json_extract(ev, '$.Object[*]'), []) AS o FROM events)
),
nested AS (
    SELECT ei, oi, unnest(a) AS attr, unnest(range(1, len(a) + 1)) AS ai, obj
    FROM (SELECT ei, oi, obj, coalesce(json_extract(obj, '$.Attribute[*]'), []) AS a FROM objects)
),
attributes AS (SELECT * FROM direct UNION ALL SELECT * FROM nested)
SELECT row_number() OVER (ORDER BY a.ei, a.oi, a.ai) AS __ordinal, a.attr AS __json,
       {_EVENT_CONTEXT} AS __event,
       CASE WHEN a.obj IS NOT NULL THEN json_object('name', a.obj->>'name', 'uuid', a.obj->>'uuid',
            'meta_category', a.obj->>'meta-category') END AS __object
FROM attributes a JOIN events e ON a.ei = e.ei
WHERE json_type(a.attr) IS DISTINCT FROM 'OBJECT'
   OR json_extract_string(a.attr, '$.type') IN ({", ".join(lit(t) for t in TYPES)})
"""

_TYPE = "json_extract_string(__json, '$.type')"
_CATEGORY = "json_extract_string(__json, '$.category')"
_VALUE = text("json_extract_string(__json, '$.value')")
_ATTRIBUTE_TAGS = "json_extract_string(__json, '$.Tag[*].name')"
_EVENT_TAGS = "json_extract_string(__event, '$.tags[*]')"

# The two halves of ``a|b`` values (an IPv6 address holds no ``|``).
_LEFT = f"nullif(trim(regexp_extract({_VALUE}, '^(.*)\\|[^|]*$', 1)), '')"
_RIGHT = f"nullif(trim(regexp_extract({_VALUE}, '\\|([^|]*)$', 1)), '')"

_IP_TEXT = (
    f"CASE WHEN {_TYPE} IN ('ip-src', 'ip-dst') THEN {_VALUE} "
    f"WHEN {_TYPE} IN ('ip-src|port', 'ip-dst|port') THEN {_LEFT} "
    f"WHEN {_TYPE} = 'domain|ip' THEN {_RIGHT} END"
)
_PORT_TEXT = f"CASE WHEN {_TYPE} IN ('ip-src|port', 'ip-dst|port', 'hostname|port') THEN {_RIGHT} END"
_FQDN_TEXT = (
    f"CASE WHEN {_TYPE} IN ('domain', 'hostname') THEN {_VALUE} "
    f"WHEN {_TYPE} IN ('domain|ip', 'hostname|port') THEN {_LEFT} END"
)
_CVE = f"CASE WHEN {_TYPE} = 'vulnerability' THEN upper({_VALUE}) END"

# ecsirt tag (lower case) → RSIT taxonomy/type/identifier.
ECSIRT: dict[str, str] = {
    **{
        f'ecsirt:malicious-code="{kind}"': f"malicious-code/infected-system/{kind}"
        for kind in ("virus", "worm", "trojan", "spyware", "dialer", "rootkit", "malware", "botnet-drone", "ransomware")
    },
    'ecsirt:malicious-code="malware-configuration"': "malicious-code/malware-configuration/malware-configuration",
    'ecsirt:malicious-code="c&c"': "malicious-code/c2-server/c2-server",
    'ecsirt:malicious-code="c2server"': "malicious-code/c2-server/c2-server",
    'ecsirt:intrusions="bot"': "malicious-code/infected-system/bot",
    'ecsirt:intrusions="defacement"': "information-content-security/unauthorised-information-modification/defacement",
    'ecsirt:intrusions="compromised"': "intrusions/system-compromise/compromised",
    'ecsirt:intrusions="backdoor"': "intrusions/system-compromise/backdoor",
    'ecsirt:vulnerable="vulnerable-service"': "vulnerable/vulnerable-system/vulnerable-service",
    'ecsirt:information-content-security="dropzone"': "other/other/dropzone",
    **{f'ecsirt:other="{kind}"': f"other/other/{kind}" for kind in ("blacklist", "unknown", "other")},
    # ecsirt names that are RSIT's own.
    **{
        f'ecsirt:{taxonomy}="{kind}"': f"{taxonomy}/{kind}/{kind}"
        for taxonomy, kinds in {
            "abusive-content": ("spam", "harmful-speech", "violence"),
            "information-gathering": ("scanner", "sniffing", "social-engineering"),
            "intrusion-attempts": ("ids-alert", "brute-force", "exploit"),
            "intrusions": (
                "privileged-account-compromise",
                "unprivileged-account-compromise",
                "application-compromise",
            ),
            "availability": ("dos", "ddos", "sabotage", "outage"),
            "information-content-security": (
                "unauthorised-information-access",
                "unauthorised-information-modification",
            ),
            "fraud": ("unauthorized-use-of-resources", "copyright", "masquerade", "phishing"),
            "test": ("test",),
        }.items()
        for kind in kinds
    },
}
# RSIT types whose identifier the report counts by (taxonomy.DEFACEMENT, taxonomy.BACKDOOR…).
_RSIT_IDENTIFIERS = {"unauthorised-information-modification": "defacement", "system-compromise": "compromised"}


def _tag_class(tags: str) -> str:
    """SQL: ``taxonomy/type/identifier`` of the first classifying tag in a list of tag names, or NULL."""
    ecsirt = " ".join(f"WHEN {lit(tag)} THEN {lit(value)}" for tag, value in ECSIRT.items())
    identifiers = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in _RSIT_IDENTIFIERS.items())
    rsit = r"^rsit:([a-z0-9-]+)=\"([a-z0-9-]+)\"$"
    tag = "lower(trim(t))"
    kind = f"regexp_extract({tag}, {lit(rsit)}, 2)"
    per_tag = (
        f"CASE WHEN regexp_matches({tag}, {lit(rsit)}) THEN "
        f"regexp_extract({tag}, {lit(rsit)}, 1) || '/' || {kind} || '/' || CASE {kind} {identifiers} ELSE {kind} END "
        f"ELSE CASE {tag} {ecsirt} END END"
    )
    return f"list_filter(list_transform({tags}, lambda t: {per_tag}), lambda c: c IS NOT NULL)[1]"


_DERIVED = (
    f"CASE WHEN {_TYPE} = 'vulnerability' THEN 'vulnerable/vulnerable-system/vulnerability' "
    f"WHEN {_CATEGORY} = 'Payload delivery' THEN 'malicious-code/malware-distribution/malware-distribution' "
    f"WHEN {_CATEGORY} = 'Network activity' AND {_TYPE} IN "
    "('ip-dst', 'ip-dst|port', 'domain', 'hostname', 'domain|ip', 'hostname|port', 'url') "
    "THEN 'malicious-code/c2-server/c2-server' "
    "ELSE 'other/undetermined/undetermined' END"
)
# A CVE is a vulnerability whatever its event is about: the type comes before the event's tags.
_CLASS = coalesce(
    _tag_class(_ATTRIBUTE_TAGS),
    f"CASE WHEN {_TYPE} = 'vulnerability' THEN 'vulnerable/vulnerable-system/vulnerability' END",
    _tag_class(_EVENT_TAGS),
    _DERIVED,
)

_TLP_TAGS = ("red", "amber+strict", "amber", "green", "clear", "white")


def _tlp(tags: str) -> str:
    """The strictest ``tlp:*`` label among tag names, as TLP 2.0 (NULL when there is none)."""
    tlp_tags = f"list_transform({tags}, lambda t: lower(trim(t)))"
    whens = " ".join(
        f"WHEN list_contains({tlp_tags}, {lit('tlp:' + label)}) THEN "
        f"{lit('CLEAR' if label == 'white' else label.upper())}"
        for label in _TLP_TAGS
    )
    return f"CASE {whens} END"


_MALPEDIA = r"^misp-galaxy:malpedia=\"(.+)\"$"


def _malware(tags: str) -> str:
    found = f"list_filter({tags}, lambda t: regexp_matches(t, {lit(_MALPEDIA)}))[1]"
    return f"regexp_extract({found}, {lit(_MALPEDIA)}, 1)"


def _positive_epoch(expr: str) -> str:
    """Unix seconds as a timestamp; MISP writes 0 (or nothing) for "never"."""
    return f"CASE WHEN try_cast({expr} AS DOUBLE) > 0 THEN {epoch(expr)} END"


def _event(key: str) -> str:
    return path(f"$.{key}", "__event")


_EXTRA = (
    "nullif(CAST(json_merge_patch('{}', json_object("
    f"'event_uuid', {_event('uuid')}, 'event_info', {_event('info')}, "
    f"'attribute_uuid', {path('$.uuid')}, 'category', {_CATEGORY}, 'type', {_TYPE}, "
    f"'comment', {path('$.comment')}, 'to_ids', json_extract(__json, '$.to_ids'), "
    f"'object_name', {path('$.name', '__object')}, 'object_relation', {path('$.object_relation')})) "
    "AS VARCHAR), '{}')"
)

FIELDS = {
    "time_source": coalesce(
        ts(path("$.first_seen")),
        _positive_epoch(path("$.timestamp")),
        ts(_event("date")),
        _positive_epoch(_event("publish_timestamp")),
    ),
    # publish_timestamp is 0 for an event never published.
    "time_observation": _positive_epoch(_event("publish_timestamp")),
    **classified_as(_CLASS),
    "source_ip": ip_of(_IP_TEXT),
    "source_port": port(_PORT_TEXT),
    "source_fqdn": lower(_FQDN_TEXT),
    "source_url": f"CASE WHEN {_TYPE} IN ('url', 'link') THEN {_VALUE} END",
    "malware_name": lower(coalesce(_malware(_ATTRIBUTE_TAGS), _malware(_EVENT_TAGS), _event("payload_type"))),
    "vulnerability_id": _CVE,
    "vulnerability_cve": _CVE,
    "tlp": coalesce(_tlp(_ATTRIBUTE_TAGS), _tlp(_EVENT_TAGS)),
    "extra": _EXTRA,
}

CHECKS = (
    ("coalesce(json_extract(__json, '$.deleted') = 'true'::JSON, false)", "attribute is deleted in MISP"),
    (f"{_VALUE} IS NULL", "value is empty"),
    (f"({_IP_TEXT}) IS NOT NULL AND ({ip_of(_IP_TEXT)}) IS NULL", "value is not an IP address for its type"),
    (f"{_TYPE} LIKE '%|%' AND ({_RIGHT} IS NULL OR {_LEFT} IS NULL)", "value lacks the second half its type has"),
    (bad_port(_PORT_TEXT), "port is not a port"),
    (
        f"{_TYPE} = 'vulnerability' AND NOT regexp_matches({_VALUE}, '^(?i)CVE-\\d{{4}}-\\d{{4,}}$')",
        "vulnerability is not a CVE id",
    ),
    (
        f"{_TYPE} = 'link' AND {_CATEGORY} IN ('External analysis', 'Internal reference', 'Support Tool')",
        "link to an analysis or reference, not an observation",
    ),
)

# An event, a search response, a list of events (PyMISP's search) or an attribute search response.
_HEAD = re.compile(
    r'^\s*(\{\s*("Event"\s*:\s*\{|"response"\s*:\s*(\[\s*(\{\s*"Event"\s*:|\])|\{\s*"Attribute"\s*:\s*\[))'
    r'|\[\s*\{\s*"Event"\s*:\s*\{)'
)


def _recognise(sample: Sample) -> bool:
    return _HEAD.match(sample.text) is not None


FEED = Feed(
    name="misp",
    provider="MISP",
    summary="MISP event JSON (an event export or a REST search response): network attributes as events.",
    reader=JsonRecords(
        JsonQuery(QUERY, salvage="$.response[*]"),
        layout=(
            "json_type(json, '$.Event') = 'OBJECT' OR json_type(json, '$.response') = 'ARRAY' "
            "OR json_type(json, '$.response.Attribute') = 'ARRAY' "
            "OR (json_type(json) = 'ARRAY' "
            "AND (json_array_length(json) = 0 OR json_type(json, '$[0].Event') = 'OBJECT'))"
        ),
        not_layout=(
            'not MISP JSON: neither an event ({"Event": …}), a list of events, a search response '
            '({"response": […]}) nor an attribute search ({"response": {"Attribute": […]}})'
        ),
    ),
    recognise=_recognise,
    fields=FIELDS,
    checks=CHECKS,
    tlp="AMBER",
    priority=60,
)
