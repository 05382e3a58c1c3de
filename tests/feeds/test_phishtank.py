import json
from datetime import UTC, datetime

from helpers import SAMPLES, lake_rows
from sitrep.feeds import detect, get_feed
from sitrep.lake.ingest import ingest_paths, sample_of
from sitrep.lake.rejects import list_rejects

SAMPLE = SAMPLES / "phishtank-online-valid.json"


def test_recognised_from_content_even_when_renamed(tmp_path):
    renamed = tmp_path / "download.json"
    renamed.write_bytes(SAMPLE.read_bytes())
    assert detect(sample_of(renamed)).name == "phishtank"


def test_maps_records_to_phishing_pages(workspace):
    [result] = ingest_paths(workspace, [SAMPLE])
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (10, 4, 1, 5)
    rows = lake_rows(workspace)
    assert [r["source_line"] for r in rows] == [1, 2, 3, 10]
    first = rows[0]
    assert first["source_url"] == "https://icbc-online.example-bank.top/login/"
    assert (first["classification_taxonomy"], first["classification_type"]) == ("fraud", "phishing")
    assert first["time_source"] == datetime(2025, 1, 6, 2, 11, 49, tzinfo=UTC)
    assert first["time_observation"] == datetime(2025, 1, 6, 2, 20, 3, tzinfo=UTC)
    # The first details entry is the current resolution.
    assert (first["source_ip"], first["source_asn"], first["source_geolocation_cc"]) == (
        "47.242.10.8",
        45102,
        "HK",
    )
    assert first["event_description_target"] == "Industrial and Commercial Bank of China"
    assert json.loads(first["extra"]) == {
        "phish_id": "8712301",
        "phish_detail_url": "http://www.phishtank.com/phish_detail.php?phish_id=8712301",
        "online": "yes",
        "cidr_block": "47.242.0.0/16",
        "rir": "apnic",
        "detail_time": "2025-01-06T02:20:03+00:00",
    }
    assert rows[1]["event_description_target"] is None  # "Other"
    assert rows[2]["source_ip"] is None  # no details: the URL alone is the observation
    assert rows[3]["source_ip"] == "2402:4e00:1::8"
    assert rows[3]["target_domain"] == "www.chinatax.gov.cn"


def test_rejects_keep_record_number_and_reason(workspace):
    ingest_paths(workspace, [SAMPLE])
    rejects = {r["line"]: r["reason"] for r in list_rejects(workspace)}
    assert rejects == {
        5: "submission_time is missing or not a date-time",
        6: "url is empty",
        7: "not verified as a phish",
        8: "details[0].ip_address is not an IP address",
        9: "record is not a JSON object",
    }


CSV_SAMPLE = SAMPLES / "phishtank-csv-online-valid.csv"


def test_csv_recognised_from_its_header(tmp_path):
    renamed = tmp_path / "online-valid.csv"
    renamed.write_bytes(CSV_SAMPLE.read_bytes())
    assert detect(sample_of(renamed)).name == "phishtank-csv"


def test_csv_maps_rows_to_phishing_pages(workspace):
    [result] = ingest_paths(workspace, [CSV_SAMPLE])
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (6, 3, 1, 2)
    rows = lake_rows(workspace)
    assert [r["source_line"] for r in rows] == [2, 3, 4]
    first = rows[0]
    assert first["source_url"] == "https://icbc-online.example-bank.top/login/"
    assert (first["classification_taxonomy"], first["classification_type"]) == ("fraud", "phishing")
    assert first["time_source"] == datetime(2025, 1, 6, 2, 11, 49, tzinfo=UTC)
    assert first["time_observation"] == datetime(2025, 1, 6, 2, 20, 3, tzinfo=UTC)
    assert first["event_description_target"] == "Industrial and Commercial Bank of China"
    assert json.loads(first["extra"]) == {
        "phish_id": "8712301",
        "phish_detail_url": "http://www.phishtank.com/phish_detail.php?phish_id=8712301",
        "online": "yes",
    }
    # A quoted URL keeps its comma; "Other" is no target.
    assert rows[1]["source_url"] == "https://secure-verify.example.shop/signin?next=/account,confirm"
    assert rows[1]["event_description_target"] is None
    assert rows[2]["event_description_target"] == "State Taxation Administration"
    rejects = {r["line"]: r["reason"] for r in list_rejects(workspace)}
    assert rejects == {5: "submission_time is missing or not a date-time", 6: "url is empty"}


def test_a_json_document_that_is_no_array_is_refused(workspace, tmp_path):
    path = tmp_path / "online-valid.json"
    path.write_text('{"phish_id": 1, "url": "http://x.example/"}')
    [result] = ingest_paths(workspace, [path], feed=get_feed("phishtank"))
    assert result.error == "not PhishTank's JSON: the document is not an array"
