"""Small builders of the SQL column expressions feed modules declare.

They keep feed modules declarative and the SQL in one place: quoting, timestamp parsing, IP and port
validation.  Each returns a DuckDB SQL expression (a string) over a file's raw VARCHAR columns.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from sitrep.taxonomy import CVSS_FLOOR, SEVERITIES, EventClass

_OCTET = r"(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4_BODY = _OCTET + r"(\." + _OCTET + "){3}"
_IPV4 = f"^{_IPV4_BODY}$"
# RFC 4291 text forms (lower case): eight groups, one ``::`` elision, or an IPv4 tail.  RE2 has no
# look-ahead, so every place the elision can sit is spelled out.
_H = "[0-9a-f]{1,4}"
_IPV6 = (
    "^("
    + "|".join(
        (
            f"({_H}:){{7}}{_H}",
            f"({_H}:){{1,7}}:",
            f"({_H}:){{1,6}}:{_H}",
            *(f"({_H}:){{1,{6 - n}}}(:{_H}){{1,{n + 1}}}" for n in range(1, 6)),
            f":((:{_H}){{1,7}}|:)",
            # An IPv4 tail (``::ffff:192.0.2.1``); group counts before it are checked loosely.
            f"(({_H}:){{6}}|({_H}(:{_H}){{0,4}})?::({_H}:){{0,4}}){_IPV4_BODY}",
        )
    )
    + ")$"
)


# The time the file was written (its modification time, or a zip member's date) as a TIMESTAMPTZ
# column every file has: for feeds whose rows carry no time of their own (a plain list of URLs).
FILE_TIME = "__file_time"


def classified(event_class: EventClass, identifier: str | None = None) -> dict[str, str]:
    """The three classification columns of an RSIT class, for a feed's ``fields``; ``identifier`` is
    an SQL expression overriding the class's own identifier."""
    return {
        "classification_taxonomy": lit(event_class.taxonomy),
        "classification_type": lit(event_class.type),
        "classification_identifier": identifier or lit(event_class.identifier),
    }


def classified_as(class_text: str) -> dict[str, str]:
    """The three classification columns from an SQL expression giving ``taxonomy/type/identifier``, for
    feeds whose rules pick a whole class per row."""
    return {
        "classification_taxonomy": f"split_part({class_text}, '/', 1)",
        "classification_type": f"split_part({class_text}, '/', 2)",
        "classification_identifier": f"split_part({class_text}, '/', 3)",
    }


def col(name: str) -> str:
    """A raw column, quoted as an identifier."""
    return '"' + name.replace('"', '""') + '"'


def lit(value: str | None) -> str:
    """A string literal (or NULL)."""
    if value is None:
        return "NULL"
    return "'" + value.replace("'", "''") + "'"


def field(key: str, source: str = "__json") -> str:
    """A top-level key of a JSON record as text (JSON lines and JSON record readers)."""
    return f"nullif(trim(json_extract_string({source}, {lit('$.' + _json_key(key))})), '')"


def path(json_path: str, source: str = "__json") -> str:
    """A value at a JSON path (``$.a.b[0]``) of a JSON record, as text."""
    return f"nullif(trim(json_extract_string({source}, {lit(json_path)})), '')"


def _json_key(key: str) -> str:
    return '"' + key.replace('"', '\\"') + '"'


def text(expr: str) -> str:
    """Trimmed text, with empty strings as NULL."""
    return f"nullif(trim({expr}), '')"


def lower(expr: str) -> str:
    return f"lower({text(expr)})"


def ts(expr: str, zone: str = "UTC") -> str:
    """A timestamp as UTC.  Text with an offset or ``Z`` is taken as is; naive text is in ``zone``.

    Accepts ISO 8601 (``T`` or space), optional fractions, and plain dates.
    """
    if zone == "UTC":
        # The lake's connections run in UTC, so a naive text is read as UTC and an offset is honoured.
        # The cast itself skips surrounding spaces and gives NULL for an empty text: no trim needed.
        # Shadowserver's ``YYYY-MM-DD HH:MM:SS`` is parsed first, by a format that admits no offset:
        # that costs half of the zone-aware cast, which reads every other form.
        return (
            f"coalesce(make_timestamptz(epoch_us(try_strptime({expr}, '%Y-%m-%d %H:%M:%S'))), "
            f"try_cast({expr} AS TIMESTAMPTZ))"
        )
    value = text(expr)
    return (
        f"CASE WHEN regexp_matches({value}, '(Z|[+-]\\d\\d:?\\d\\d)$') "
        f"THEN try_cast({value} AS TIMESTAMPTZ) "
        f"ELSE timezone({lit(zone)}, try_cast({value} AS TIMESTAMP)) END"
    )


def epoch(expr: str) -> str:
    """Seconds since 1970 (as text) to a UTC timestamp."""
    return f"to_timestamp(try_cast({text(expr)} AS DOUBLE))"


def ip(expr: str) -> str:
    """A valid IPv4 or IPv6 address as text, else NULL."""
    value = text(expr)
    # Most values are clean IPv4 text: test that first, and trim or lower-case only the rest.
    return (
        f"CASE WHEN regexp_matches({expr}, '{_IPV4}') THEN {expr} "
        f"WHEN regexp_matches({value}, '{_IPV4}') THEN {value} "
        f"WHEN regexp_matches(lower({value}), '{_IPV6}') THEN lower({value}) END"
    )


def bad_ip(expr: str) -> str:
    """True when the column holds something that is not an IP address (a reject condition).

    The address test comes first: in a feed's checks it reads the mapped field (see
    ``ingest._reusing_values``) and settles most rows without trimming the text again.
    """
    return f"(({ip(expr)}) IS NULL AND {text(expr)} IS NOT NULL)"


def missing_ip(expr: str) -> str:
    """True when an IP column is empty (a reject condition): :func:`missing`, with the address test
    first for the same reason as in :func:`bad_ip`."""
    return f"(({ip(expr)}) IS NULL AND {text(expr)} IS NULL)"


def port(expr: str) -> str:
    """A TCP/UDP port (0–65535) written in decimal digits, else NULL (``1e3``, ``0x50``, ``80.0`` and
    ``+80`` are not ports, though a plain numeric cast would take them).  Most values are plain
    numbers: the cast's own text equals them, and only the rest go through the regex."""
    value = f"try_cast({expr} AS USMALLINT)"
    return (
        f"CAST(CASE WHEN CAST({value} AS VARCHAR) = {expr} THEN {value} "
        f"WHEN regexp_full_match({expr}, '\\s*[0-9]{{1,5}}\\s*') THEN {value} END AS INTEGER)"
    )


def bad_port(expr: str) -> str:
    """True when the column holds something that is not a port (a reject condition; empty is not bad)."""
    return f"(({port(expr)}) IS NULL AND {text(expr)} IS NOT NULL)"


def integer(expr: str) -> str:
    """An integer or NULL (numeric casts skip surrounding spaces themselves: no trim needed)."""
    return f"try_cast({expr} AS BIGINT)"


def number(expr: str) -> str:
    """A number or NULL (numeric casts skip surrounding spaces themselves: no trim needed)."""
    return f"try_cast({expr} AS DOUBLE)"


# What feeds write for an AS they do not know: no AS number, and no error either.
UNKNOWN_ASN = ("?", "-", "0", "unknown", "n/a", "na", "none")


def _asn_number(expr: str) -> str:
    """The number of ``4134``/``AS4134`` text (0 to 4294967295) as UINTEGER, else NULL.  The digits test
    comes first: most values are plain numbers, and the prefixed form needs a second regex."""
    return (
        f"CASE WHEN regexp_full_match({expr}, '\\s*[0-9]{{1,10}}\\s*') THEN try_cast({expr} AS UINTEGER) "
        f"ELSE try_cast(regexp_extract({expr}, '^\\s*(?i:AS)([0-9]{{1,10}})\\s*$', 1) AS UINTEGER) END"
    )


def asn(expr: str) -> str:
    """An AS number (1–4294967295) written ``4134``, ``AS4134`` or ``as4134``, else NULL.  AS0 (which
    Shadowserver writes for "none") and the markers of :data:`UNKNOWN_ASN` are NULL too."""
    return f"CAST(nullif({_asn_number(expr)}, 0) AS BIGINT)"


def bad_asn(expr: str) -> str:
    """True when the column holds something that is not an AS number, AS0 nor a marker of an unknown AS
    (a reject condition)."""
    unknown = ", ".join(lit(u) for u in UNKNOWN_ASN)
    return (
        f"(({asn(expr)}) IS NULL AND {text(expr)} IS NOT NULL AND lower({text(expr)}) NOT IN ({unknown}) "
        f"AND ({_asn_number(expr)}) IS NULL)"
    )


def country(expr: str) -> str:
    """A two-letter country code, upper case, else NULL."""
    # Most values are clean upper-case codes: test that first, and trim or upper-case only the rest.
    return (
        f"CASE WHEN regexp_matches({expr}, '^[A-Z]{{2}}$') THEN {expr} "
        f"WHEN regexp_matches(upper({text(expr)}), '^[A-Z]{{2}}$') THEN upper({text(expr)}) END"
    )


def coalesce(*exprs: str) -> str:
    return "coalesce(" + ", ".join(exprs) + ")"


def bad_time(expr: str, zone: str = "UTC") -> str:
    """True when the column is empty or not a timestamp (a reject condition)."""
    return f"(({ts(expr, zone)}) IS NULL)"


def missing(expr: str) -> str:
    """True when the column is empty (a reject condition)."""
    return f"({text(expr)} IS NULL)"


def severity_from_cvss(expr: str) -> str:
    """高/中/低 from a CVSS base score, by ``taxonomy.CVSS_FLOOR`` (≥7 high, ≥4 medium)."""
    score = number(expr)
    whens = " ".join(f"WHEN {score} >= {CVSS_FLOOR[s]} THEN {lit(s)}" for s in SEVERITIES)
    return f"CASE {whens} END"


def extra(*names: str, reader_json: bool = False) -> str:
    """A JSON object of raw columns (or, with ``reader_json``, top-level keys of a JSON record) that have
    no event column; empty values are left out (see :func:`extra_of`)."""
    return extra_of({name: field(name) if reader_json else text(col(name)) for name in names})


def extra_columns(columns: Iterable[str], frequent: Mapping[str, Iterable[str]] | None = None) -> str:
    """``extra`` from raw columns kept under their own names, values as the file has them, empty ones left
    out.  ``frequent`` names values a column is known to repeat (the ingest reads them off a file's first
    rows): a row with one of them gets its member as a literal, so most rows of a large report need no
    JSON encoding at all.  The result is the same text with or without ``frequent``."""
    frequent = frequent or {}
    members = []
    for name in columns:
        value = col(name)
        key = "," + json.dumps(name) + ":"
        encoded = f"CASE WHEN nullif({value}, '') IS NOT NULL THEN {lit(key)} || to_json({value}) END"
        known = [v for v in frequent.get(name, ()) if v]
        if known:
            whens = " ".join(f"WHEN {lit(v)} THEN {lit(key + json.dumps(v, ensure_ascii=False))}" for v in known)
            encoded = f"CASE {value} {whens} ELSE {encoded} END"
        members.append(encoded)
    if not members:
        return "NULL"
    # Every member starts with a comma: the first one is cut off.
    return f"nullif('{{' || substr(concat({', '.join(members)}), 2) || '}}', '{{}}')"


def extra_of(values: Mapping[str, str]) -> str:
    """A JSON object of named SQL text expressions; NULL ones are left out, and with none the object is
    NULL.  Built by string concatenation (``concat_ws`` skips NULLs), which is several times cheaper per
    row than building a map or struct and serialising it."""
    if not values:
        return "NULL"
    members = [
        f"CASE WHEN ({value}) IS NOT NULL THEN {lit(json.dumps(name) + ':')} || CAST(to_json({value}) AS VARCHAR) END"
        for name, value in values.items()
    ]
    return f"nullif('{{' || concat_ws(',', {', '.join(members)}) || '}}', '{{}}')"
