"""CNVD shared XML (国家信息安全漏洞共享平台): ``<vulnerabilitys><vulnerability>…`` records.

Each record is a newly published vulnerability: RSIT ``vulnerable/vulnerable-system`` with identifier
``vulnerability``.  ``number`` (CNVD-YYYY-NNNNN) is the id, the first ``cves/cve/cveNumber`` the CVE,
``serverity`` (sic) the severity 高/中/低, and ``openTime`` — a date in China Standard Time — the
publication time.  A patch exists when ``formalWay`` (the vendor's remedy) is given and does not say
that there is none ("目前没有详细的解决方案", "厂商暂未发布…").  The affected-object type comes from the
keyword rules in :mod:`sitrep.feeds._vuln`, over the title and products first, then the description.
A dump without records (``<vulnerabilitys/>``) is recognised and read as no records.
"""

from __future__ import annotations

import re

from sitrep.feeds import _vuln
from sitrep.feeds.base import Feed, Sample, Xml
from sitrep.feeds.sql import bad_time, classified, coalesce, col, extra, lit, text, ts
from sitrep.taxonomy import VULNERABILITY

PATHS = (
    "number",
    "cves/cve/cveNumber",
    "title",
    "serverity",
    "products/product",
    "isEvent",
    "submitTime",
    "openTime",
    "discovererName",
    "referenceLink",
    "formalWay",
    "description",
    "patchName",
    "patchDescription",
)

# CNVD publishes in Beijing time; a bare openTime date is midnight there.
ZONE = "Asia/Shanghai"
# formalWay wording that says no vendor fix exists yet.
NO_PATCH = r"暂未|尚未|没有|未发布|无(补丁|修复)|no (patch|fix|solution)"

_NUMBER = text(col("number"))
_SEVERITY = (
    f"CASE WHEN {text(col('serverity'))} IN ('高', '中', '低') THEN {text(col('serverity'))} "
    f"WHEN lower({text(col('serverity'))}) = 'high' THEN '高' "
    f"WHEN lower({text(col('serverity'))}) = 'medium' THEN '中' "
    f"WHEN lower({text(col('serverity'))}) = 'low' THEN '低' END"
)
_FIX = text(col("formalWay"))
_ROOT = re.compile(r"<vulnerabilitys?\b")
# A dump of a day without new vulnerabilities: the root element and nothing in it.
_EMPTY = re.compile(r"^\s*(<\?xml[^>]*\?>\s*)?(<!--.*?-->\s*)*<vulnerabilitys\s*(/>|>\s*</vulnerabilitys>)\s*$", re.S)


def _recognise(sample: Sample) -> bool:
    if _EMPTY.match(sample.text):
        return True
    return _ROOT.search(sample.text) is not None and "<number>CNVD-" in sample.text


FEED = Feed(
    name="cnvd",
    provider="CNVD",
    summary="CNVD shared XML (<vulnerabilitys>): newly published vulnerabilities with severity.",
    reader=Xml(record="vulnerability", paths=PATHS),
    recognise=_recognise,
    columns=PATHS,
    fields={
        "time_source": ts(col("openTime"), ZONE),
        **classified(VULNERABILITY),
        "vulnerability_id": f"upper({_NUMBER})",
        # The XML reader joins repeated values with ';': the first is the CVE the record names.
        "vulnerability_cve": f"upper(nullif(trim(split_part({col('cves/cve/cveNumber')}, ';', 1)), ''))",
        "vulnerability_severity": _SEVERITY,
        "vulnerability_patched": (
            f"coalesce({_FIX} IS NOT NULL AND NOT regexp_matches({_FIX}, {lit('(?i)' + NO_PATCH)}), false)"
        ),
        "vulnerability_object_type": coalesce(
            _vuln.classify(f"concat_ws(' ', {col('title')}, {col('products/product')})"),
            _vuln.classify(coalesce(col("description"), "''")),
            lit(_vuln.DEFAULT_OBJECT_TYPE),
        ),
        "extra": extra("title", "products/product", "submitTime", "isEvent", "referenceLink", "patchName"),
    },
    checks=(
        (
            f"NOT coalesce(regexp_matches({_NUMBER}, '^(?i)CNVD-(C-)?\\d{{4}}-\\d+$'), false)",
            "number is missing or not a CNVD id",
        ),
        (bad_time(col("openTime"), ZONE), "openTime is missing or not a date"),
        (f"({_SEVERITY}) IS NULL", "serverity is not 高, 中 or 低"),
    ),
    priority=60,
)
