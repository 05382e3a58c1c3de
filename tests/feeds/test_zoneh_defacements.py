import json
from datetime import UTC, datetime

from helpers import SAMPLES, lake_rows
from sitrep.feeds import detect
from sitrep.lake.ingest import ingest_paths, sample_of
from sitrep.lake.rejects import list_rejects

SAMPLE = SAMPLES / "zoneh-defacements.csv"


def test_recognised_from_content_even_when_renamed(tmp_path):
    renamed = tmp_path / "export.csv"
    renamed.write_bytes(SAMPLE.read_bytes())
    assert detect(sample_of(renamed)).name == "zoneh-defacements"


def test_maps_defaced_sites(workspace):
    [result] = ingest_paths(workspace, [SAMPLE])
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (9, 4, 1, 4)
    rows = lake_rows(workspace)
    assert {(r["classification_taxonomy"], r["classification_type"], r["classification_identifier"]) for r in rows} == {
        ("information-content-security", "unauthorised-information-modification", "defacement")
    }
    gov, shop, foreign, no_ip = rows
    assert gov["source_url"] == "http://www.jyj.example.gov.cn/hacked.html"
    assert (gov["site"], gov["is_gov"], gov["domestic"]) == ("www.jyj.example.gov.cn", True, True)
    assert gov["source_ip"] == "180.76.76.90"
    assert gov["time_source"] == datetime(2025, 1, 6, 13, 45, 10, tzinfo=UTC)
    assert json.loads(gov["extra"])["notifier"] == "Mr.Kro"
    # A bare host name becomes a lower-case http URL.
    assert (shop["source_url"], shop["source_fqdn"]) == (
        "http://www.shop.example.com.cn/",
        "www.shop.example.com.cn",
    )
    assert json.loads(foreign["extra"])["notifier"] == 'Team "Red", 1337'
    assert foreign["domestic"] is False
    # Domestic by its .cn name even without an IP.
    assert (no_ip["source_ip"], no_ip["domestic"]) == (None, True)
    assert {r["tlp"] for r in rows} == {"CLEAR"}


def test_rejects_keep_line_and_reason(workspace):
    ingest_paths(workspace, [SAMPLE])
    rejects = {r["line"]: r["reason"] for r in list_rejects(workspace)}
    assert rejects[5] == "time is missing or not a date-time"
    assert rejects[6] == "ip is not an IP address"
    assert rejects[7] == "domain is empty"
    assert rejects[8].startswith("MISSING COLUMNS")
    assert len(rejects) == 4
