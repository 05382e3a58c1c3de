import json
from datetime import UTC, datetime

import pytest

from helpers import SAMPLES, lake_rows
from sitrep.feeds import detect
from sitrep.lake.ingest import ingest_paths, sample_of
from sitrep.lake.rejects import list_rejects

V4 = SAMPLES / "2025-01-06-event4_sinkhole_http-cncert-cn.csv"
V6 = SAMPLES / "2025-01-06-event6_sinkhole_http-cncert-cn.csv"


@pytest.mark.parametrize(
    ("sample", "name"),
    [(V4, "shadowserver-event4-sinkhole-http"), (V6, "shadowserver-event6-sinkhole-http")],
)
def test_recognised_from_content_even_when_renamed(tmp_path, sample, name):
    renamed = tmp_path / "report.csv"
    renamed.write_bytes(sample.read_bytes())
    assert detect(sample_of(renamed)).name == name


def test_v4_maps_infected_hosts_and_keeps_the_request_in_extra(workspace):
    [result] = ingest_paths(workspace, [V4])
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (9, 4, 1, 4)
    rows = lake_rows(workspace)
    assert [r["source_ip"] for r in rows] == ["114.114.114.114", "223.5.5.5", "8.8.8.8", "1.2.4.8"]
    assert {(r["classification_taxonomy"], r["classification_type"]) for r in rows} == {
        ("malicious-code", "infected-system")
    }
    first = rows[0]
    assert first["malware_name"] == "avalanche-andromeda"
    assert first["time_source"] == datetime(2025, 1, 6, 0, 0, 5, tzinfo=UTC)
    assert (first["source_port"], first["source_asn"]) == (51234, 4134)
    assert first["destination_ip"] == "198.51.100.7"
    assert first["tlp"] == "AMBER"
    # The sinkholed C&C is not the infected host's site.
    assert first["source_url"] is None and first["site"] is None
    assert json.loads(first["extra"])["http_host"] == "differentia.ru"
    # Family falls back to the infection name, lower-cased.
    assert rows[3]["malware_name"] == "mirai"
    assert json.loads(rows[3]["extra"])["http_agent"] == "Wget, 1.20"


def test_v4_rejects_keep_line_and_reason(workspace):
    ingest_paths(workspace, [V4])
    rejects = {r["line"]: r["reason"] for r in list_rejects(workspace)}
    assert rejects[5] == "timestamp is missing or not a date-time"
    assert rejects[6] == "src_ip is not an IP address"
    assert rejects[7].startswith("MISSING COLUMNS")
    assert rejects[8] == "src_ip is empty"
    assert len(rejects) == 4


def test_v6_accepts_valid_ipv6_only(workspace):
    [result] = ingest_paths(workspace, [V6])
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (9, 3, 1, 5)
    rows = lake_rows(workspace)
    # Upper-case hex is stored lower-case.
    assert [r["source_ip"] for r in rows] == [
        "2001:da8:8000:1::1234",
        "240e:3a1:4c:60::2",
        "2408:8756:c52:1aa0::5",
    ]
    assert [r["source_line"] for r in rows] == [2, 3, 10]
    assert rows[0]["destination_ip"] == "2001:db8:1:332::ef"
    assert rows[0]["feed_name"] == "shadowserver-event6-sinkhole-http"
    assert [(r["country"], r["region"]) for r in rows] == [("CN", "BJ"), ("CN", "GD"), ("CN", "SD")]
    rejects = {r["line"]: r["reason"] for r in list_rejects(workspace)}
    assert rejects == {
        5: "src_ip is not an IP address",
        6: "src_ip is not an IPv6 address",
        7: "src_ip is not an IP address",
        8: "timestamp is missing or not a date-time",
        9: rejects[9],
    }
    assert rejects[9].startswith("MISSING COLUMNS")
