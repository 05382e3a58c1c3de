"""Small Shadowserver report files generated from the published columns of every report type.

Each file has the report's header in Shadowserver's column order and a few rows whose values suit each
column (timestamps, addresses of the report's IP family, ports, AS numbers, CN geo), so every report type
can be ingested in a test without a sample file per type.  Values are this project's own.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from sitrep.feeds.shadowserver import Report, load_reports

ROWS = 3
# Domestic addresses (ip2region places them in China) of each family, one per row.
V4 = ("114.114.114.114", "223.5.5.5", "180.76.76.76")
V6 = ("240e:3a1:4c:60::2", "2408:8756:c52:1aa0::5", "2001:da8:8000:1::1234")


def value(report: Report, column: str, row: int) -> str:
    """A plausible value of ``column`` in row ``row`` of ``report``."""
    name = column.lower()
    conversions = {m.column: m.conversion for m in report.mappings}
    if name == "timestamp" or name.endswith("_time") or name in ("http_date", "date_published", "detected_since"):
        return f"2025-01-07 {row // 3600 % 24:02d}:{row // 60 % 60:02d}:{row % 60:02d}"
    if name in ("ip", "src_ip", "http_referer_ip") or (name.endswith("_ip") and name.startswith("src")):
        if row < len(V4):
            return (V6 if report.ipv6 else V4)[row]
        return f"240e:3a1:{row:x}::1" if report.ipv6 else f"114.114.{row // 250 % 250}.{row % 250 + 1}"
    if name.endswith("ip"):
        return "2001:db8::7" if report.ipv6 else "198.51.100.7"
    if name.endswith("port"):
        return str(443 + row)
    if name.endswith("asn"):
        return "4134"
    if name.endswith("geo"):
        return "CN"
    if name.endswith("region"):
        return "GUANGDONG"
    if name.endswith("city"):
        return "GUANGZHOU"
    if name in ("http_host", "hostname", "cc_dns") or name.endswith("hostname"):
        return f"host{row}.example.cn"
    if name in ("url", "http_url"):
        split = "http_host" in report.columns or "cc_dns" in report.columns
        return f"/path/{row}.php" if split else f"http://host{row}.example.cn/path/{row}.php"
    if name == "tag" and report.key.endswith("exchange"):
        return "exchange;cve-2021-26855"
    if name in ("infection", "family", "tag"):
        return "mirai"
    if name == "severity":
        return "high"
    conversion = conversions.get(column)
    if conversion in ("convert_int", "invalidate_zero") or name in ("naics", "count", "bytes"):
        return str(10 + row)
    if conversion == "convert_float":
        return "1.5"
    if conversion == "convert_bool":
        return "Y"
    return f"{name}-{row}"


def report_csv(report: Report, rows: int = ROWS) -> str:
    """The text of a report file with ``rows`` rows, quoted as Shadowserver quotes."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(report.columns)
    for row in range(rows):
        writer.writerow([value(report, c, row) for c in report.columns])
    return out.getvalue()


def file_name(report: Report) -> str:
    """Shadowserver's file name for the report: date, report key, recipient."""
    return f"2025-01-07-{report.key}-cncert-cn.csv"


def write_all(folder: Path) -> dict[str, Path]:
    """One generated file per built-in report type, by report key."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for report in load_reports():
        path = folder / file_name(report)
        path.write_text(report_csv(report), encoding="utf-8")
        paths[report.key] = path
    return paths


def intelmq_schema(reports: tuple[Report, ...]) -> dict:
    """The reports in Shadowserver's own schema layout (as IntelMQ downloads it), for tests of a
    schema file the user supplies: required fields, optional fields (unmapped columns to ``extra.``)."""
    schema: dict = {"_meta": {"date_created": "2026-03-24T15:31:20Z"}}
    for r in reports:
        mapped = {m.column for m in r.mappings}
        required = [[m.target, m.column, m.conversion] for m in r.mappings if m.column in r.required]
        optional = [[m.target, m.column, m.conversion] for m in r.mappings if m.column not in r.required]
        optional += [["extra.", c, "validate_to_none"] for c in r.columns if c not in mapped]
        constants = {
            f"classification.{k}": v
            for k, v in (("taxonomy", r.taxonomy), ("type", r.type), ("identifier", r.identifier))
            if v
        }
        schema[r.key] = {
            "constant_fields": constants,
            "feed_name": r.title,
            "file_name": r.key,
            "required_fields": [[*f[:2], f[2]] if f[2] else f[:2] for f in required],
            "optional_fields": [[*f[:2], f[2]] if f[2] else f[:2] for f in optional],
            "url": r.url,
        }
    return json.loads(json.dumps(schema))
