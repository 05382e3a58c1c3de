import json
from datetime import UTC, datetime

from helpers import SAMPLES, lake_rows
from sitrep.feeds import detect
from sitrep.lake.ingest import ingest_paths, sample_of
from sitrep.lake.rejects import list_rejects

SAMPLE = SAMPLES / "zoneh-defacements.csv"
PENDING = SAMPLES / "zoneh-defacements-pending.csv"
DEFACEMENT = ("information-content-security", "unauthorised-information-modification", "defacement")


def test_recognised_from_content_even_when_renamed(tmp_path):
    for source in (SAMPLE, PENDING):
        renamed = tmp_path / "attachment.csv"
        renamed.write_bytes(source.read_bytes())
        assert detect(sample_of(renamed)).name == "zoneh-defacements"


def test_maps_defaced_sites(workspace):
    [result] = ingest_paths(workspace, [SAMPLE])
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (10, 5, 1, 4)
    rows = lake_rows(workspace)
    assert [r["source_line"] for r in rows] == [2, 3, 9, 10, 11]
    assert {(r["classification_taxonomy"], r["classification_type"], r["classification_identifier"]) for r in rows} == {
        DEFACEMENT
    }
    gov, shop, foreign, no_ip, short = rows
    # "domain" holds the defaced URL; add_date is the notification time in UTC.
    assert gov["source_url"] == "http://www.jyj.example.gov.cn/hacked.html"
    assert (gov["site"], gov["is_gov"], gov["domestic"]) == ("www.jyj.example.gov.cn", True, True)
    assert (gov["source_ip"], gov["source_geolocation_cc"]) == ("180.76.76.90", "CN")
    assert gov["time_source"] == datetime(2025, 1, 6, 13, 45, 10, tzinfo=UTC)
    extra = json.loads(gov["extra"])
    assert extra["attacker"] == "Mr.Kro"
    assert extra["accept_date"] == "2025-01-06 15:02:41"
    assert (extra["hackmode"], extra["defacement_id"], extra["state"]) == (
        "known vulnerability (i.e. unpatched system)",
        "41000001",
        "published",
    )
    # Scheme and host are lower-cased, a bare authority gets a path.
    assert (shop["source_url"], shop["source_fqdn"]) == ("http://www.shop.example.com.cn/", "www.shop.example.com.cn")
    assert json.loads(foreign["extra"])["attacker"] == 'Team "Red", 1337'
    assert (foreign["source_geolocation_cc"], foreign["domestic"]) == ("US", False)
    # Zone-H's "zz" is an unknown country, not a country: the site is domestic by its .cn name.
    assert (no_ip["source_ip"], no_ip["source_geolocation_cc"], no_ip["domestic"]) == (None, None, True)
    # A report cut short after ip_address keeps the row; the missing fields are simply absent.
    assert (short["source_ip"], short["is_gov"]) == ("223.5.5.5", True)
    assert json.loads(short["extra"]) == {"accept_date": "2025-01-06 18:40:12", "attacker": "Mr.Kro"}


def test_published_defacements_are_clear_the_rest_amber(workspace):
    ingest_paths(workspace, [SAMPLE])
    by_line = {r["source_line"]: r["tlp"] for r in lake_rows(workspace)}
    assert by_line == {2: "CLEAR", 3: "AMBER", 9: "CLEAR", 10: "CLEAR", 11: "AMBER"}


def test_pending_report_without_accept_date(workspace):
    [result] = ingest_paths(workspace, [PENDING])
    assert (result.read, result.accepted, result.rejected) == (2, 2, 0)
    first, second = lake_rows(workspace)
    assert first["source_url"] == "https://www.wjw.example.gov.cn/readme.html"
    assert first["time_source"] == datetime(2025, 1, 7, 2, 11, 48, tzinfo=UTC)
    assert "accept_date" not in json.loads(first["extra"])
    assert (first["tlp"], second["tlp"]) == ("AMBER", "AMBER")  # "not published"
    assert json.loads(second["extra"])["type"] == "mass"


def test_rejects_keep_line_and_reason(workspace):
    ingest_paths(workspace, [SAMPLE])
    rejects = {r["line"]: r for r in list_rejects(workspace)}
    assert set(rejects) == {5, 6, 7, 8}
    assert {line: rejects[line]["reason"] for line in (5, 6, 7)} == {
        5: "add_date is missing or not a date-time",
        6: "ip_address is not an IP address",
        7: "domain is empty",
    }
    # 18 fields for 17 columns (the CSV reader words the reason).
    assert "18" in rejects[8]["reason"] and "17" in rejects[8]["reason"]
    assert json.loads(rejects[6]["raw"])["ip_address"] == "180.76.76.300"
