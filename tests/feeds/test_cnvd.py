import gzip
import json
from datetime import UTC, datetime

from helpers import SAMPLES, lake_rows
from sitrep.feeds import _vuln, detect
from sitrep.lake.ingest import ingest_paths, sample_of
from sitrep.lake.rejects import list_rejects
from sitrep.taxonomy import OBJECT_TYPES

SAMPLE = SAMPLES / "cnvd-2025-01-06.xml"


def test_recognised_from_content_even_when_renamed(tmp_path):
    renamed = tmp_path / "export.dat"
    renamed.write_bytes(SAMPLE.read_bytes())
    assert detect(sample_of(renamed)).name == "cnvd"


def test_maps_records_to_vulnerabilities(workspace):
    [result] = ingest_paths(workspace, [SAMPLE])
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (13, 8, 1, 4)
    rows = lake_rows(workspace)
    assert [r["vulnerability_id"] for r in rows] == [f"CNVD-2025-0010{n}" for n in range(1, 9)]
    first = rows[0]
    assert (
        first["classification_taxonomy"],
        first["classification_type"],
        first["classification_identifier"],
    ) == (
        "vulnerable",
        "vulnerable-system",
        "vulnerability",
    )
    # openTime is a date in Beijing time: midnight there is 16:00 UTC the day before.
    assert first["time_source"] == datetime(2025, 1, 5, 16, 0, tzinfo=UTC)
    assert first["vulnerability_cve"] == "CVE-2024-55591"
    assert rows[1]["vulnerability_cve"] == "CVE-2025-0001"
    assert rows[2]["vulnerability_cve"] is None
    assert [r["vulnerability_severity"] for r in rows] == ["高", "中", "高", "高", "低", "中", "高", "中"]
    assert [r["vulnerability_patched"] for r in rows] == [True, False, True, True, False, False, True, True]
    assert [r["vulnerability_object_type"] for r in rows] == [
        "安全产品",  # FortiOS
        "WEB应用",  # WordPress plugin
        "网络设备",  # router, despite its web UI
        "操作系统",  # Windows
        "数据库",  # MySQL
        "智能设备",  # camera (from the description)
        "WEB应用",  # PHP, from the description
        "应用程序",  # nothing matched
    ]
    assert json.loads(first["extra"])["title"] == "Fortinet FortiOS身份验证绕过漏洞"
    assert first["tlp"] == "CLEAR"


def test_rejects_keep_record_number_and_reason(workspace):
    ingest_paths(workspace, [SAMPLE])
    rejects = {r["line"]: r["reason"] for r in list_rejects(workspace)}
    assert rejects[10] == "number is missing or not a CNVD id"
    assert rejects[11] == "openTime is missing or not a date"
    assert rejects[12] == "serverity is not 高, 中 or 低"
    assert rejects[13].startswith("unreadable XML after record 12")
    assert len(rejects) == 4


def test_gzipped_file_is_read_like_the_plain_one(workspace, tmp_path):
    packed = tmp_path / "cnvd.xml.gz"
    packed.write_bytes(gzip.compress(SAMPLE.read_bytes()))
    assert detect(sample_of(packed)).name == "cnvd"
    [result] = ingest_paths(workspace, [packed])
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (13, 8, 1, 4)


def test_object_type_rules_cover_exactly_the_report_types():
    kinds = [kind for kind, _ in _vuln.OBJECT_TYPE_RULES] + [_vuln.DEFAULT_OBJECT_TYPE]
    assert sorted(kinds) == sorted(OBJECT_TYPES)


def test_empty_dump_is_recognised_and_reads_no_records(workspace, tmp_path):
    for number, text in enumerate(
        [
            '<?xml version="1.0" encoding="UTF-8"?>\n<vulnerabilitys/>\n',
            '<?xml version="1.0" encoding="UTF-8"?>\n<vulnerabilitys></vulnerabilitys>',
            "<vulnerabilitys>\n</vulnerabilitys>\n",
        ]
    ):
        dump = tmp_path / f"empty-{number}.xml"
        dump.write_text(text)
        assert detect(sample_of(dump)).name == "cnvd"
        [result] = ingest_paths(workspace, [dump])
        assert (result.error, result.read, result.accepted, result.rejected) == (None, 0, 0, 0)
    assert list_rejects(workspace) == []
