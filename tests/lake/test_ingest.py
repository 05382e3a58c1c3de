"""The lake's guarantees: idempotent re-ingest, atomic commit under kill -9, accounting of every row."""

import gzip
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from helpers import SAMPLES, lake_rows
from sitrep.config import load_workspace
from sitrep.lake.ingest import ingest_paths
from sitrep.lake.rejects import list_rejects
from sitrep.lake.store import Lake
from sitrep.workspace import init_workspace

SINKHOLE = SAMPLES / "2025-01-01-event4_sinkhole-cncert-cn.csv"
HEADER = SINKHOLE.read_text().splitlines()[0]


def sinkhole_file(path: Path, rows: int) -> Path:
    with open(path, "w") as out:
        out.write(HEADER + "\n")
        for i in range(rows):
            ip = f"114.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"
            out.write(
                f'"2025-01-01 {i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}","tcp","{ip}",'
                f'1234,4134,"CN",,,,,,,,,"198.51.100.1",80,,"US",,,,,,"x","mirai","mirai",,"http",,\n'
            )
    return path


def geo_rows(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    """A sinkhole report of one row a second, each (src_ip, src_geo, src_region)."""
    with open(path, "w") as out:
        out.write(HEADER + "\n")
        for second, (ip, cc, region) in enumerate(rows):
            out.write(
                f'"2025-01-01 00:00:{second:02d}","tcp","{ip}",1234,4134,"{cc}","{region}",,,,,,,,'
                f'"198.51.100.1",80,,"US",,,,,,"x","mirai","mirai",,"http",,\n'
            )
    return path


def test_ingesting_twice_adds_nothing(workspace):
    first = ingest_paths(workspace, [SINKHOLE])[0]
    second = ingest_paths(workspace, [SINKHOLE])[0]
    assert first.accepted == 3
    assert (second.read, second.accepted, second.duplicates, second.rejected) == (7, 0, 4, 3)
    assert len(lake_rows(workspace)) == 3
    assert len(Lake.of(workspace).event_files()) == 1


def test_event_id_is_deterministic_across_workspaces(tmp_path):
    from sitrep.workspace import init_workspace

    ids = []
    for name in ("a", "b"):
        ws = init_workspace(tmp_path / name)
        ingest_paths(ws, [SINKHOLE])
        ids.append([r["event_id"] for r in lake_rows(ws)])
    assert ids[0] == ids[1]
    assert len(set(ids[0])) == 3


def test_gzip_input_is_the_same_file(workspace, tmp_path):
    packed = tmp_path / (SINKHOLE.name + ".gz")
    packed.write_bytes(gzip.compress(SINKHOLE.read_bytes()))
    [result] = ingest_paths(workspace, [packed])
    assert (result.format, result.read, result.accepted) == ("shadowserver-event4-sinkhole", 7, 3)
    # The same rows in plain text are duplicates of the gzipped ones.
    [again] = ingest_paths(workspace, [SINKHOLE])
    assert again.accepted == 0


def test_read_equals_accepted_duplicates_rejected(workspace, tmp_path):
    big = sinkhole_file(tmp_path / "2025-01-01-event4_sinkhole-test-cn.csv", 500)
    first_row = big.read_text().splitlines()[1]
    with open(big, "a") as out:
        out.write(first_row + "\n")  # a duplicate
        out.write('"garbage","tcp"\n')
    [r] = ingest_paths(workspace, [big])
    assert (r.read, r.accepted, r.duplicates, r.rejected) == (502, 500, 1, 1)


def test_a_line_with_bad_utf8_is_rejected_and_later_lines_keep_their_numbers(workspace, tmp_path):
    path = sinkhole_file(tmp_path / "2025-01-01-event4_sinkhole-test-cn.csv", 4)
    lines = path.read_bytes().split(b"\n")
    fields = lines[1].split(b",")
    fields[9] = b'"\xff\xfe"'  # src_naics, which goes to extra
    lines[1] = b",".join(fields)
    lines[3] = lines[3].replace(b'"2025-01-01 00:00:02"', b'"yesterday"')
    path.write_bytes(b"\n".join(lines))
    [r] = ingest_paths(workspace, [path])
    assert (r.read, r.accepted, r.duplicates, r.rejected) == (4, 2, 0, 2)
    bad_text, bad_time = sorted(list_rejects(workspace), key=lambda x: x["line"])
    assert (bad_text["line"], bad_text["reason"]) == (2, "not valid UTF-8")
    assert bad_time["line"] == 4
    assert bad_time["reason"] == "timestamp is missing or not a date-time"
    assert '"timestamp":"yesterday"' in bad_time["raw"] and "114.0.0.2" in bad_time["raw"]
    assert [row["source_line"] for row in lake_rows(workspace)] == [3, 5]


def test_missing_required_column_rejects_the_file(workspace, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text('"timestamp","protocol"\n"2025-01-01 00:00:00","tcp"\n')
    [r] = ingest_paths(
        workspace,
        [bad],
        feed=__import__("sitrep.feeds", fromlist=["get_feed"]).get_feed("shadowserver-event4-sinkhole"),
    )
    assert r.error and "src_ip" in r.error
    assert lake_rows(workspace) == []


def test_unknown_format_is_an_error_not_a_crash(workspace, tmp_path):
    odd = tmp_path / "odd.bin"
    odd.write_bytes(b"\x00\x01\x02 nothing to see")
    [r] = ingest_paths(workspace, [odd])
    assert r.error and "not recognised" in r.error


@pytest.mark.slow
def test_killed_ingest_leaves_lake_before_or_after(workspace, tmp_path):
    rows = 200_000
    big = sinkhole_file(tmp_path / "2025-01-01-event4_sinkhole-kill-cn.csv", rows)
    env = os.environ | {"SITREP_HOME": str(workspace.root)}
    outcomes = set()
    for delay in (0.5, 1.0, 1.5, 2.5, 4.0):
        child = subprocess.Popen(
            [sys.executable, "-m", "sitrep", "ingest", "--quiet", str(big)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait()
        count = len(lake_rows(workspace))
        assert count in (0, rows), f"half-written lake after kill at {delay}s: {count} rows"
        outcomes.add(count)
        if count == rows:
            break
    # A later run finishes the job and leaves no work files behind.
    [result] = ingest_paths(workspace, [big])
    assert result.read == rows
    assert len(lake_rows(workspace)) == rows
    tmp = Lake.of(workspace).tmp_dir
    assert not tmp.exists() or not any(tmp.iterdir())
    assert 0 in outcomes  # at least one kill landed mid-ingest


def test_columns_with_one_value_per_file_read_back_as_plain_text(workspace):
    import pyarrow.parquet as pq

    from sitrep.lake.schema import ARROW_SCHEMA

    urls = SAMPLES / "2025-01-06-malware_url-cncert-cn.csv"
    results = ingest_paths(workspace, [SINKHOLE, urls])
    for path in Lake.of(workspace).event_files():
        schema = pq.read_schema(path)
        assert [(f.name, f.type) for f in schema] == [(f.name, f.type) for f in ARROW_SCHEMA]
    rows = lake_rows(workspace)
    sinkhole = [r for r in rows if r["feed_name"] == "shadowserver-event4-sinkhole"]
    assert len(sinkhole) == 3
    for row in sinkhole:
        fixed = (row["feed_provider"], row["tlp"], row["classification_type"])
        assert fixed == ("Shadowserver", "AMBER", "infected-system")
        assert (row["ingest_id"], row["source_file"]) == (results[0].ingest_id, str(SINKHOLE))
        assert row["site"] is None and row["site_domain"] is None and row["is_gov"] is False
    downloads = [r for r in rows if r["feed_name"] != "shadowserver-event4-sinkhole"]
    assert downloads and all(r["site"] and r["ingest_id"] == results[1].ingest_id for r in downloads)


def test_country_and_region_come_from_the_feed_first_then_the_ip_database(workspace, tmp_path):
    # (src_ip, src_geo, src_region) → (country, region).  The IP database has 114.114.114.114 in
    # Jiangsu, 223.5.5.5 in Zhejiang and 8.8.8.8 in the US.
    cases = [
        (("114.114.114.114", "CN", "ZHEJIANG"), ("CN", "ZJ")),  # the feed's region, though the IP is Jiangsu's
        (("223.5.5.5", "CN", ""), ("CN", "ZJ")),  # no region: the IP database's
        (("223.5.5.5", "CN", "ATLANTIS"), ("CN", "ZJ")),  # a region name no alias knows: the IP database's
        (("114.114.114.114", "", ""), ("CN", "JS")),  # no country: both from the IP database
        (("8.8.8.8", "", ""), ("US", None)),
        (("223.5.5.5", "US", "CALIFORNIA"), ("US", None)),  # the feed's country wins; no region abroad
    ]
    path = geo_rows(tmp_path / "2025-01-01-event4_sinkhole-geo-cn.csv", [row for row, _ in cases])
    [result] = ingest_paths(workspace, [path])
    assert (result.accepted, result.rejected) == (len(cases), 0)
    rows = lake_rows(workspace)
    assert [(r["country"], r["region"]) for r in rows] == [expected for _, expected in cases]


def test_an_address_in_the_constituency_networks_is_domestic_whatever_its_country(tmp_path):
    home = init_workspace(tmp_path / "ws").root
    config = home / "sitrep.toml"
    config.write_text(
        config.read_text().replace("constituency_networks = []", 'constituency_networks = ["8.8.8.0/24"]')
    )
    workspace = load_workspace(home)
    rows = [("8.8.8.8", "US", ""), ("8.8.4.4", "US", ""), ("8.8.8.9", "", "")]
    ingest_paths(workspace, [geo_rows(tmp_path / "2025-01-01-event4_sinkhole-networks-cn.csv", rows)])
    rows = lake_rows(workspace)
    assert [(r["source_ip"], r["country"], r["ip_domestic"]) for r in rows] == [
        ("8.8.8.8", "US", True),
        ("8.8.4.4", "US", False),
        ("8.8.8.9", "US", True),
    ]


def test_a_copy_of_a_time_less_feed_is_all_duplicates_but_a_later_week_counts_again(workspace, tmp_path):
    """OpenPhish's plain list has no times: an event's time is the file's, and its identity is the URL
    in that reporting week, so a copy (a new modification time) adds nothing."""
    plain = SAMPLES / "openphish-feed.txt"

    def copy(name, moment):
        target = tmp_path / name
        target.write_bytes(plain.read_bytes())
        os.utime(target, (moment.timestamp(), moment.timestamp()))
        return target

    monday = datetime(2025, 1, 6, 9, 30, tzinfo=UTC)
    [first] = ingest_paths(workspace, [copy("feed.txt", monday)])
    assert first.accepted > 0
    [same_week] = ingest_paths(workspace, [copy("feed-copy.txt", monday + timedelta(days=3, hours=5))])
    assert (same_week.accepted, same_week.duplicates) == (0, first.accepted + first.duplicates)
    [later] = ingest_paths(workspace, [copy("feed-later.txt", monday + timedelta(days=7))])
    assert later.accepted == first.accepted
    weeks = {row["time_source"].date() for row in lake_rows(workspace)}
    assert weeks == {monday.date(), (monday + timedelta(days=7)).date()}
