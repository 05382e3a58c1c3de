import json
from datetime import UTC, datetime

from helpers import SAMPLES, lake_rows
from sitrep.feeds import detect
from sitrep.lake.ingest import ingest_paths, sample_of
from sitrep.lake.rejects import list_rejects

SAMPLE = SAMPLES / "urlhaus-csv_recent.csv"


def test_recognised_from_content_even_when_renamed(tmp_path):
    renamed = tmp_path / "download.txt"
    renamed.write_bytes(SAMPLE.read_bytes())
    assert detect(sample_of(renamed)).name == "abusech-urlhaus"


def test_maps_rows_to_malware_distribution_urls(workspace):
    [result] = ingest_paths(workspace, [SAMPLE])
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (11, 7, 1, 3)
    rows = lake_rows(workspace)
    assert [r["source_line"] for r in rows] == [10, 11, 12, 13, 14, 19, 20]
    first = rows[0]
    assert first["source_url"] == "http://117.50.183.91:44535/i"
    assert first["time_source"] == datetime(2025, 1, 6, 8, 1, 44, tzinfo=UTC)
    assert (first["classification_taxonomy"], first["classification_type"]) == (
        "malicious-code",
        "malware-distribution",
    )
    assert first["site"] == "117.50.183.91"
    # The family is the first tag that is not a file type or an architecture.
    assert [r["malware_name"] for r in rows] == ["mozi", "spynote", "agenttesla", None, None, None, "formbook"]
    assert json.loads(rows[1]["extra"])["tags"] == "apk,SpyNote"
    assert json.loads(first["extra"])["urlhaus_link"] == "https://urlhaus.abuse.ch/url/3350101/"
    assert "last_online" not in json.loads(rows[2]["extra"])


def test_rejects_keep_line_and_reason(workspace):
    ingest_paths(workspace, [SAMPLE])
    rejects = {r["line"]: r["reason"] for r in list_rejects(workspace)}
    assert set(rejects) == {16, 17, 18}
    assert rejects[16] == "dateadded is missing or not a date-time"
    assert rejects[17] == "url is empty"
    assert rejects[18] == "url is not a URL"


def test_short_row_keeps_its_fields_and_reads_the_missing_ones_as_null(workspace):
    ingest_paths(workspace, [SAMPLE])
    [row] = lake_rows(workspace, where="source_line = 19")
    assert row["source_url"] == "http://203.0.113.5/a.sh"
    assert json.loads(row["extra"]) == {"id": "3350093", "url_status": "online"}
