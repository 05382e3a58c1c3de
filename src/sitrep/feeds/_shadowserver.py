"""What Shadowserver's report CSVs share: UTC timestamps, geo columns, detection, classification.

Shadowserver names each report file ``YYYY-MM-DD-<report>-<org>-<geo>.csv``; the header identifies the
layout too, so a renamed file is still recognised.  Column names follow Shadowserver's published
schema (the one IntelMQ's Shadowserver parser reads).  Every report is shared with its recipient
only, so rows are TLP:AMBER.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence

from sitrep.feeds.base import Sample
from sitrep.feeds.sql import (
    asn,
    bad_ip,
    bad_time,
    coalesce,
    col,
    country,
    extra,
    ip,
    lit,
    lower,
    missing_ip,
    port,
    text,
    ts,
)
from sitrep.taxonomy import BACKDOOR, VULNERABLE_SERVICE, EventClass

PROVIDER = "Shadowserver"
TLP = "AMBER"
# Columns nearly every IP-based report carries after its own ones (geo and sector of the host).
HOST_COLUMNS = ("ip", "port", "hostname", "asn", "geo", "region", "city", "naics", "sic", "sector")


def recognise(report: str, *columns: str, absent: tuple[str, ...] = ()) -> Callable[[Sample], bool]:
    """A recogniser: the file name names ``report`` (a regular expression such as ``scan6?_\\w+``),
    or the header has all ``columns`` and none of ``absent``."""
    named = re.compile(rf"(^|-)({report})-")

    def check(sample: Sample) -> bool:
        header = set(sample.csv_header())
        if not header or "timestamp" not in header:
            return False
        if named.search(sample.name.lower()):
            return True
        return all(c in header for c in columns) and not any(a in header for a in absent)

    return check


def first_row(sample: Sample) -> dict[str, str]:
    """The first data row of a sample as ``{column: value}`` (empty when there is none)."""
    rows = csv.reader(io.StringIO(sample.text))
    header = [c.strip().lower() for c in next(rows, [])]
    row = next(rows, [])
    return dict(zip(header, (v.strip() for v in row), strict=False))


def host_fields(prefix: str = "") -> dict[str, str]:
    """The observed host: ``{prefix}ip``, ``port``, ``asn``, ``geo`` and ``region`` as event fields."""
    return {
        "source_ip": ip(col(f"{prefix}ip")),
        "source_port": port(col(f"{prefix}port")),
        "source_asn": asn(col(f"{prefix}asn")),
        "source_geolocation_cc": country(col(f"{prefix}geo")),
        "source_geolocation_region": text(col(f"{prefix}region")),
    }


def row_checks(ip_column: str = "ip", *, ip_required: bool = True) -> tuple[tuple[str, str], ...]:
    """Rejects every report shares: a bad ``timestamp``, a bad IP, and (when required) no IP."""
    checks = [
        (bad_time(col("timestamp")), "timestamp is missing or not a date-time"),
        (bad_ip(col(ip_column)), f"{ip_column} is not an IP address"),
    ]
    if ip_required:
        checks.append((missing_ip(col(ip_column)), f"{ip_column} is empty"))
    return tuple(checks)


Rule = tuple[str, EventClass, str]


def classify(subject: str, rules: Sequence[Rule], default: tuple[EventClass, str]) -> dict[str, str]:
    """Classification fields from the first rule whose regular expression matches ``subject``.

    ``rules`` are ``(pattern, event class, identifier)``; rows no rule matches get ``default``
    (class, identifier).  ``subject`` is a SQL text expression, e.g. the lower-cased ``tag``.
    """
    value = coalesce(subject, lit(""))

    def case(pick: Callable[[EventClass, str], str]) -> str:
        whens = " ".join(f"WHEN regexp_matches({value}, {lit(p)}) THEN {lit(pick(c, i))}" for p, c, i in rules)
        return f"CASE {whens} ELSE {lit(pick(*default))} END"

    return {
        "classification_taxonomy": case(lambda c, _i: c.taxonomy),
        "classification_type": case(lambda c, _i: c.type),
        "classification_identifier": case(lambda _c, i: i),
    }


def cve(expr: str) -> str:
    """The first CVE identifier named in a text column (``exchange;cve-2021-26855``), upper case."""
    return f"nullif(upper(regexp_extract({lower(expr)}, 'cve-\\d{{4}}-\\d{{4,}}')), '')"


SCAN_COLUMNS = ("timestamp", "ip", "protocol", "port", "hostname", "tag", "asn", "geo", "region", "city")
SCAN_EXTRA = ("tag", "city", "naics", "sic", "sector")


def scan_fields(*extra_columns: str) -> dict[str, str]:
    """The mapping every ``scan_*`` report shares: a host found exposed or vulnerable.

    ``tag`` decides the class: a webshell or backdoor found on the host is
    ``intrusions/system-compromise`` (identifier ``webshell``/``backdoor``), anything else
    ``vulnerable/vulnerable-system`` (``vulnerable-service``), with the CVE the tag names, if any.
    ``hostname`` names the host unless it is an IP address.  ``extra_columns`` go to ``extra``.
    """
    tag = lower(col("tag"))
    return {
        "time_source": ts(col("timestamp")),
        **classify(
            tag,
            (("webshell", BACKDOOR, "webshell"), ("backdoor", BACKDOOR, "backdoor")),
            (VULNERABLE_SERVICE, VULNERABLE_SERVICE.identifier),
        ),
        **host_fields(),
        "source_fqdn": f"CASE WHEN ({ip(col('hostname'))}) IS NULL THEN {lower(col('hostname'))} END",
        "vulnerability_id": cve(col("tag")),
        "vulnerability_cve": cve(col("tag")),
        "extra": extra(*SCAN_EXTRA, *extra_columns),
    }
