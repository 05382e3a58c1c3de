"""Generic CSV: any delimited file, mapped to event columns by a TOML mapping file.

Never recognised automatically (a CSV says nothing about what its columns mean): it is used only as
``sitrep ingest FILE --format generic-csv --mapping MAP.toml``.  :func:`feed_from_mapping` turns the
mapping file into a :class:`~sitrep.feeds.base.Feed` at run time; the reference is in
``docs/feeds.md``.  This module deliberately has no module-level ``FEED``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sitrep.feeds.base import Csv, Feed
from sitrep.feeds.sql import asn, bad_ip, col, country, extra, ip, lit, lower, number, port, text, ts
from sitrep.lake.schema import MAPPED, MAPPED_NAMES
from sitrep.taxonomy import TLP

NAME = "generic-csv"
TOP_KEYS = ("name", "provider", "delimiter", "timezone", "header", "names", "comment", "quote", "tlp")
TABLES = ("constants", "columns")
SPEC_KEYS = ("column", "format")
_TIMES = tuple(c.name for c in MAPPED if c.sql == "TIMESTAMPTZ")
# Columns a constant may fill: text ones (a constant IP or time would make every row the same host).
CONSTANT_COLUMNS = tuple(
    c.name for c in MAPPED if c.sql == "VARCHAR" and c.name not in ("source_ip", "destination_ip", "extra")
)
_TRUE = ("true", "yes", "y", "1", "是")
_FALSE = ("false", "no", "n", "0", "否")


class MappingError(ValueError):
    """The mapping file is unreadable or names an unknown key or event column."""


def feed_from_mapping(path: Path) -> Feed:
    """The generic-CSV feed a mapping file describes; raise :class:`MappingError` naming what is wrong."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeError, tomllib.TOMLDecodeError) as exc:
        raise MappingError(f"{path}: cannot read mapping file: {exc}") from None
    where = str(path)
    _no_unknown(data, (*TOP_KEYS, *TABLES), where, "key")
    zone = _zone(data.get("timezone", "UTC"), where)
    constants = _table(data, "constants", where)
    columns = _table(data, "columns", where)
    _no_unknown(constants, CONSTANT_COLUMNS, where, "constant (event column)", "constants.")
    _no_unknown(columns, MAPPED_NAMES, where, "event column", "columns.")
    both = sorted(set(constants) & set(columns))
    if both:
        raise MappingError(f"{where}: {both[0]!r} is both a constant and a column")
    if "time_source" not in columns:
        raise MappingError(f"{where}: columns.time_source is required (the CSV column with the event time)")
    for needed in ("classification_taxonomy", "classification_type"):
        if needed not in constants and needed not in columns:
            raise MappingError(f"{where}: {needed} is required, as a constant or a column")

    fields: dict[str, str] = {
        name: lit(_string(value, where, f"constants.{name}")) for name, value in constants.items()
    }
    if "tlp" in constants:
        fields["tlp"] = lit(_tlp(constants["tlp"], where, "constants.tlp"))
    csv_columns: list[str] = []
    checks: list[tuple[str, str]] = []
    for name, spec in columns.items():
        if name == "extra":
            kept = _string_list(spec, where, "columns.extra")
            csv_columns += kept
            fields["extra"] = extra(*kept)
            continue
        source, fmt = _spec(spec, where, name)
        csv_columns.append(source)
        fields[name] = _expression(name, col(source), fmt, zone)
        if name == "time_source":
            checks.append((f"(({fields[name]}) IS NULL)", f"{source} is missing or not a date-time"))
        elif name in ("source_ip", "destination_ip"):
            checks.append((bad_ip(col(source)), f"{source} is not an IP address"))
    names = tuple(_string_list(data.get("names", []), where, "names"))
    header = data.get("header", True)
    if not isinstance(header, bool):
        raise MappingError(f"{where}: header must be true or false")
    if not header and not names:
        raise MappingError(f"{where}: header = false needs names = [...] (the CSV's column names)")
    comment = data.get("comment")
    return Feed(
        name=_string(data.get("name", NAME), where, "name"),
        provider=_string(data.get("provider", "generic"), where, "provider"),
        summary=f"Generic CSV mapped by {path.name}.",
        reader=Csv(
            delimiter=_string(data.get("delimiter", ","), where, "delimiter"),
            header=header,
            names=names,
            comment=_string(comment, where, "comment") if comment is not None else None,
            quote=_string(data.get("quote", '"'), where, "quote"),
        ),
        recognise=lambda _sample: False,
        fields=fields,
        columns=tuple(dict.fromkeys(csv_columns)),
        required=tuple(dict.fromkeys(csv_columns)),
        checks=tuple(checks),
        tlp=_tlp(data.get("tlp", "CLEAR"), where, "tlp"),
    )


def _expression(name: str, source: str, fmt: str | None, zone: str) -> str:
    """The SQL expression for one event column read from the CSV column ``source``."""
    if name in _TIMES:
        if fmt is None:
            return ts(source, zone)
        parsed = f"try_strptime({text(source)}, {lit(fmt)})"
        # A format with an offset (%z) yields an absolute time; otherwise the time is in ``zone``.
        return parsed if "%z" in fmt or "%Z" in fmt else f"timezone({lit(zone)}, {parsed})"
    if fmt is not None:
        raise MappingError(f"columns.{name}: format applies to time columns only")
    if name in ("source_ip", "destination_ip"):
        return ip(source)
    if name in ("source_port", "destination_port"):
        return port(source)
    if name == "source_asn":
        return asn(source)
    if name == "source_geolocation_cc":
        return country(source)
    if name == "vulnerability_score":
        return number(source)
    if name == "vulnerability_patched":
        value = f"lower({text(source)})"
        return (
            f"CASE WHEN {value} IN ({', '.join(map(lit, _TRUE))}) THEN true "
            f"WHEN {value} IN ({', '.join(map(lit, _FALSE))}) THEN false END"
        )
    if name == "tlp":
        return f"replace(upper(replace({text(source)}, 'TLP:', '')), 'WHITE', 'CLEAR')"
    if name in ("malware_name", "source_fqdn", "classification_taxonomy", "classification_type"):
        return lower(source)
    return text(source)


def _no_unknown(table: dict[str, Any], known: tuple[str, ...], where: str, what: str, prefix: str = "") -> None:
    for key in table:
        if key not in known:
            raise MappingError(f"{where}: unknown {what} '{prefix}{key}'; known: {', '.join(known)}")


def _table(data: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise MappingError(f"{where}: [{key}] must be a table")
    return value


def _spec(spec: Any, where: str, name: str) -> tuple[str, str | None]:
    """A column spec: ``"CSV column"`` or ``{ column = "CSV column", format = "%d/%m/%Y %H:%M" }``."""
    if isinstance(spec, str):
        return spec, None
    if not isinstance(spec, dict):
        raise MappingError(f"{where}: columns.{name} must be a CSV column name or {{ column = ..., format = ... }}")
    _no_unknown(spec, SPEC_KEYS, where, "key", f"columns.{name}.")
    if "column" not in spec:
        raise MappingError(f'{where}: columns.{name} needs column = "..."')
    fmt = spec.get("format")
    return (
        _string(spec["column"], where, f"columns.{name}.column"),
        None if fmt is None else _string(fmt, where, f"columns.{name}.format"),
    )


def _string(value: Any, where: str, key: str) -> str:
    if not isinstance(value, str) or not value:
        raise MappingError(f"{where}: {key} must be a non-empty string")
    return value


def _string_list(value: Any, where: str, key: str) -> list[str]:
    if not isinstance(value, list):
        raise MappingError(f"{where}: {key} must be a list of CSV column names")
    return [_string(v, where, key) for v in value]


def _zone(value: Any, where: str) -> str:
    try:
        ZoneInfo(_string(value, where, "timezone"))
    except (ZoneInfoNotFoundError, ValueError):
        raise MappingError(f"{where}: unknown timezone {value!r}") from None
    return value


def _tlp(value: Any, where: str, key: str) -> str:
    try:
        return TLP.parse(_string(value, where, key)).value
    except ValueError:
        raise MappingError(f"{where}: {key} {value!r} is not a TLP label") from None
