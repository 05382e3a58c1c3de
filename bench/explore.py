"""Benchmark: the event explorer over a lake of N events.

    .venv/bin/python bench/explore.py [--events 20000000] [--repeat 15] [--lake DIR] [--keep]

Builds the lake of ``bench/metrics.py`` (N events over 10 weeks, one Parquet file per day and feed kind)
or reuses one (``--lake``, as ``--keep`` leaves it), then times, in one process after a warm-up, the
core functions the CLI and the web desk call (``sitrep.metrics.explore``):

  week page     the newest 50 events of 2025-W01, no filter
  filtered      2025-W01, class malicious-code/infected-system and a /8 network
  domain        2025-W01, events under one site's domain
  page 5        the 5th page of the filtered search, by its cursor
  behind        the first page of the events behind infected_hosts (draft week)

and prints p50 and p95 of each over ``--repeat`` runs, then one end-to-end `sitrep events search`.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from metrics import build_lake  # bench/metrics.py: the same lake
from sitrep.config import load_workspace
from sitrep.metrics.explore import events_behind, search_events
from sitrep.metrics.explore_model import EventQuery

WEEK = "2025-W01"
FILTERED = EventQuery(week=WEEK, classification="malicious-code/infected-system", ip="1.0.0.0/8")


def timed(label: str, call: Callable[[], object], repeat: int) -> None:
    call()  # warm-up: file footers, the page cache
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    seconds.sort()
    p95 = seconds[min(len(seconds) - 1, round(0.95 * (len(seconds) - 1)))]
    print(f"{label:<12} p50 {statistics.median(seconds) * 1000:>7.1f} ms   p95 {p95 * 1000:>7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--lake", type=Path, help="Reuse this workspace (built by an earlier --keep run).")
    parser.add_argument("--keep", action="store_true", help="Keep the generated lake.")
    args = parser.parse_args()
    work = None
    if args.lake:
        home = args.lake
    else:
        work = Path(tempfile.mkdtemp(prefix="sitrep-bench-explore-"))
        started = time.perf_counter()
        home = build_lake(work / "ws", args.events)
        print(f"built a lake of {args.events:,} events in {time.perf_counter() - started:.1f} s")
    ws = load_workspace(home)
    size = len(list((home / "lake" / "events").rglob("*.parquet")))
    print(f"lake: {home} ({size} files)")

    page = search_events(ws, FILTERED)
    site = next(e.site for e in search_events(ws, EventQuery(week=WEEK, classification="fraud")).events if e.site)
    cursor = None
    for _ in range(4):
        cursor = page.next_cursor
        page = search_events(ws, replace(FILTERED, after=cursor))
    fifth = replace(FILTERED, after=cursor)

    timed("week page", lambda: search_events(ws, EventQuery(week=WEEK)), args.repeat)
    timed("filtered", lambda: search_events(ws, FILTERED), args.repeat)
    timed("domain", lambda: search_events(ws, EventQuery(week=WEEK, domain=site)), args.repeat)
    timed("page 5", lambda: search_events(ws, fifth), args.repeat)
    timed("behind", lambda: events_behind(ws, WEEK, "infected_hosts"), args.repeat)
    print(f"(domain searched: {site})")

    command = [sys.executable, "-m", "sitrep", "--home", str(home), "events", "search", "--week", WEEK, "--json"]
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    print(f"CLI          `sitrep events search --week {WEEK} --json` end to end: {time.perf_counter() - started:.2f} s")
    if work is not None:
        if args.keep:
            print(f"kept {work} (reuse with --lake {home})")
        else:
            shutil.rmtree(work)


if __name__ == "__main__":
    main()
