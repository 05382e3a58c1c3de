"""Benchmark: `sitrep ingest` on an N-row Shadowserver event4_sinkhole CSV, against DuckDB's bare scan.

    .venv/bin/python bench/ingest.py [--rows 1000000] [--repeat 1] [--small 100] [--keep]

Prints rows/s, seconds, CPU seconds (user + system) and peak memory (max RSS) of the child process for:
  floor   DuckDB `SELECT count(*) FROM read_csv(...)` on the same file, nothing else;
  convert DuckDB alone converting the same file to Parquet (`COPY (SELECT * FROM read_csv(...)) TO ...`);
  ingest  the full `sitrep ingest` (map, checks, dedup, enrichment, atomic commit) into an empty lake;
  again   the same file a second time (everything is a duplicate);
and the ratio ingest / convert (the target is at most 2 at 10M rows).  With ``--repeat N`` the convert and
the ingest (each into a new, empty workspace) run N times, alternately, and the ratio is that of their
medians: this machine's speed drifts by up to ±25% within an hour, so one pair can mislead (the ratio of
CPU seconds follows, steadier than wall time; the target is on wall time).  Then
  small   100 small feed files of every format (copies of tests/feeds/samples) in one `sitrep ingest`
          call (the target is under 20 s).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

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
    """Write a realistic sinkhole report with DuckDB: IPs from ~4,000 /16 prefixes, ten families,
    a week of timestamps, and about 2% of rows repeating an earlier row (duplicates to remove)."""
    families = ", ".join(f"'{f}'" for f in FAMILIES)
    regions = ", ".join(f"'{r}'" for r in REGIONS)
    columns = [c.strip('"') for c in HEADER.strip().split(",")]
    values = {
        "timestamp": "strftime(TIMESTAMP '2025-01-01' + to_seconds(i % 604800), '%Y-%m-%d %H:%M:%S')",
        "protocol": "'tcp'",
        "src_ip": "concat_ws('.', 1 + h1 % 223, (h1 >> 8) % 256, (h1 >> 16) % 256, 1 + (h1 >> 24) % 254)",
        "src_port": "1024 + (h1 >> 32) % 64000",
        "src_asn": "[4134, 4837, 9808, 4538, 37963][CAST(1 + (h1 >> 40) % 5 AS BIGINT)]",
        "src_geo": "'CN'",
        "src_region": f"[{regions}][CAST(1 + (h1 >> 44) % {len(REGIONS)} AS BIGINT)]",
        "dst_ip": "'198.51.100.' || (1 + (h1 >> 48) % 254)",
        "dst_port": "80",
        "dst_geo": "'US'",
        "public_source": "'CNCERT'",
        "infection": f"[{families}][CAST(1 + (h1 >> 52) % {len(FAMILIES)} AS BIGINT)]",
        "family": f"[{families}][CAST(1 + (h1 >> 52) % {len(FAMILIES)} AS BIGINT)]",
        "application": "'http'",
    }
    select = ", ".join(f'{values.get(c, "NULL")} AS "{c}"' for c in columns)
    # Every 50th row repeats row i - 1 (same hash, same time): a duplicate the ingest must drop.
    source = (
        f"SELECT i, hash(i + {seed}) AS h1 FROM "
        f"(SELECT CASE WHEN n % 50 = 49 THEN n - 1 ELSE n END AS i FROM range({rows}) t(n))"
    )
    con = duckdb.connect()
    con.execute(f"COPY (SELECT {select} FROM ({source})) TO '{path}' (HEADER, QUOTE '\"', FORCE_QUOTE *)")


SAMPLES = HERE.parent / "tests" / "feeds" / "samples"


def _small_files(folder: Path, count: int) -> list[Path]:
    """``count`` copies of the repository's sample feed files, each under a name of its own (Shadowserver
    samples keep Shadowserver's naming, with another recipient)."""
    folder.mkdir()
    samples = sorted(p for p in SAMPLES.iterdir() if p.is_file() and p.suffix != ".toml")
    files = []
    for i in range(count):
        sample = samples[i % len(samples)]
        name = sample.name.replace("-cncert-", f"-copy{i}-") if "-cncert-" in sample.name else f"{i}-{sample.name}"
        target = folder / name
        target.write_bytes(sample.read_bytes())
        files.append(target)
    return files


def run(label: str, command: list[str], rows: int, unit: str = "rows") -> dict[str, float]:
    """Run a command; its wall time and its own peak resident memory (wait4's rusage)."""
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{label}: {command} failed")
    peak_mib = usage.ru_maxrss / 1024
    cpu = usage.ru_utime + usage.ru_stime
    rate = f"{rows / seconds:>12,.0f} {unit}/s"
    print(f"{label:<8} {rows:>12,} {unit:<5} {seconds:>8.2f} s {rate}  cpu {cpu:>7.2f} s  peak {peak_mib:>7.0f} MiB")
    return {"seconds": seconds, "rows_per_s": rows / seconds, "peak_mib": peak_mib, "cpu_s": cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--small", type=int, default=100, help="How many small files to ingest in one call (0: skip that run)."
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="Run convert and ingest this many times, alternately (default 1)."
    )
    parser.add_argument("--keep", action="store_true", help="Keep the generated file and workspace.")
    args = parser.parse_args()
    if args.rows < 1 or args.small < 0 or args.repeat < 1:
        parser.error("--rows and --repeat must be at least 1, and --small at least 0")
    work = Path(tempfile.mkdtemp(prefix="sitrep-bench-"))
    try:
        csv = work / "2025-01-01-event4_sinkhole-bench-cn.csv"
        started = time.perf_counter()
        generate(csv, args.rows)
        print(f"generated {csv} ({csv.stat().st_size / 1e6:,.0f} MB) in {time.perf_counter() - started:.1f} s")
        floor = (
            "import duckdb,sys; c=duckdb.connect(); c.execute('SET threads=2');"
            f" print(c.execute(\"SELECT count(*) FROM read_csv('{csv}', all_varchar=true)\").fetchall())"
        )
        convert = (
            "import duckdb,sys; c=duckdb.connect(); c.execute('SET threads=2');"
            f" c.execute(\"COPY (SELECT * FROM read_csv('{csv}', all_varchar=true)) TO '{work / 'convert.parquet'}'"
            ' (FORMAT parquet)")'
        )
        run("floor", [sys.executable, "-c", floor], args.rows)
        converts, ingests = [], []
        for attempt in range(args.repeat):
            env_home = str(work / f"ws{attempt}")
            subprocess.run([*SITREP, "--home", env_home, "init"], check=True, stderr=subprocess.DEVNULL)
            converts.append(run("convert", [sys.executable, "-c", convert], args.rows))
            ingest = [*SITREP, "--home", env_home, "ingest", "--quiet", str(csv)]
            ingests.append(run("ingest", ingest, args.rows))
            if attempt == 0:
                run("again", ingest, args.rows)
            elif not args.keep:
                shutil.rmtree(env_home)
        label = "ingest / convert" + (f" (medians of {args.repeat})" if args.repeat > 1 else "")
        for measure, unit in (("seconds", "s"), ("cpu_s", "CPU s")):
            convert_s = statistics.median(r[measure] for r in converts)
            ingest_s = statistics.median(r[measure] for r in ingests)
            print(f"{label}: {ingest_s:.2f} {unit} / {convert_s:.2f} {unit} = {ingest_s / convert_s:.2f}")
        if args.small > 0:
            small = _small_files(work / "small", args.small)
            small_home = str(work / "small-ws")
            subprocess.run([*SITREP, "--home", small_home, "init"], check=True, stderr=subprocess.DEVNULL)
            run("small", [*SITREP, "--home", small_home, "ingest", "--quiet", *map(str, small)], len(small), "files")
    finally:
        # The generated file is large (150 MB per million rows): never leave it behind by accident.
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    os.sync()


if __name__ == "__main__":
    main()
