from datetime import UTC, datetime

from helpers import SAMPLES, lake_rows
from sitrep.feeds import detect
from sitrep.lake.ingest import ingest_paths, sample_of
from sitrep.lake.rejects import list_rejects

SAMPLE = SAMPLES / "spamhaus-cert-bots.txt"


def test_recognised_from_content_even_when_renamed(tmp_path):
    renamed = tmp_path / "bots.csv"
    renamed.write_bytes(SAMPLE.read_bytes())
    assert detect(sample_of(renamed)).name == "spamhaus-cert-bots"


def test_maps_bots_to_infected_hosts(workspace):
    [result] = ingest_paths(workspace, [SAMPLE])
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (9, 5, 1, 3)
    rows = lake_rows(workspace)
    # Data lines start after the 20 comment lines.
    assert [r["source_line"] for r in rows] == [21, 22, 24, 28, 29]
    assert {(r["classification_taxonomy"], r["classification_type"]) for r in rows} == {
        ("malicious-code", "infected-system")
    }
    first = rows[0]
    assert first["source_ip"] == "114.114.114.114"  # spaces after commas are trimmed
    assert first["source_asn"] == 4134
    assert first["time_source"] == datetime(2025, 1, 7, 0, 0, tzinfo=UTC)  # lastseen 1736208000
    assert (first["destination_ip"], first["destination_port"], first["source_port"]) == (
        "198.51.100.7",
        80,
        49260,
    )
    assert first["malware_name"] == "andromeda"
    assert first["tlp"] == "CLEAR"
    assert rows[1]["malware_name"] == "qakbot"
    assert rows[2]["source_asn"] is None  # "?" is an unknown ASN, not an error
    assert (rows[0]["domestic"], rows[3]["domestic"]) == (True, False)


def test_rejects_keep_line_and_reason(workspace):
    ingest_paths(workspace, [SAMPLE])
    rejects = {r["line"]: r["reason"] for r in list_rejects(workspace)}
    assert rejects[25] == "lastseen is missing or not a Unix timestamp"
    assert rejects[26] == "ip is not an IP address"
    assert rejects[27] == "ip is empty"
    assert len(rejects) == 3


def test_short_row_is_kept_with_its_missing_trailing_fields_null(workspace):
    ingest_paths(workspace, [SAMPLE])
    [row] = lake_rows(workspace, where="source_line = 28")
    assert (row["source_ip"], row["malware_name"], row["source_port"]) == ("8.8.8.8", None, None)
