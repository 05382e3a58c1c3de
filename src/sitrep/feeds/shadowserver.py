"""Every Shadowserver report type, read through one table derived from Shadowserver's own schema.

Shadowserver describes its reports in a machine-readable schema (the ``intelmq.json`` of its
``report_schema`` repository, which IntelMQ downloads): for each report the file-name key
(``scan_ics``), the constant classification, the required columns, and the event field each optional
column maps to with a named conversion (``validate_ip``, ``convert_http_host_and_url``…).  Sitrep ships
a table derived from it (``shadowserver_reports.json``, written by ``tools/shadowserver_table.py``) and
turns each entry into a :class:`~sitrep.feeds.base.Feed` here, so there is one mechanism and no module
per report.  ``[feeds] shadowserver_schema`` in ``sitrep.toml`` names a newer schema file downloaded
from Shadowserver instead (:func:`reports_from_schema` reads it the same way).

* Recognition (:func:`identify`): by Shadowserver's file-name convention
  (``2024-07-04-scan_ics-123-org-asn.csv``, also inside ``.gz``/``.zip``), else by the header.  Many
  reports share a header; the IPv4/IPv6 twins are told apart by the address in the first row, and the
  others only by the name, so such a file is refused with the candidates named rather than guessed.
* Mapping: the columns that map onto an event column fill it (with the schema's conversion); every
  other column goes to ``extra`` under its own name.  A column the file lacks reads as NULL: reports
  change their columns over the years, and only the required ones make a file unreadable.
* Classification: the schema's constants, the identifier from a column where the schema takes it from
  one (the sinkhole ``infection``), the Exchange report's classes from its ``tag``, and the refinements
  of :data:`REFINEMENTS` (Sitrep's own, documented in docs/feeds.md).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sitrep.feeds.base import Csv, Feed, Sample
from sitrep.feeds.sql import (
    asn,
    bad_asn,
    bad_port,
    bad_time,
    coalesce,
    col,
    country,
    ip,
    lit,
    lower,
    port,
    text,
    ts,
)
from sitrep.taxonomy import BACKDOOR, DEFACEMENT, EventClass

PROVIDER = "Shadowserver"
# Reports go to their recipient only.
TLP = "AMBER"
BUILTIN_TABLE = Path(__file__).with_name("shadowserver_reports.json")


class SchemaError(Exception):
    """A Shadowserver schema file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class ColumnMapping:
    """One column → event field mapping of the schema: IntelMQ's field name, the column, the conversion."""

    target: str
    column: str
    conversion: str | None = None


@dataclass(frozen=True)
class Report:
    """One Shadowserver report type, as the schema describes it."""

    key: str
    title: str
    url: str
    taxonomy: str | None
    type: str | None
    identifier: str | None
    required: tuple[str, ...]
    columns: tuple[str, ...]
    mappings: tuple[ColumnMapping, ...]
    # Columns mapped onto an event column that the schema also maps to a field Sitrep has no column
    # for (a blocklist's ``ip`` may be a network, IntelMQ's source.network): kept in ``extra`` as well.
    kept: tuple[str, ...] = ()

    @property
    def feed_name(self) -> str:
        return "shadowserver-" + self.key.replace("_", "-")

    @property
    def ipv6(self) -> bool:
        """The IPv6 twin of a report (``scan6_ssl``, ``event6_sinkhole``, ``compromised_website6``)."""
        return re.search(r"(^|_)(scan|event|population)6_|6$", self.key) is not None


# IntelMQ fields that have an event column (see lake.schema), and how each conversion reads a column.
_IP_TARGETS = ("source.ip", "destination.ip")
_PORT_TARGETS = ("source.port", "destination.port")
_COLUMN_OF = {
    "time.source": "time_source",
    "source.ip": "source_ip",
    "source.port": "source_port",
    "source.asn": "source_asn",
    "source.fqdn": "source_fqdn",
    "source.url": "source_url",
    "source.geolocation.cc": "source_geolocation_cc",
    "source.geolocation.region": "source_geolocation_region",
    "destination.ip": "destination_ip",
    "destination.port": "destination_port",
    "malware.name": "malware_name",
    "classification.taxonomy": "classification_taxonomy",
    "classification.type": "classification_type",
    "classification.identifier": "classification_identifier",
    # Scan reports name the CVE a host is vulnerable to in ``tag`` (IntelMQ: extract_cve_from_tag).
    "product.vulnerabilities": "vulnerability_cve",
}
# The values Shadowserver writes for "none" (IntelMQ's validate_to_none).
_NONE_VALUES = ("0", "unknown")


# Sitrep's refinements of the schema's class, by report: the compromised-website reports put every
# hacked site in one class; the report counts defaced and backdoored sites apart, and the row's tag and
# category say which a site is.  (subject SQL, ((pattern, class, identifier), ...)), first match wins.
def _compromised_site_rules() -> tuple[str, tuple[tuple[str, EventClass, str], ...]]:
    subject = f"concat_ws(';', {lower(col('tag'))}, {lower(col('category'))})"
    return subject, (
        ("webshell", BACKDOOR, "webshell"),
        ("backdoor", BACKDOOR, "backdoor"),
        ("deface", DEFACEMENT, DEFACEMENT.identifier),
    )


REFINEMENTS: Mapping[str, Callable[[], tuple[str, tuple[tuple[str, EventClass, str], ...]]]] = {
    "compromised_website": _compromised_site_rules,
    "compromised_website6": _compromised_site_rules,
}


# ---------------------------------------------------------------------------------------------- table


def reports_from_schema(schema: Mapping[str, Any], orders: Mapping[str, Any] | None = None) -> tuple[Report, ...]:
    """Reports from Shadowserver's schema in IntelMQ's layout (``intelmq.json``; ``orders`` is the
    ``reports.json`` beside it, whose column lists give the published column order)."""
    reports = []
    for entry_key, entry in schema.items():
        if entry_key.startswith("_"):
            continue
        try:
            key = entry["file_name"]
            constants = entry.get("constant_fields", {})
            required_fields = entry.get("required_fields", [])
            fields = [*required_fields, *entry.get("optional_fields", [])]
            seen = list(dict.fromkeys(f[1] for f in fields))
            order = list((orders or {}).get(key, {}).get("fields", []))
            columns = [*order, *(c for c in seen if c not in order)]
            mappings = tuple(
                ColumnMapping(f[0], f[1], f[2] if len(f) > 2 else None) for f in fields if f[0] in _COLUMN_OF
            )
            consumed = {m.column for m in mappings if _consumes(m)}
            elsewhere = (f[1] for f in fields if f[0] not in _COLUMN_OF and not f[0].startswith("extra."))
            kept = tuple(dict.fromkeys(c for c in elsewhere if c in consumed))
            reports.append(
                Report(
                    key=key,
                    title=entry.get("feed_name", key),
                    url=entry.get("url", ""),
                    taxonomy=constants.get("classification.taxonomy"),
                    type=constants.get("classification.type"),
                    identifier=constants.get("classification.identifier"),
                    required=tuple(dict.fromkeys(f[1] for f in required_fields)),
                    columns=tuple(columns),
                    mappings=mappings,
                    kept=kept,
                )
            )
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            raise SchemaError(f"report {entry_key!r} is not in Shadowserver's schema layout ({exc!r})") from None
    return tuple(sorted(reports, key=lambda r: r.key))


def table_json(reports: Iterable[Report]) -> dict[str, Any]:
    """The built-in table (``shadowserver_reports.json``) for ``reports``."""
    return {
        "reports": {
            r.key: {
                "title": r.title,
                "url": r.url,
                "class": [r.taxonomy, r.type, r.identifier],
                "required": list(r.required),
                "columns": list(r.columns),
                "mappings": [[m.target, m.column, m.conversion] for m in r.mappings],
            }
            | ({"kept": list(r.kept)} if r.kept else {})
            for r in reports
        }
    }


def _reports_from_table(data: Mapping[str, Any]) -> tuple[Report, ...]:
    return tuple(
        Report(
            key=key,
            title=entry["title"],
            url=entry["url"],
            taxonomy=entry["class"][0],
            type=entry["class"][1],
            identifier=entry["class"][2],
            required=tuple(entry["required"]),
            columns=tuple(entry["columns"]),
            mappings=tuple(ColumnMapping(*m) for m in entry["mappings"]),
            kept=tuple(entry.get("kept", ())),
        )
        for key, entry in data["reports"].items()
    )


@cache
def _builtin() -> tuple[Report, ...]:
    return _reports_from_table(json.loads(BUILTIN_TABLE.read_text(encoding="utf-8")))


def load_reports(schema_path: Path | None = None) -> tuple[Report, ...]:
    """The report table: the built-in one, or the reports of a Shadowserver schema file."""
    if schema_path is None:
        return _builtin()
    try:
        data = json.loads(schema_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeError, ValueError) as exc:
        raise SchemaError(f"{schema_path}: cannot read a Shadowserver schema: {exc}") from None
    if not isinstance(data, dict):
        raise SchemaError(f"{schema_path}: a Shadowserver schema is a JSON object of reports")
    try:
        reports = reports_from_schema(data)
    except SchemaError as exc:
        raise SchemaError(f"{schema_path}: {exc}") from None
    if not reports:
        raise SchemaError(f"{schema_path}: no reports in this Shadowserver schema")
    return reports


# -------------------------------------------------------------------------------------------- mapping


def _none_lower(column: str) -> str:
    """A column's text in lower case, NULL when empty or one of the values Shadowserver writes for
    "none" (IntelMQ's validate_to_none, for names that are kept in lower case)."""
    value = f"nullif(lower(trim({col(column)})), '')"
    for none in _NONE_VALUES:
        value = f"nullif({value}, {lit(none)})"
    return value


def _address(column: str) -> str:
    # IntelMQ's validate_ip: 0.0.0.0 and networks are no address.
    return f"nullif({ip(col(column))}, '0.0.0.0')"


def _hostname(column: str) -> str:
    """A host name (IntelMQ's validate_fqdn): lower case, dot-separated labels, not an IP address."""
    value = f"rtrim(lower(trim({col(column)})), '.')"
    return (
        f"CASE WHEN regexp_full_match({value}, '[a-z0-9_-]+(\\.[a-z0-9_-]+)+') "
        f"AND ({ip(col(column))}) IS NULL THEN {value} END"
    )


def _url(report: Report, column: str) -> str:
    """IntelMQ's convert_http_host_and_url: a report that splits a URL into host and path is joined
    again (``application`` gives the scheme).  A value that is already an absolute URL is kept, and a
    bare path without a host is no URL."""
    whole = text(col(column))
    absolute = f"CASE WHEN regexp_matches({whole}, '^[A-Za-z][A-Za-z0-9+.-]*://') THEN {whole} END"
    host = "cc_dns" if "cc_dns" in report.columns else "http_host" if "http_host" in report.columns else None
    path = "url" if "url" in report.columns else "http_url" if "http_url" in report.columns else None
    if host is None or path is None:
        return whole
    # The path column may hold the whole request line ("GET /x HTTP/1.1"): keep the path only.
    clean = f"regexp_replace(regexp_replace({text(col(path))}, '^[^/]*', ''), '\\s.*$', '')"
    application = lower(col("application"))
    scheme = (
        f"CASE WHEN {application} IN ('http', 'https') THEN {application} ELSE 'http' END"
        if "application" in report.columns
        else "'http'"
    )
    return (
        f"coalesce({absolute}, CASE WHEN {text(col(host))} IS NOT NULL AND {text(col(path))} IS NOT NULL "
        f"THEN {scheme} || '://' || {text(col(host))} || {clean} END)"
    )


def _cve(column: str) -> str:
    return f"nullif(upper(regexp_extract({col(column)}, '(?i)cve-\\d{{4}}-\\d{{4,}}')), '')"


def _value(report: Report, m: ColumnMapping) -> str:
    """The SQL of one mapping's value."""
    target = m.target
    if target == "time.source":
        return ts(col(m.column))
    if target in _IP_TARGETS:
        return _address(m.column)
    if target in _PORT_TARGETS:
        return port(col(m.column))
    if target == "source.asn":
        return asn(col(m.column))
    if target == "source.fqdn":
        return _hostname(m.column)
    if target == "source.url":
        return _url(report, m.column) if m.conversion == "convert_http_host_and_url" else text(col(m.column))
    if target == "source.geolocation.cc":
        return country(col(m.column))
    if target == "product.vulnerabilities":
        return _cve(m.column)
    if target in ("malware.name", "classification.identifier"):
        return _none_lower(m.column)
    return text(col(m.column))


# IntelMQ's scan_exchange_* conversions: the tag says whether the server carries a webshell.  (IntelMQ
# gives the vulnerable servers type infected-system under taxonomy vulnerable, which is no RSIT pair:
# Sitrep uses vulnerable-system, so they are never counted as infected hosts.)
_EXCHANGE = {
    "scan_exchange_taxonomy": ("intrusions", "vulnerable"),
    "scan_exchange_type": ("system-compromise", "vulnerable-system"),
    "scan_exchange_identifier": ("exchange-server-webshell", "vulnerable-exchange-server"),
}


def _classification(report: Report) -> dict[str, str]:
    """The three classification columns: constants, a column's value, or the tag-dependent classes."""
    fields = {
        "classification_taxonomy": lit(report.taxonomy),
        "classification_type": lit(report.type),
        "classification_identifier": lit(report.identifier),
    }
    for m in report.mappings:
        name = _COLUMN_OF[m.target]
        if not name.startswith("classification_"):
            continue
        if m.conversion in _EXCHANGE:
            webshell, other = _EXCHANGE[m.conversion]
            tag = lower(col(m.column))
            fields[name] = f"CASE WHEN {tag} = 'exchange;webshell' THEN {lit(webshell)} ELSE {lit(other)} END"
        elif fields[name] == "NULL":
            fields[name] = _value(report, m)
        else:
            fields[name] = coalesce(_value(report, m), fields[name])
    if report.key in REFINEMENTS:
        subject, rules = REFINEMENTS[report.key]()
        for name, pick in (
            ("classification_taxonomy", lambda c, _i: c.taxonomy),
            ("classification_type", lambda c, _i: c.type),
            ("classification_identifier", lambda _c, i: i),
        ):
            whens = " ".join(
                f"WHEN regexp_matches(coalesce({subject}, ''), {lit(p)}) THEN {lit(pick(c, i))}" for p, c, i in rules
            )
            fields[name] = f"CASE {whens} ELSE {fields[name]} END"
    return fields


def _checks(report: Report, fields: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """Rejects: a bad time, a required IP that is not an address, and a mapped port or AS number that
    is not one.  (An optional address that is none, such as a garbled sinkhole address, reads as no
    address, as IntelMQ's validate_ip has it: the row's host is still an observation.)  Each condition
    is written over the field's own expression, so the ingest reads the parsed value instead of parsing
    again (see ``ingest._reusing_values``)."""
    checks: list[tuple[str, str]] = []
    for m in report.mappings:
        value = _value(report, m)
        if m.target == "time.source":
            checks.append((bad_time(col(m.column)), f"{m.column} is missing or not a date-time"))
        elif m.target in _IP_TARGETS and m.column in report.required:
            raw = text(col(m.column))
            checks.append(
                (
                    f"(({value}) IS NULL AND {raw} IS NOT NULL AND {raw} <> '0.0.0.0' AND NOT contains({raw}, '/'))",
                    f"{m.column} is not an IP address",
                )
            )
        elif m.target in _PORT_TARGETS:
            checks.append((bad_port(col(m.column)), f"{m.column} is not a port number"))
        elif m.target == "source.asn":
            checks.append((bad_asn(col(m.column)), f"{m.column} is not an AS number"))
    return tuple(dict.fromkeys(checks))


def _consumes(m: ColumnMapping) -> bool:
    """Whether the mapping's event column holds the column's value, so ``extra`` need not: not so for
    the text columns that only decide the class or name a CVE (a scan's ``tag``), which IntelMQ keeps."""
    return m.target != "product.vulnerabilities" and not m.target.startswith("classification.")


def feed_of(report: Report) -> Feed:
    """The feed format of one report."""
    fields: dict[str, str] = {}
    for m in report.mappings:
        name = _COLUMN_OF[m.target]
        if name.startswith("classification_"):
            continue
        value = _value(report, m)
        # Two columns for one field (rare): the first that has a value.
        fields[name] = coalesce(fields[name], value) if name in fields else value
    fields |= _classification(report)
    # Every column that fills no event column is kept in ``extra`` under its own name (see _consumes).
    consumed = {m.column for m in report.mappings if _consumes(m)} - set(report.kept)
    return Feed(
        name=report.feed_name,
        provider=PROVIDER,
        summary=f"Shadowserver {report.title} report ({report.key}).",
        reader=Csv(),
        fields=fields,
        recognise=lambda sample: False,  # the family recognises its members (identify)
        columns=report.columns,
        required=report.required,
        checks=_checks(report, fields),
        extra_columns=tuple(c for c in report.columns if c not in consumed),
        keeps_unknown_columns=True,
        tlp=TLP,
        priority=40,
        requires_observable=False,
    )


# ---------------------------------------------------------------------------------------- recognition

# Shadowserver's file names: an optional date, the report key, then the recipient's details.
_FILE_NAME = re.compile(r"^(?:\d{4}-\d{2}-\d{2}-)?([a-z0-9_]+)(?:-[^/]*)?\.(?:csv|txt)(?:\.gz)?$", re.IGNORECASE)


def named_report(file_name: str) -> str | None:
    """The report key a file's name gives by Shadowserver's convention (``2024-07-04-scan_ics-….csv``:
    ``scan_ics``), or None; whether Sitrep knows that report is not checked."""
    named = _FILE_NAME.match(Path(file_name).name)
    return named.group(1).lower() if named else None


def _plausible(header: set[str], report: set[str]) -> bool:
    """Could the header be an older or newer one of the report: most of its columns, few others."""
    return len(header & report) >= 0.6 * len(report) and len(header - report) <= max(1, len(header) // 10)


class Ambiguous(Exception):
    """A header several reports share, and no file name to decide."""


@dataclass(frozen=True)
class Family:
    """Shadowserver's reports as one family of formats (see :func:`identify`)."""

    reports: tuple[Report, ...]
    feeds: tuple[Feed, ...]

    def identify(self, sample: Sample) -> Feed | None:
        """The report format of a sample, None when it is no Shadowserver report; raises
        :class:`Ambiguous` when the header fits several reports and the name does not decide."""
        report = identify(sample, self.reports)
        if report is None:
            return None
        return self.feeds[self.reports.index(report)]


def family(schema_path: Path | None = None) -> Family:
    """The family of the built-in table, or of a Shadowserver schema file (:class:`SchemaError`)."""
    if schema_path is None:
        return _family(None, 0)
    try:
        modified = schema_path.stat().st_mtime_ns
    except OSError as exc:
        raise SchemaError(f"{schema_path}: cannot read a Shadowserver schema: {exc.strerror}") from None
    return _family(schema_path, modified)


@cache
def _family(schema_path: Path | None, _mtime: int) -> Family:
    reports = load_reports(schema_path)
    return Family(reports, tuple(feed_of(r) for r in reports))


def identify(sample: Sample, reports: tuple[Report, ...]) -> Report | None:
    """Which report a file is: named by its file name, else by its header (see the module docstring)."""
    header = sample.csv_header()
    if "timestamp" not in header:
        return None
    columns = set(header)
    by_key = {r.key: r for r in reports}
    named = named_report(sample.name)
    if named in by_key:
        report = by_key[named]
        if set(report.required) <= columns or len(columns & set(report.columns)) * 2 >= len(columns):
            return report
    # By header: the report whose columns differ least from the file's (an older or newer header lacks
    # or adds a few).  Near misses are ties: a header that fits two reports almost equally is refused.
    scored = [
        (len(columns ^ set(r.columns)), r)
        for r in reports
        if set(r.required) <= columns and _plausible(columns, set(r.columns))
    ]
    if not scored:
        return None
    best = min(distance for distance, _ in scored)
    tied = [r for distance, r in scored if distance <= (best + 1 if best else 0)]
    if len(tied) > 1:
        tied = _same_address_family(sample, tied)
    if len(tied) == 1:
        return tied[0]
    names = ", ".join(r.key for r in tied)
    raise Ambiguous(
        f"the header fits several Shadowserver reports ({names}); Shadowserver's file name "
        "(YYYY-MM-DD-<report>-….csv) or --format shadowserver-<report> decides which"
    )


def _same_address_family(sample: Sample, tied: list[Report]) -> list[Report]:
    """Of IPv4/IPv6 twins, the one whose address family the first data row has (IPv4 without rows)."""
    address_columns = [m.column for r in tied for m in r.mappings if m.target == "source.ip"]
    row = _first_row(sample)
    value = next((row[c] for c in address_columns if row.get(c)), "")
    v6 = ":" in value
    matching = [r for r in tied if r.ipv6 == v6]
    return matching or tied


def _first_row(sample: Sample) -> dict[str, str]:
    rows = csv.reader(io.StringIO(sample.text))
    header = [c.strip().lower() for c in next(rows, [])]
    try:
        row = next(rows, [])
    except csv.Error:
        return {}
    return dict(zip(header, (v.strip() for v in row), strict=False))
