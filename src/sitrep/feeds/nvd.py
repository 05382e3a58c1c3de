"""NVD CVE JSON 2.0: the CVE API response (and the yearly data feeds, same layout) and bare records.

``nvd-cve`` reads ``{"resultsPerPage": …, "vulnerabilities": [{"cve": {…}}]}``; ``nvd-cve-record``
reads one ``cve`` object on its own, or a JSON array of them.  Each CVE is RSIT
``vulnerable/vulnerable-system`` (identifier ``vulnerability``) published at ``published`` (UTC).
The score is the first CVSS base score of v3.1, v4.0, v3.0, v2 (in that order); the severity
高/中/低 follows from it (≥7 高, ≥4 中).  A patch exists when a reference is tagged ``Patch``.  The
object type comes from the keyword rules (:mod:`sitrep.feeds._vuln`) over the CPE names, then the
English description, then the CPE part (``h`` hardware or an ``o`` named ``…_firmware`` → 网络设备,
``o`` → 操作系统), else 应用程序; only the CPEs NVD marks ``"vulnerable": true`` count, not the platforms
a configuration says the product runs on.  A page without CVEs (``"vulnerabilities": []``) is read as
no records.
CVEs NVD marks ``Rejected`` are rejected: they are not vulnerabilities.
"""

from __future__ import annotations

import re

from sitrep.feeds import _vuln
from sitrep.feeds.base import Feed, JsonRecords, Sample
from sitrep.feeds.sql import bad_time, classified, coalesce, field, lit, path, severity_from_cvss, ts
from sitrep.taxonomy import VULNERABILITY

PROVIDER = "NVD"

_ID = field("id")
_SCORE = coalesce(
    *(
        path(f"$.metrics.{metric}[0].cvssData.baseScore")
        for metric in ("cvssMetricV31", "cvssMetricV40", "cvssMetricV30", "cvssMetricV2")
    )
)
# Only the CPEs NVD marks vulnerable: a configuration also lists what the product runs on or with
# ("running on Windows", the router a firmware belongs to) with ``"vulnerable": false``.
_CRITERIA = (
    "list_transform(list_filter(json_extract(__json, '$.configurations[*].nodes[*].cpeMatch[*]'), "
    "lambda m: json_extract_string(m, '$.vulnerable') = 'true'), lambda m: json_extract_string(m, '$.criteria'))"
)
# cpe:2.3:a:vendor:product:… → "cpe 2.3 a vendor product …", so product keywords match as words.
_CPE_TEXT = f"regexp_replace(array_to_string({_CRITERIA}, ' '), '[:_]', ' ', 'g')"
_CPE_PARTS = f"list_transform({_CRITERIA}, lambda c: split_part(c, ':', 3))"
# NVD names a device's firmware ``o:vendor:model_firmware``: an operating system only in form.
_FIRMWARE = (
    f"len(list_filter({_CRITERIA}, "
    "lambda c: split_part(c, ':', 3) = 'o' AND ends_with(split_part(c, ':', 5), '_firmware'))) > 0"
)
_DESCRIPTION = "list_filter(json_extract(__json, '$.descriptions[*]'), lambda d: d->>'lang' = 'en')[1]->>'value'"
_EXTRA = (
    "nullif(CAST(json_merge_patch('{}', json_object("
    f"'vulnStatus', {field('vulnStatus')}, 'sourceIdentifier', {field('sourceIdentifier')}, "
    f"'lastModified', {field('lastModified')}, "
    f"'cwe', {path('$.weaknesses[0].description[0].value')}, 'description', {_DESCRIPTION})) "
    "AS VARCHAR), '{}')"
)

FIELDS = {
    "time_source": ts(field("published")),
    **classified(VULNERABILITY),
    "vulnerability_id": f"upper({_ID})",
    "vulnerability_cve": f"upper({_ID})",
    "vulnerability_score": f"try_cast({_SCORE} AS DOUBLE)",
    "vulnerability_severity": severity_from_cvss(_SCORE),
    "vulnerability_patched": (
        "coalesce(list_contains(json_extract_string(__json, '$.references[*].tags[*]'), 'Patch'), false)"
    ),
    "vulnerability_object_type": coalesce(
        _vuln.classify(_CPE_TEXT),
        _vuln.classify(_DESCRIPTION),
        f"CASE WHEN list_contains({_CPE_PARTS}, 'h') OR {_FIRMWARE} THEN '网络设备' "
        f"WHEN list_contains({_CPE_PARTS}, 'o') THEN '操作系统' END",
        lit(_vuln.DEFAULT_OBJECT_TYPE),
    ),
    "extra": _EXTRA,
}

CHECKS = (
    (
        f"NOT coalesce(regexp_matches({_ID}, '^(?i)CVE-\\d{{4}}-\\d{{4,}}$'), false)",
        "id is missing or not a CVE id",
    ),
    (bad_time(field("published")), "published is missing or not a date-time"),
    (f"{field('vulnStatus')} = 'Rejected'", "rejected by NVD (vulnStatus Rejected)"),
)

_API = re.compile(r'"vulnerabilities"\s*:\s*\[\s*\{\s*"cve"\s*:')
# An API page or data feed names its format; a page with no CVEs ("vulnerabilities": []) has only that.
_FORMAT = re.compile(r'"format"\s*:\s*"NVD_CVE"')
_RECORD = re.compile(r'^\s*\[?\s*\{\s*"id"\s*:\s*"CVE-\d{4}-\d+"')


def _recognise_api(sample: Sample) -> bool:
    return _API.search(sample.text) is not None or _FORMAT.search(sample.text) is not None


def _recognise_record(sample: Sample) -> bool:
    return _RECORD.match(sample.text) is not None and '"published"' in sample.text


API = Feed(
    name="nvd-cve",
    provider=PROVIDER,
    summary="NVD CVE API 2.0 response or JSON 2.0 data feed: published CVEs with CVSS score.",
    reader=JsonRecords(
        "$.vulnerabilities[*].cve",
        layout="json_type(json, '$.vulnerabilities') = 'ARRAY'",
        not_layout='not an NVD CVE API 2.0 response: the document has no "vulnerabilities" list',
    ),
    recognise=_recognise_api,
    fields=FIELDS,
    checks=CHECKS,
    priority=60,
)

RECORD = Feed(
    name="nvd-cve-record",
    provider=PROVIDER,
    summary="NVD CVE JSON 2.0 record(s): one cve object, or a JSON array of them.",
    reader=JsonRecords("$"),
    recognise=_recognise_record,
    fields=FIELDS,
    checks=CHECKS,
    priority=60,
)

FEEDS = (API, RECORD)
