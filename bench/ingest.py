"""Benchmark: `sitrep ingest` on an N-row Shadowserver event4_sinkhole CSV, against DuckDB's bare scan.

    .venv/bin/python bench/ingest.py [--rows 1000000] [--keep]

Prints rows/s, seconds and peak memory (max RSS of the child process) for:
  floor   DuckDB `SELECT count(*) FROM read_csv(...)` on the same file, nothing else;
  ingest  the full `sitrep ingest` (map, checks, dedup, enrichment, atomic commit) into an empty lake;
  again   the same file a second time (everything is a duplicate).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SITREP = [sys.executable, "-m", "sitrep"]

HEADER = (
    '"timestamp","protocol","src_ip","src_port","src_asn","src_geo","src_region","src_city","src_hostname",'
    '"src_naics","src_sector","device_vendor","device_type","device_model","dst_ip","dst_port","dst_asn",'
    '"dst_geo","dst_region","dst_city","dst_hostname","dst_naics","dst_sector","public_source","infection",'
    '"family","tag","application","version","event_id"\n'
)
FAMILIES = [
    "mirai",
    "andromeda",
    "conficker",
    "gamarue",
    "necurs",
    "ramnit",
    "sality",
    "zeus",
    "emotet",
    "qakbot",
]
REGIONS = ["GUANGDONG", "JIANGSU", "ZHEJIANG", "SHANDONG", "HENAN", "BEIJING", "", ""]


def generate(path: Path, rows: int, seed: int = 7) -> None:
    """Write a realistic sinkhole report: mostly Chinese IPv4 space, ~2% repeated rows."""
    rng = random.Random(seed)
    prefixes = [(rng.randrange(1, 224), rng.randrange(256)) for _ in range(4000)]
    with open(path, "w", encoding="utf-8", buffering=1 << 20) as out:
        out.write(HEADER)
        previous = ""
        for i in range(rows):
            if previous and rng.random() < 0.02:
                out.write(previous)
                continue
            a, b = prefixes[rng.randrange(len(prefixes))]
            ip = f"{a}.{b}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            family = FAMILIES[rng.randrange(len(FAMILIES))]
            second = i % 86400
            line = (
                f'"2025-01-0{1 + i % 7} {second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}","tcp",'
                f'"{ip}",{rng.randrange(1024, 65535)},{rng.choice((4134, 4837, 9808, 4538, 37963))},"CN",'
                f'"{REGIONS[rng.randrange(len(REGIONS))]}",,,,,,,,"198.51.100.{rng.randrange(1, 255)}",80,,"US",,,,'
                f',,"CNCERT","{family}","{family}",,"http",,\n'
            )
            out.write(line)
            previous = line


def run(label: str, command: list[str], rows: int) -> dict[str, float]:
    """Run a command; its wall time and its own peak resident memory (wait4's rusage)."""
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{label}: {command} failed")
    peak_mib = usage.ru_maxrss / 1024
    print(
        f"{label:<8} {rows:>12,} rows {seconds:>8.2f} s {rows / seconds:>12,.0f} rows/s  peak {peak_mib:>7.0f} MiB"
    )
    return {"seconds": seconds, "rows_per_s": rows / seconds, "peak_mib": peak_mib}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="Keep the generated file and workspace.")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sitrep-bench-"))
    csv = work / "2025-01-01-event4_sinkhole-bench-cn.csv"
    started = time.perf_counter()
    generate(csv, args.rows)
    print(f"generated {csv} ({csv.stat().st_size / 1e6:,.0f} MB) in {time.perf_counter() - started:.1f} s")
    env_home = str(work / "ws")
    subprocess.run([*SITREP, "--home", env_home, "init"], check=True, stderr=subprocess.DEVNULL)
    floor = (
        "import duckdb,sys; c=duckdb.connect(); c.execute('SET threads=2');"
        f" print(c.execute(\"SELECT count(*) FROM read_csv('{csv}', all_varchar=true)\").fetchall())"
    )
    run("floor", [sys.executable, "-c", floor], args.rows)
    run("ingest", [*SITREP, "--home", env_home, "ingest", "--quiet", str(csv)], args.rows)
    run("again", [*SITREP, "--home", env_home, "ingest", "--quiet", str(csv)], args.rows)
    if not args.keep:
        import shutil

        shutil.rmtree(work)
    else:
        print(f"kept {work}")
    os.sync()


if __name__ == "__main__":
    main()
