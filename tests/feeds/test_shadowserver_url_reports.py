from datetime import UTC, datetime

import pytest

from helpers import SAMPLES, lake_rows
from sitrep.feeds import detect
from sitrep.lake.ingest import ingest_paths, sample_of
from sitrep.lake.rejects import list_rejects

PHISH = SAMPLES / "2025-01-06-phish_url-cncert-cn.csv"
MALWARE = SAMPLES / "2025-01-06-malware_url-cncert-cn.csv"


@pytest.mark.parametrize(("sample", "name"), [(PHISH, "shadowserver-phish-url"), (MALWARE, "shadowserver-malware-url")])
def test_recognised_from_content_even_when_renamed(tmp_path, sample, name):
    renamed = tmp_path / "urls.csv"
    renamed.write_bytes(sample.read_bytes())
    assert detect(sample_of(renamed)).name == name


def test_phish_url_maps_pages_and_targets(workspace):
    [result] = ingest_paths(workspace, [PHISH])
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (8, 3, 1, 4)
    rows = lake_rows(workspace)
    assert {(r["classification_taxonomy"], r["classification_type"]) for r in rows} == {("fraud", "phishing")}
    icbc, apple, no_ip = rows
    assert icbc["source_url"] == "https://secure-icbc.example-login.top/cn/login.html"
    assert icbc["source_fqdn"] == "secure-icbc.example-login.top"
    assert icbc["source_ip"] == "172.67.1.2"
    assert icbc["time_source"] == datetime(2025, 1, 6, 8, 0, 7, tzinfo=UTC)
    assert (icbc["event_description_target"], icbc["target_domain"]) == ("www.icbc.com.cn", "www.icbc.com.cn")
    assert (apple["event_description_target"], apple["target_domain"]) == ("Apple", None)
    assert apple["source_geolocation_cc"] == "HK"
    # A page without a resolved IP is kept: its URL is what is observed.
    assert (no_ip["source_line"], no_ip["source_ip"]) == (9, None)
    assert {r["tlp"] for r in rows} == {"AMBER"}


def test_malware_url_maps_downloads_and_family(workspace):
    [result] = ingest_paths(workspace, [MALWARE])
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (8, 3, 1, 4)
    mozi, cve_tagged, emotet = lake_rows(workspace)
    assert (mozi["classification_taxonomy"], mozi["classification_type"]) == (
        "malicious-code",
        "malware-distribution",
    )
    assert mozi["source_url"] == "http://42.225.3.4:38173/Mozi.m"
    assert (mozi["source_ip"], mozi["source_fqdn"], mozi["malware_name"]) == ("42.225.3.4", None, "mozi")
    assert mozi["domestic"] is True
    # A CVE tag is not a malware family.
    assert (cve_tagged["source_fqdn"], cve_tagged["malware_name"]) == ("down.example.cn", None)
    assert '"CVE-2018-10562"' in cve_tagged["extra"]
    assert emotet["malware_name"] == "emotet"


@pytest.mark.parametrize("sample", [PHISH, MALWARE])
def test_rejects_keep_line_and_reason(workspace, sample):
    ingest_paths(workspace, [sample])
    rejects = {r["line"]: r["reason"] for r in list_rejects(workspace)}
    assert rejects[5] == "timestamp is missing or not a date-time"
    assert rejects[6] == "ip is not an IP address"
    assert rejects[7] == "url is empty"
    assert rejects[8].startswith("MISSING COLUMNS")
    assert len(rejects) == 4
