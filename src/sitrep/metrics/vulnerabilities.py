"""New vulnerabilities: distinct vulnerabilities first published in the week.

A CNVD record and the CVE it names are one vulnerability (key: the CVE when there is one, else the CNVD
id).  High severity: any of its records is CNVD 高 or has a CVSS base score of 7.0 or more (medium
likewise); patched when any record says so; the affected-object type is taken from one of its records.
"""

from __future__ import annotations

from datetime import datetime

import ibis
import ibis.expr.types as ir

from sitrep.metrics.source import in_window
from sitrep.taxonomy import CVSS_FLOOR, VULNERABILITY


def records(t: ir.Table, end: datetime) -> ir.Table:
    """Vulnerability records published before ``end``, with their vulnerability key."""
    vuln = t.filter(
        (t.classification_taxonomy == VULNERABILITY.taxonomy)
        & (t.classification_identifier == VULNERABILITY.identifier)
        & (t.time_source < end)
    )
    return vuln.mutate(vkey=vuln.vulnerability_cve.fill_null(vuln.vulnerability_id).upper())


def first_published(t: ir.Table, start: datetime, end: datetime) -> ir.Table:
    """One row per vulnerability first published in ``[start, end)``: key, severity, type, patched."""
    r = records(t, end)
    high = (r.vulnerability_severity == "高") | (r.vulnerability_score >= CVSS_FLOOR["高"])
    medium = (r.vulnerability_severity == "中") | (r.vulnerability_score >= CVSS_FLOOR["中"])
    grouped = r.group_by("vkey").aggregate(
        first=r.time_source.min(),
        high=high.fill_null(False).any(),
        medium=medium.fill_null(False).any(),
        object_type=r.vulnerability_object_type.arbitrary(),
        patched=r.vulnerability_patched.fill_null(False).any(),
    )
    new = grouped.filter((grouped["first"] >= start) & (grouped["first"] < end))
    return new.mutate(severity=ibis.cases((new.high, "高"), (new.medium, "中"), else_="低"))


def behind(t: ir.Table, start: datetime, end: datetime, *, high_only: bool = False) -> ir.Table:
    """The records (events) behind the week's new vulnerabilities."""
    new = first_published(t, start, end)
    if high_only:
        new = new.filter(new.high)
    r = records(t, end)
    r = r.filter(in_window(r, start, end))
    return r.semi_join(new, r.vkey == new.vkey)
