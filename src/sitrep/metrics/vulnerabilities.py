"""New vulnerabilities: distinct vulnerabilities first published in the week.

A CNVD record and the CVE it names are one vulnerability (key: the CVE when there is one, else the CNVD
id).  High severity: any of its records is CNVD 高 or has a CVSS base score of 7.0 or more (medium
likewise); patched when any record says so; the affected-object type is its CNVD record's, else its NVD record's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import ibis
import ibis.expr.types as ir

from sitrep.metrics.model import VulnerabilityItem
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
        # The CNVD record's type when there is one (CNVD classifies the product), else the NVD record's:
        # one rule, so that counting the same records twice gives the same split.
        object_type=ibis.coalesce(
            r.vulnerability_object_type.max(where=r.vulnerability_id.upper().startswith("CNVD-")),
            r.vulnerability_object_type.max(),
        ),
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


# The longest name or product a list entry keeps (NVD descriptions run to paragraphs).
MAX_TEXT = 120


def _short(text: object) -> str | None:
    if not isinstance(text, str) or not text.strip():
        return None
    one = " ".join(text.split())
    if len(one) <= MAX_TEXT:
        return one
    cut = one[:MAX_TEXT].rsplit(" ", 1)[0] if " " in one[:MAX_TEXT] else one[:MAX_TEXT]
    return cut.rstrip(",;:.， ") + "…"


def _texts(extra: str | None) -> dict[str, Any]:
    try:
        found = json.loads(extra) if extra else {}
    except json.JSONDecodeError:
        return {}
    return found if isinstance(found, dict) else {}


def important(
    t: ir.Table, start: datetime, end: datetime, *, labels: Sequence[str], top: int
) -> list[VulnerabilityItem]:
    """The week's new high-severity vulnerabilities as section 4 lists them, highest score first.

    Only records labelled ``labels`` (unlabelled ones count as CLEAR) are read: an entry names a
    vulnerability, so a vulnerability known only from restricted records is left out of the list (it
    is still counted).  The name and product come from the CNVD record (``title``, ``products/product``
    in ``extra``), else the name from NVD's description.
    """
    new = first_published(t, start, end)
    new = new.filter(new.high)
    r = records(t, end)
    r = r.filter(r.tlp.isnull() | r.tlp.upper().isin(list(labels)))
    rows = r.semi_join(new, r.vkey == new.vkey).select(
        "vkey",
        "vulnerability_id",
        "vulnerability_cve",
        "vulnerability_score",
        "vulnerability_patched",
        "vulnerability_object_type",
        "extra",
    )
    by_key: dict[str, dict[str, Any]] = {}
    for row in sorted(rows.to_pyarrow().to_pylist(), key=lambda row: row["vulnerability_id"] or ""):
        item = by_key.setdefault(
            row["vkey"],
            {
                "cnvd": None,
                "cve": None,
                "name": None,
                "product": None,
                "score": None,
                "patched": False,
                "type": None,
                "description": None,
            },
        )
        texts = _texts(row["extra"])
        ident = (row["vulnerability_id"] or "").upper()
        if ident.startswith("CNVD-"):
            item["cnvd"] = item["cnvd"] or ident
            item["name"] = item["name"] or _short(texts.get("title"))
            item["product"] = item["product"] or _short(texts.get("products/product"))
            item["type"] = row["vulnerability_object_type"] or item["type"]
        item["cve"] = item["cve"] or row["vulnerability_cve"]
        item["description"] = item["description"] or _short(texts.get("description"))
        if row["vulnerability_score"] is not None:
            item["score"] = max(item["score"] or 0.0, row["vulnerability_score"])
        item["patched"] = item["patched"] or bool(row["vulnerability_patched"])
        item["type"] = item["type"] or row["vulnerability_object_type"]
    found = [
        VulnerabilityItem(
            key=key,
            cnvd=v["cnvd"],
            cve=v["cve"],
            name=v["name"] or v["description"],
            product=v["product"],
            score=v["score"],
            patched=v["patched"],
            object_type=v["type"],
            name_en=v["description"],
        )
        for key, v in by_key.items()
    ]
    found.sort(key=lambda v: (-(v.score or 0.0), v.key))
    return found[:top]
