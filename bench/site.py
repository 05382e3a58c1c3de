"""Benchmark: `sitrep site` over an archive of N published issues.

    .venv/bin/python bench/site.py [--issues 100] [--from DEMO_WORKSPACE] [--jobs N] [--keep]

Builds a workspace with N published issues cheaply: the demo's published weeks (from ``--from``, a
workspace ``sitrep demo`` made, else a fresh ``sitrep demo`` into a temporary folder) and, for the weeks
before them, copies of those issue documents moved to the earlier week (week, dates, trend weeks and
publication time shifted; the real ``sitrep.issue/1`` format, evidence and all).  Then times the CLI end
to end, each run a separate process:
  first      `sitrep site -o OUT` into an empty folder, the first build of this archive (every issue is
             rendered, HTML, PDF and JSON in zh and en, and kept in the workspace's reports/editions/)
  unchanged  the same again (nothing changed: nothing is rendered)
  one        after one issue's document changed (its narrative): that issue alone is rendered
  full       `sitrep site -o NEW` into another empty folder: every issue copied from the kept editions
  upgrade    OUT again as after a Sitrep upgrade (the renderers' version in its manifest differs)
and prints seconds, CPU seconds and peak memory of each child process.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from sitrep.config import load_workspace
from sitrep.report.archive import archive, write_issue
from sitrep.report.redact import SECRET_NAME
from sitrep.report.site import MANIFEST_NAME
from sitrep.weeks import Week
from sitrep.workspace import init_workspace

SITREP = [sys.executable, "-m", "sitrep"]


def _run(args: list[str]) -> tuple[float, float, int, str]:
    """Run ``sitrep args``; its wall seconds, CPU seconds (its own and its children's) and peak RSS (MB)."""
    start = time.perf_counter()
    child = subprocess.Popen([*SITREP, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = child.stdout.read() if child.stdout else ""
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"sitrep {' '.join(args)} failed:\n{output}")
    # The workers' time is in the children's rusage of the measured process: ask the OS for ours.
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024, output.strip().splitlines()[-1]


def _moved(document: dict, week: Week) -> dict:
    """``document`` (an issue) as the issue of ``week``: same numbers and evidence, dates moved."""
    moved = copy.deepcopy(document)
    shift = (week.monday - Week.parse(document["week"]).monday).days
    moved["week"] = str(week)
    facts = moved["facts"]
    facts.update(week=str(week), start=week.monday.isoformat(), end=week.sunday.isoformat())
    for item in facts["series"]:
        item["week"] = str(Week.parse(item["week"]) + shift // 7)
    stamp = (datetime.fromisoformat(document["published_at"]) + timedelta(days=shift)).isoformat()
    moved["published_at"] = stamp
    moved.pop("refreshed_at", None)
    moved["history"] = [{"revision": 1, "action": "published", "changes": [], "at": stamp}]
    moved["revision"] = 1
    return moved


def build(root: Path, demo: Path, issues: int) -> Path:
    """A workspace of ``issues`` published issues derived from the demo workspace ``demo``."""
    ws = init_workspace(root)
    shutil.copy(demo / "sitrep.toml", root / "sitrep.toml")
    shutil.copy(demo / SECRET_NAME, root / SECRET_NAME)
    ws = load_workspace(root)
    found = archive(load_workspace(demo)).current
    if not found:
        raise SystemExit(f"{demo}: no published issue (run 'sitrep demo {demo}')")
    latest = found[-1].week
    documents = [i.document for i in found]
    for back in range(issues):
        week = latest - back
        source = documents[-1 - back % len(documents)]
        write_issue(ws, week, source if source["week"] == str(week) else _moved(source, week))
    return root


def _change_one(ws: Path) -> None:
    """Change the narrative of the issue in the middle of the archive."""
    files = sorted((ws / "reports" / "published").glob("*.json"))
    target = files[len(files) // 2]
    document = json.loads(target.read_text(encoding="utf-8"))
    document["narrative"] = {"zh": {"summary": "基准测试：本期摘要已修改。"}}
    target.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")


def _as_before_an_upgrade(site: Path) -> None:
    """Make the site's manifest record another renderers' version, as a build by an older Sitrep would."""
    path = site / MANIFEST_NAME
    manifest = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(manifest | {"context": "an older Sitrep"}), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--issues", type=int, default=100)
    parser.add_argument("--from", dest="demo", type=Path, help="a workspace 'sitrep demo' made (default: make one)")
    parser.add_argument("--jobs", type=int, help="passed to sitrep site --jobs (default: one per CPU)")
    parser.add_argument("--keep", action="store_true", help="keep the workspace and the site")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sitrep-bench-site-"))
    try:
        demo = args.demo
        if demo is None:
            demo = tmp / "demo"
            print(f"sitrep demo {demo} …", flush=True)
            _run(["demo", str(demo)])
        ws = build(tmp / "ws", demo.resolve(), args.issues)
        site = tmp / "site"
        home = ["--home", str(ws)]
        jobs = ["--jobs", str(args.jobs)] if args.jobs else []
        print(f"{args.issues} issues in {ws}; {os.cpu_count()} CPUs; load {os.getloadavg()[0]:.1f}")
        print(f"{'run':<10} {'seconds':>8} {'cpu s':>8} {'peak MB':>8}  sitrep says")
        runs = (("first", site), ("unchanged", site), ("one", site), ("full", tmp / "new"), ("upgrade", site))
        for name, out in runs:
            if name == "one":
                _change_one(ws)
            if name == "upgrade":
                _as_before_an_upgrade(site)
            wall, cpu, peak, said = _run([*home, "site", "-o", str(out), *jobs])
            print(f"{name:<10} {wall:8.1f} {cpu:8.1f} {peak:8d}  {said}", flush=True)
        wall, cpu, peak, said = _run([*home, "site", "-o", str(site), "--check"])
        print(f"{'check':<10} {wall:8.1f} {cpu:8.1f} {peak:8d}  {said}")
        if args.keep:
            print(f"kept: {tmp}")
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
