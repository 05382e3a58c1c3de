"""Benchmark: how one week's metrics and a big feed's ingest grow with size, on DuckDB and on Spark.

    .venv/bin/python bench/scale.py [--sizes 1M,10M,50M] [--ingest-rows 10M] [--ingest-files 4]
                                    [--engines duckdb,spark] [--master 'local[2]'] [--keep]

For each size, builds the lake of bench/metrics.py (N events over 10 weeks, one file per day and feed
kind) and times `sitrep metrics --week 2025-W01 --json --engine E` for each engine, each run a separate
process (Spark's session start included: every command pays it).  Size 0 is an empty workspace: each
engine's fixed cost.  Then writes bench/ingest.py's event4_sinkhole report of --ingest-rows rows and
times `sitrep ingest --engine E` of it into an empty lake (one file: one Spark task), then of the same
number of rows split into --ingest-files files (side by side on Spark); both engines must commit the
same counts (read, accepted, duplicates, rejected per file), which is checked.

Prints each run (seconds, events or rows per second, peak memory of the `sitrep` process: Spark's JVM
is not counted), then each engine's seconds per size and the cost of a further million events between
consecutive sizes.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

from ingest import SITREP, generate, run  # bench/ingest.py: the same feed and the same timing

from metrics import build_lake  # bench/metrics.py: the same lake
from sitrep.workspace import init_workspace

ENGINES = ("duckdb", "spark")
WEEK = "2025-W01"
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)([kKmM]?)$")
_UNITS = {"": 1, "k": 1_000, "m": 1_000_000}


def parse_size(text: str) -> int:
    """``1M``, ``500k``, ``2.5M`` or a plain number of events."""
    match = _SIZE.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (1M, 500k, 20000)")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def label(events: int) -> str:
    """``1M``, ``500k``, ``0``: a size as the options write it."""
    if events and events % 1_000_000 == 0:
        return f"{events // 1_000_000}M"
    if events and events % 1_000 == 0:
        return f"{events // 1_000}k"
    return str(events)


def set_master(home: Path, master: str) -> None:
    """Run the workspace's Spark session on ``master`` (sitrep init writes ``local[2]``)."""
    config = home / "sitrep.toml"
    text = config.read_text(encoding="utf-8")
    default = 'master = "local[2]"'
    if default not in text:
        raise SystemExit(f"{config}: no {default} to replace (has sitrep init's template changed?)")
    config.write_text(text.replace(default, f'master = "{master}"', 1), encoding="utf-8")


def workspace(root: Path, events: int, master: str) -> Path:
    """A workspace with a lake of ``events`` events (bench/metrics.py's), or none for 0."""
    home = build_lake(root, events) if events else init_workspace(root).root
    set_master(home, master)
    return home


def time_metrics(work: Path, sizes: list[int], engines: list[str], master: str, keep: bool) -> dict[str, list[float]]:
    """Seconds of one week's metrics per engine, one per size."""
    seconds: dict[str, list[float]] = {engine: [] for engine in engines}
    for events in sizes:
        started = time.perf_counter()
        home = workspace(work / f"lake-{label(events)}", events, master)
        print(f"\nmetrics of {WEEK} over {events:,} events (lake built in {time.perf_counter() - started:.1f} s)")
        for engine in engines:
            command = [*SITREP, "--home", str(home), "metrics", "--week", WEEK, "--json", "--engine", engine]
            seconds[engine].append(run(engine, command, events, "events")["seconds"])
        if not keep:
            shutil.rmtree(home)
    return seconds


def feed_files(folder: Path, rows: int, files: int) -> list[Path]:
    """bench/ingest.py's sinkhole report: ``files`` files of ``rows / files`` rows (other sources each)."""
    folder.mkdir(parents=True)
    written = []
    for k in range(files):
        path = folder / f"2025-01-01-event4_sinkhole-bench{k}-cn.csv"
        generate(path, rows // files, seed=7 + k)
        written.append(path)
    return written


def committed(home: Path) -> list[tuple[str, int, int, int, int]]:
    """What the ingest committed, per file: read, accepted, duplicates, rejected (the lake's summaries)."""
    summaries = [json.loads(p.read_text(encoding="utf-8")) for p in (home / "lake" / "ingests").glob("*.json")]
    return sorted((s["file"], s["read"], s["accepted"], s["duplicates"], s["rejected"]) for s in summaries)


def time_ingest(work: Path, rows: int, files: int, engines: list[str], master: str) -> None:
    """`sitrep ingest` of ``rows`` rows as one file, then (``files`` > 1) as ``files`` files, per engine."""
    layouts = [1, files] if files > 1 else [1]
    for count in layouts:
        started = time.perf_counter()
        paths = feed_files(work / f"feeds-{count}", rows, count)
        size = sum(p.stat().st_size for p in paths) / 1e6
        print(
            f"\ningest of {rows:,} rows in {count} file(s) ({size:,.0f} MB, written in "
            f"{time.perf_counter() - started:.1f} s)"
        )
        counts = {}
        for engine in engines:
            home = workspace(work / f"ingest-{count}-{engine}", 0, master)
            command = [*SITREP, "--home", str(home), "ingest", "--quiet", "--engine", engine, *map(str, paths)]
            run(engine, command, rows)
            counts[engine] = committed(home)
            shutil.rmtree(home)
        if len({json.dumps(c) for c in counts.values()}) > 1:
            raise SystemExit(f"the engines committed different counts: {counts}")
        print(f"same counts on {', '.join(engines)}: {sum(c[2] for c in next(iter(counts.values()))):,} accepted")
        shutil.rmtree(paths[0].parent)


def summary(sizes: list[int], seconds: dict[str, list[float]]) -> None:
    """Seconds per size and engine, and the cost of a further million events between sizes."""
    print(f"\nmetrics of {WEEK}, seconds     " + "".join(f"{label(n):>10}" for n in sizes))
    for engine, values in seconds.items():
        print(f"{engine:<28}" + "".join(f"{v:>10.2f}" for v in values))
    for engine, values in seconds.items():
        steps = [
            f"{label(sizes[i])}→{label(sizes[i + 1])}: "
            f"{(values[i + 1] - values[i]) / ((sizes[i + 1] - sizes[i]) / 1e6):.2f} s"
            for i in range(len(sizes) - 1)
        ]
        if steps:
            print(f"{engine} per further million events: " + ", ".join(steps))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--sizes",
        default="1M,10M,50M",
        help="Lake sizes in events, comma-separated (0: an empty lake, each engine's fixed cost).",
    )
    parser.add_argument(
        "--ingest-rows", type=parse_size, default=10_000_000, help="Rows of the ingested feed (0: skip the ingest)."
    )
    parser.add_argument(
        "--ingest-files", type=int, default=4, help="Also ingest the same rows split into this many files (1: don't)."
    )
    parser.add_argument("--engines", default=",".join(ENGINES), help="Engines to time, comma-separated.")
    parser.add_argument("--master", default="local[2]", help="The Spark master of the workspaces ([query.spark]).")
    parser.add_argument("--keep", action="store_true", help="Keep the generated lakes.")
    args = parser.parse_args()
    try:
        sizes = sorted({parse_size(s) for s in args.sizes.split(",") if s.strip()})
    except argparse.ArgumentTypeError as exc:
        parser.error(f"--sizes: {exc}")
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = [e for e in engines if e not in ENGINES]
    if unknown or not engines:
        parser.error(f"--engines: {', '.join(unknown) or 'none given'}; the engines are {', '.join(ENGINES)}")
    if args.ingest_files < 1:
        parser.error("--ingest-files must be at least 1")
    work = Path(tempfile.mkdtemp(prefix="sitrep-bench-scale-"))
    print(f"{sys.executable}: sizes {', '.join(map(label, sizes))}, engines {', '.join(engines)}, master {args.master}")
    try:
        seconds = time_metrics(work, sizes, engines, args.master, args.keep) if sizes else {}
        if args.ingest_rows:
            time_ingest(work, args.ingest_rows, args.ingest_files, engines, args.master)
        if sizes:
            summary(sizes, seconds)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
