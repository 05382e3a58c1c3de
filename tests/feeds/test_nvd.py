import json
from datetime import UTC, datetime

from helpers import SAMPLES, lake_rows
from sitrep.feeds import detect, get_feed
from sitrep.lake.ingest import ingest_paths, sample_of
from sitrep.lake.rejects import list_rejects

API = SAMPLES / "nvd-cves-api-2.0.json"
RECORD = SAMPLES / "nvd-cve-record.json"


def test_both_layouts_recognised_from_content(tmp_path):
    api = tmp_path / "a.dat"
    api.write_bytes(API.read_bytes())
    record = tmp_path / "b.dat"
    record.write_bytes(RECORD.read_bytes())
    array = tmp_path / "c.dat"
    array.write_text("[" + RECORD.read_text() + "]")
    assert detect(sample_of(api)).name == "nvd-cve"
    assert detect(sample_of(record)).name == "nvd-cve-record"
    assert detect(sample_of(array)).name == "nvd-cve-record"


def test_api_response_maps_cves(workspace):
    [result] = ingest_paths(workspace, [API])
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (10, 5, 1, 4)
    rows = lake_rows(workspace)
    assert [r["vulnerability_id"] for r in rows] == [
        "CVE-2025-21298",
        "CVE-2025-0282",
        "CVE-2024-12345",
        "CVE-2024-99999",
        "CVE-2025-20001",
    ]
    first = rows[0]
    assert first["vulnerability_cve"] == "CVE-2025-21298"
    assert first["time_source"] == datetime(2025, 1, 6, 18, 15, 29, 123000, tzinfo=UTC)
    assert (first["classification_taxonomy"], first["classification_identifier"]) == (
        "vulnerable",
        "vulnerability",
    )
    # v3.1 first, then v4.0 (before v3.0), then v2.
    assert [r["vulnerability_score"] for r in rows] == [9.8, 9.3, 8.8, 6.4, 2.1]
    assert [r["vulnerability_severity"] for r in rows] == ["高", "高", "高", "中", "低"]
    assert [r["vulnerability_patched"] for r in rows] == [True, False, True, False, True]
    assert [r["vulnerability_object_type"] for r in rows] == [
        "操作系统",  # cpe o:microsoft:windows
        "应用程序",  # no CPE, no keyword
        "网络设备",  # firmware + hardware CPE
        "WEB应用",  # WordPress plugin
        "应用程序",
    ]
    extra = json.loads(first["extra"])
    assert extra["cwe"] == "CWE-416"
    assert extra["description"] == "Windows OLE Remote Code Execution Vulnerability"


def test_api_rejects_keep_record_number_and_reason(workspace):
    ingest_paths(workspace, [API])
    rejects = {r["line"]: r["reason"] for r in list_rejects(workspace)}
    assert rejects == {
        7: "rejected by NVD (vulnStatus Rejected)",
        8: "published is missing or not a date-time",
        9: "id is missing or not a CVE id",
        10: "record is not a JSON object",
    }


def test_bare_record_and_array_of_records(workspace, tmp_path):
    array = tmp_path / "cves.json"
    record = json.loads(RECORD.read_text())
    other = record | {"id": "CVE-2025-22002", "metrics": {}}
    array.write_text(json.dumps([record, other]))
    [single] = ingest_paths(workspace, [RECORD])
    assert (single.format, single.read, single.accepted) == ("nvd-cve-record", 1, 1)
    [both] = ingest_paths(workspace, [array])
    # The record already ingested from the bare file is a duplicate.
    assert (both.format, both.read, both.accepted, both.duplicates, both.rejected) == (
        "nvd-cve-record",
        2,
        1,
        1,
        0,
    )
    rows = lake_rows(workspace, order="vulnerability_id")
    assert [(r["vulnerability_id"], r["vulnerability_object_type"]) for r in rows] == [
        ("CVE-2025-22001", "数据库"),
        ("CVE-2025-22002", "数据库"),
    ]
    assert rows[0]["vulnerability_severity"] == "中"
    assert rows[1]["vulnerability_score"] is None and rows[1]["vulnerability_severity"] is None


def test_empty_page_is_recognised_and_reads_no_records(workspace, tmp_path):
    page = tmp_path / "page.json"
    page.write_text(
        '{"resultsPerPage": 0, "startIndex": 2000, "totalResults": 0, "format": "NVD_CVE", '
        '"version": "2.0", "timestamp": "2025-01-13T02:00:00.000", "vulnerabilities": []}'
    )
    assert detect(sample_of(page)).name == "nvd-cve"
    [result] = ingest_paths(workspace, [page])
    assert (result.error, result.read, result.accepted, result.rejected) == (None, 0, 0, 0)
    assert lake_rows(workspace) == []


def test_a_document_without_the_vulnerabilities_list_is_refused(workspace, tmp_path):
    other = tmp_path / "page.json"
    other.write_text('{"resultsPerPage": 0, "format": "NVD_CVE", "version": "2.0", "products": []}')
    [result] = ingest_paths(workspace, [other], feed=get_feed("nvd-cve"))
    assert result.error == 'not an NVD CVE API 2.0 response: the document has no "vulnerabilities" list'


def _cve(cve_id: str, *matches: tuple[bool, str]) -> dict:
    nodes = [{"operator": "OR", "negate": False, "cpeMatch": [{"vulnerable": v, "criteria": c} for v, c in matches]}]
    return {
        "cve": {
            "id": cve_id,
            "published": "2025-01-07T10:00:00.000",
            "vulnStatus": "Analyzed",
            "descriptions": [{"lang": "en", "value": "A buffer overflow allows code execution."}],
            "configurations": [{"operator": "AND", "nodes": nodes}],
        }
    }


def test_object_type_comes_only_from_vulnerable_cpes(workspace, tmp_path):
    page = tmp_path / "page.json"
    cves = [
        # An application that runs on Windows: Windows is listed, but not vulnerable.
        _cve(
            "CVE-2025-22100",
            (True, "cpe:2.3:a:example:media_player:*:*:*:*:*:*:*:*"),
            (False, "cpe:2.3:o:microsoft:windows:-:*:*:*:*:*:*:*"),
        ),
        # A router's firmware (an "o" CPE) on its hardware, which is not vulnerable itself.
        _cve(
            "CVE-2025-22101",
            (True, "cpe:2.3:o:example:ax3000_firmware:1.0.2:*:*:*:*:*:*:*"),
            (False, "cpe:2.3:h:example:ax3000:-:*:*:*:*:*:*:*"),
        ),
        # A vulnerable operating system.
        _cve("CVE-2025-22102", (True, "cpe:2.3:o:linux:linux_kernel:*:*:*:*:*:*:*:*")),
        # Only a platform, nothing vulnerable: no CPE speaks for the type.
        _cve("CVE-2025-22103", (False, "cpe:2.3:h:example:camera_x1:-:*:*:*:*:*:*:*")),
    ]
    page.write_text(json.dumps({"resultsPerPage": 4, "format": "NVD_CVE", "vulnerabilities": cves}))
    [result] = ingest_paths(workspace, [page])
    assert (result.read, result.accepted) == (4, 4)
    rows = lake_rows(workspace, order="vulnerability_id")
    assert [r["vulnerability_object_type"] for r in rows] == ["应用程序", "网络设备", "操作系统", "应用程序"]
