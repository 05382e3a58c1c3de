from datetime import UTC, datetime

from helpers import SAMPLES, lake_rows
from sitrep.feeds import detect
from sitrep.lake.ingest import ingest_paths, sample_of
from sitrep.lake.rejects import list_rejects

SAMPLE = SAMPLES / "2025-01-06-compromised_website-cncert-cn.csv"


def test_recognised_from_content_even_when_renamed(tmp_path):
    renamed = tmp_path / "sites.csv"
    renamed.write_bytes(SAMPLE.read_bytes())
    assert detect(sample_of(renamed)).name == "shadowserver-compromised-website"


def test_classifies_defacement_backdoor_and_other_compromise(workspace):
    [result] = ingest_paths(workspace, [SAMPLE])
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (10, 5, 1, 4)
    rows = lake_rows(workspace)
    got = [
        (
            r["source_line"],
            r["classification_taxonomy"],
            r["classification_type"],
            r["classification_identifier"],
        )
        for r in rows
    ]
    assert got == [
        (2, "information-content-security", "unauthorised-information-modification", "defacement"),
        (3, "intrusions", "system-compromise", "webshell"),
        (4, "intrusions", "system-compromise", "compromised"),
        (5, "intrusions", "system-compromise", "backdoor"),
        (11, "intrusions", "system-compromise", "compromised"),
    ]


def test_maps_site_url_and_host(workspace):
    ingest_paths(workspace, [SAMPLE])
    defaced, webshell, spam, backdoor, _ = lake_rows(workspace)
    assert defaced["source_fqdn"] == "www.edu.example.gov.cn"
    assert defaced["source_url"] == "http://www.edu.example.gov.cn/index.html"
    assert (defaced["site"], defaced["is_gov"], defaced["domestic"]) == ("www.edu.example.gov.cn", True, True)
    assert defaced["source_ip"] == "180.76.76.76"
    assert defaced["time_source"] == datetime(2025, 1, 6, 2, 0, tzinfo=UTC)
    assert defaced["tlp"] == "AMBER"
    # https application → https URL; the host is lower-cased.
    assert webshell["source_url"] == "https://shop.example.com.cn/upload/1.php"
    assert webshell["malware_name"] == "china-chopper"
    # No http_host: the server's hostname names the site.
    assert spam["source_fqdn"] == "mail.example.cn"
    # An absolute url is kept as it is.
    assert backdoor["source_url"] == "http://bbs.example.org/plugins/x.php"
    assert backdoor["malware_name"] == "sysrv"


def test_rejects_keep_line_and_reason(workspace):
    ingest_paths(workspace, [SAMPLE])
    rejects = {r["line"]: r["reason"] for r in list_rejects(workspace)}
    assert rejects[7] == "timestamp is missing or not a date-time"
    assert rejects[8] == "ip is not an IP address"
    assert rejects[9] == "ip is empty"
    assert rejects[10].startswith("MISSING COLUMNS")
    assert len(rejects) == 4
