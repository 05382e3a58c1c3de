"""Benchmark: `sitrep metrics` for one week over a lake of N events.

    .venv/bin/python bench/metrics.py [--events 20000000] [--keep]

Builds a lake of N events spread over 10 weeks as one Parquet file per day and feed (as daily feed files give),
with the lake's own schema and a realistic mix: ~93% infected-host sightings, defacements, backdoors,
phishing pages, malware URLs and vulnerability records.  Then times the CLI, end to end:
  metrics     `sitrep metrics --week 2025-W01 --json` (two weeks of indicators plus all breakdowns)
and prints seconds, events/s and peak memory of the child process.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from sitrep.lake.schema import COLUMNS
from sitrep.lake.store import Lake, piece_keys, write_partitions
from sitrep.workspace import init_workspace

DAYS = 70
FIRST_DAY = "2024-11-04"  # Monday of 2024-W45; 2025-W01 is the 9th of the 10 weeks
FIRST = datetime(2024, 11, 4, tzinfo=ZoneInfo("Asia/Shanghai"))


def build_lake(root: Path, events: int) -> Path:
    """Write ``events`` events as one Parquet file per day into a new workspace's lake."""
    workspace = init_workspace(root)
    lake = Lake.of(workspace)
    lake.create()
    per_day = events // DAYS
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    kind = (
        "CASE WHEN k < 930 THEN 0 WHEN k < 945 THEN 1 WHEN k < 960 THEN 2 WHEN k < 985 THEN 3 "
        "WHEN k < 995 THEN 4 ELSE 5 END"
    )
    values = {
        "event_id": "substr(md5(CAST(d * 100000000 + i AS VARCHAR)), 1, 16)",
        "feed_name": "'bench'",
        "time_source": f"TIMESTAMPTZ '{FIRST_DAY} 00:00:00+08' + to_days(d) + to_seconds(i % 86400)",
        "classification_taxonomy": "['malicious-code', 'information-content-security', 'intrusions', 'fraud', "
        "'malicious-code', 'vulnerable'][kind + 1]",
        "classification_type": "['infected-system', 'unauthorised-information-modification', 'system-compromise', "
        "'phishing', 'malware-distribution', 'vulnerable-system'][kind + 1]",
        "classification_identifier": "['infected-system', 'defacement', 'webshell', 'phishing', "
        "'malware-distribution', 'vulnerability'][kind + 1]",
        "source_ip": "concat_ws('.', 1 + h % 223, (h >> 8) % 256, (h >> 16) % 256, (h >> 24) % 256)",
        "source_url": "CASE WHEN kind IN (3, 4) THEN 'http://s' || (h % 50000) || '.example.com/' || i END",
        "site": "CASE WHEN kind IN (1, 2, 3, 4) THEN 's' || (h % 50000) || "
        "CASE WHEN h % 20 = 0 THEN '.gov.cn' ELSE '.example.com' END END",
        "site_domain": "CASE WHEN kind IN (1, 2, 3, 4) THEN 's' || (h % 50000) || '.example.com' END",
        "site_suffix": "CASE WHEN kind IN (1, 2, 3, 4) THEN 'com' END",
        "is_gov": "h % 20 = 0",
        "malware_name": "CASE WHEN kind = 0 THEN ['mirai', 'gamarue', 'ramnit', 'conficker', 'sality'][h % 5 + 1] END",
        "event_description_target": "CASE WHEN kind = 3 THEN 'www.icbc.com.cn' END",
        "target_domain": "CASE WHEN kind = 3 THEN 'www.icbc.com.cn' END",
        "vulnerability_id": "CASE WHEN kind = 5 THEN 'CNVD-2025-' || (d * 100000 + i % 100000) END",
        "vulnerability_severity": "CASE WHEN kind = 5 THEN ['高', '中', '低'][h % 3 + 1] END",
        "vulnerability_object_type": "CASE WHEN kind = 5 THEN '应用程序' END",
        "vulnerability_patched": "CASE WHEN kind = 5 THEN h % 4 > 0 END",
        "tlp": "'CLEAR'",
        "country": "CASE WHEN h % 10 < 8 THEN 'CN' ELSE 'US' END",
        "region": "CASE WHEN h % 10 < 8 THEN ['GD', 'JS', 'ZJ', 'SD', 'HA'][(h >> 8) % 5 + 1] END",
        "ip_domestic": "h % 10 < 8",
        "domestic": "h % 10 < 8",
    }
    select = ", ".join(f"CAST({values.get(c.name, 'NULL')} AS {c.sql}) AS {c.name}" for c in COLUMNS)
    # One file per day and feed kind, as ingesting daily feed files gives (a sinkhole report holds only
    # infected hosts, a CNVD file only vulnerabilities…), so Parquet statistics can skip whole files.
    for day in range(DAYS):
        rows = (
            f"SELECT *, {kind} AS kind FROM (SELECT CAST({day} AS BIGINT) AS d, i, "
            f"CAST(hash(i * 7919 + {day}) >> 1 AS BIGINT) AS h, "
            f"CAST(hash(i + {day}) % 1000 AS BIGINT) AS k FROM range({per_day}) t(i))"
        )
        con.execute(f"CREATE OR REPLACE TEMP TABLE day AS SELECT {select}, kind FROM ({rows})")
        for feed in range(6):
            # As an ingest writes them: a Beijing day's events are files of two UTC dates' partitions.
            rows = f"(SELECT * EXCLUDE (kind) FROM day WHERE kind = {feed})"
            pieces = write_partitions(con, rows, rows, lake.tmp_dir / f"{day}-{feed}")
            for path, key in piece_keys(f"bench-{day:03d}-{feed}", pieces):
                lake.commit(path, lake.events_dir / key)
    return root


def timed(label: str, command: list[str], events: int) -> None:
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{label}: {command} failed")
    print(
        f"{label:<8} {events:>12,} events {seconds:>7.2f} s {events / seconds:>14,.0f} events/s  "
        f"peak {usage.ru_maxrss / 1024:>6.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000_000)
    parser.add_argument("--keep", action="store_true", help="Keep the generated lake.")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sitrep-bench-metrics-"))
    started = time.perf_counter()
    home = build_lake(work / "ws", args.events)
    files = list((home / "lake" / "events").rglob("*.parquet"))
    size = sum(p.stat().st_size for p in files)
    print(
        f"built a lake of {args.events:,} events ({size / 1e6:,.0f} MB, {len(files)} files) "
        f"in {time.perf_counter() - started:.1f} s"
    )
    command = [sys.executable, "-m", "sitrep", "--home", str(home), "metrics", "--week", "2025-W01", "--json"]
    timed("metrics", command, args.events)
    if args.keep:
        print(f"kept {work}")
    else:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
