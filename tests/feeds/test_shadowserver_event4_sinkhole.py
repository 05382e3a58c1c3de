from datetime import UTC, datetime

from helpers import SAMPLES, lake_rows
from sitrep.feeds import detect
from sitrep.lake.ingest import ingest_paths, sample_of
from sitrep.lake.rejects import list_rejects

SAMPLE = SAMPLES / "2025-01-01-event4_sinkhole-cncert-cn.csv"


def test_recognised_from_content_even_when_renamed(tmp_path):
    renamed = tmp_path / "report.csv"
    renamed.write_bytes(SAMPLE.read_bytes())
    assert detect(sample_of(renamed)).name == "shadowserver-event4-sinkhole"


def test_maps_rows_to_infected_hosts(workspace):
    [result] = ingest_paths(workspace, [SAMPLE])
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (7, 3, 1, 3)
    rows = lake_rows(workspace)
    assert [r["source_ip"] for r in rows] == ["114.114.114.114", "223.5.5.5", "8.8.8.8"]
    first = rows[0]
    assert first["classification_taxonomy"] == "malicious-code"
    assert first["classification_type"] == "infected-system"
    assert first["malware_name"] == "andromeda"
    assert first["time_source"] == datetime(2025, 1, 1, 0, 0, 5, tzinfo=UTC)
    assert first["source_asn"] == 4134
    assert first["destination_ip"] == "198.51.100.7"
    assert first["tlp"] == "AMBER"
    # Feed geo first (JIANGSU), then the IP database (223.5.5.5 is Zhejiang).
    assert [(r["country"], r["region"], r["domestic"]) for r in rows] == [
        ("CN", "JS", True),
        ("CN", "ZJ", True),
        ("US", None, False),
    ]
    assert [r["source_line"] for r in rows] == [2, 3, 8]


def test_rejects_keep_line_and_reason(workspace):
    ingest_paths(workspace, [SAMPLE])
    rejects = {r["line"]: r["reason"] for r in list_rejects(workspace)}
    assert rejects[5] == "timestamp is missing or not a date-time"
    assert rejects[6] == "src_ip is not an IP address"
    assert rejects[7].startswith("MISSING COLUMNS")
