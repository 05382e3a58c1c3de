"""The scan_exchange report and the generic scan_* format share one mapping."""

import json
from datetime import UTC, datetime

import pytest

from helpers import SAMPLES, lake_rows
from sitrep.feeds import detect, get_feed
from sitrep.lake.ingest import ingest_paths, sample_of
from sitrep.lake.rejects import list_rejects

EXCHANGE = SAMPLES / "2025-01-07-scan_exchange-cncert-cn.csv"
HTTP_VULNERABLE = SAMPLES / "2025-01-07-scan_http_vulnerable-cncert-cn.csv"


@pytest.mark.parametrize(
    ("sample", "name"),
    [(EXCHANGE, "shadowserver-scan-exchange"), (HTTP_VULNERABLE, "shadowserver-scan")],
)
def test_recognised_from_content_even_when_renamed(tmp_path, sample, name):
    renamed = tmp_path / "scan.csv"
    renamed.write_bytes(sample.read_bytes())
    assert detect(sample_of(renamed)).name == name


def test_generic_scan_is_tried_after_the_specific_reports():
    generic = get_feed("shadowserver-scan")
    assert generic.priority > get_feed("shadowserver-scan-exchange").priority
    assert generic.priority > get_feed("shadowserver-compromised-website").priority


def test_exchange_vulnerable_and_webshell_servers(workspace):
    [result] = ingest_paths(workspace, [EXCHANGE])
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (10, 5, 1, 4)
    rows = {r["source_line"]: r for r in lake_rows(workspace)}
    assert sorted(rows) == [2, 3, 4, 5, 11]
    vulnerable = rows[2]
    assert (
        vulnerable["classification_taxonomy"],
        vulnerable["classification_type"],
        vulnerable["classification_identifier"],
    ) == ("vulnerable", "vulnerable-system", "vulnerable-service")
    assert (vulnerable["vulnerability_id"], vulnerable["vulnerability_cve"]) == (
        "CVE-2021-26855",
        "CVE-2021-26855",
    )
    assert (vulnerable["source_ip"], vulnerable["source_port"]) == ("58.60.1.2", 443)
    assert (vulnerable["site"], vulnerable["is_gov"]) == ("mail.example.gov.cn", True)
    assert vulnerable["time_source"] == datetime(2025, 1, 7, 0, 11, 30, tzinfo=UTC)
    assert vulnerable["tlp"] == "AMBER"
    assert json.loads(vulnerable["extra"])["servername"] == "EXCH2016-01"
    webshell = rows[3]
    assert (
        webshell["classification_taxonomy"],
        webshell["classification_type"],
        webshell["classification_identifier"],
    ) == ("intrusions", "system-compromise", "webshell")
    assert webshell["vulnerability_id"] is None
    assert rows[11]["classification_identifier"] == "backdoor"
    assert rows[11]["source_ip"] == "2408:8000:1::9"
    # A hostname that is only the IP names no site; a tag without a CVE leaves it empty.
    assert rows[4]["source_fqdn"] is None
    assert rows[4]["vulnerability_cve"] == "CVE-2022-41082"
    assert rows[5]["vulnerability_id"] is None


def test_generic_scan_maps_cve_and_webshell_tags(workspace):
    [result] = ingest_paths(workspace, [HTTP_VULNERABLE])
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (8, 3, 1, 4)
    f5, webshell, git = lake_rows(workspace)
    assert f5["feed_name"] == "shadowserver-scan"
    assert (f5["classification_type"], f5["vulnerability_id"]) == ("vulnerable-system", "CVE-2022-1388")
    assert (webshell["classification_taxonomy"], webshell["classification_identifier"]) == (
        "intrusions",
        "webshell",
    )
    assert webshell["source_fqdn"] == "www.example.org.cn"
    assert (git["classification_identifier"], git["vulnerability_id"]) == ("vulnerable-service", None)
    assert json.loads(git["extra"])["protocol"] == "tcp"


@pytest.mark.parametrize(("sample", "first"), [(EXCHANGE, 7), (HTTP_VULNERABLE, 6)])
def test_rejects_keep_line_and_reason(workspace, sample, first):
    ingest_paths(workspace, [sample])
    rejects = {r["line"]: r["reason"] for r in list_rejects(workspace)}
    assert rejects[first] == "timestamp is missing or not a date-time"
    assert rejects[first + 1] == "ip is not an IP address"
    assert rejects[first + 2] == "ip is empty"
    assert rejects[first + 3].startswith("MISSING COLUMNS")
    assert len(rejects) == 4
