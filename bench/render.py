"""Benchmark: one week's report in both languages and every format (`render_week`).

    .venv/bin/python bench/render.py [--home DIR] [--week 2026-W48] [--runs 3] [--profile FILE]

Without ``--home`` it first builds the demo workspace (`sitrep demo`, about a minute) in a temporary
folder.  Each run is a fresh process (imports, font and caches cold, as for `sitrep report`) that
times `render_week` of the week into an empty folder, with every stage timed apart (wall and CPU
seconds; a stage's time excludes the stages it calls):

  model      the facts and the report model of both languages (`editions`)
  charts     drawing the charts: SVG for HTML, PDF and Markdown, and the WeChat edition's as phone PNGs
  font       cutting the CJK font (the edition's cut, and each Markdown chart's)
  html       the HTML template (both the HTML edition and the page the PDF is laid out from)
  pdf        WeasyPrint laying out and writing the PDF
  md, json, wechat   those editions' text
  write      writing the files (atomic writes)

and the import of the modules.  Then it times `sitrep report --week W` as a command (wall clock,
imports included).  It prints the median of the runs per stage and the load average before and after
(the machine is shared: compare CPU seconds when it is busy).  ``--profile FILE`` writes a cProfile of
one more run to FILE (`python -m pstats FILE`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SITREP = Path(sys.executable).with_name("sitrep")
# Stage → the functions whose time is the stage's (module, attribute); patched in the child process
# (a function missing from the version measured is left out: the bench also measured the code before).
STAGES = {
    "model": [("sitrep.report.publish", "editions")],
    "charts": [
        ("sitrep.report.render.html", "draw_charts"),
        ("sitrep.report.render.html", "chart_svgs"),
        ("sitrep.report.charts", "png"),
    ],
    "font": [("sitrep.report.render.html", "font_subset"), ("sitrep.report.render.html", "embedded_font_css")],
    "html": [("sitrep.report.render.html", "render_html")],
    "pdf": [("sitrep.report.render.pdf", "render_pdf")],
    "md": [("sitrep.report.render.markdown", "render_markdown")],
    "json": [("sitrep.report.render.json", "render_json")],
    "wechat": [("sitrep.report.render.wechat", "render_wechat")],
    "write": [("sitrep.report.render", "atomic_write")],
}
# Modules that import one of those functions by name: their binding is patched too.
IMPORTERS = ("sitrep.report.render.pdf", "sitrep.report.render.html", "sitrep.report.publish")

CHILD = r"""
import importlib, json, sys, time
from pathlib import Path
clock, cpu = time.perf_counter, time.process_time
start, start_cpu = clock(), cpu()
from sitrep.config import load_workspace
from sitrep.report import publish
from sitrep.report.render import html, json as json_, markdown, pdf, wechat
from sitrep.weeks import Week
import weasyprint
imported = (clock() - start, cpu() - start_cpu)
stages, importers, home, week, out, profile = json.loads(sys.argv[1])
totals = {name: [0.0, 0.0] for name in stages}
stack = []

def timed(name, function):
    def wrapper(*args, **kwargs):
        stack.append([0.0, 0.0])
        t0, c0 = clock(), cpu()
        try:
            return function(*args, **kwargs)
        finally:
            wall, used = clock() - t0, cpu() - c0
            inner = stack.pop()
            totals[name][0] += wall - inner[0]
            totals[name][1] += used - inner[1]
            if stack:
                stack[-1][0] += wall
                stack[-1][1] += used
    return wrapper

for name, functions in stages.items():
    for module, attribute in functions:
        original = getattr(importlib.import_module(module), attribute, None)
        if original is None:  # not in this version of Sitrep (the bench also measures older ones)
            continue
        wrapped = timed(name, original)
        for holder in {module, *importers}:
            held = importlib.import_module(holder)
            if getattr(held, attribute, None) is original:
                setattr(held, attribute, wrapped)
workspace = load_workspace(home)
t0, c0 = clock(), cpu()
if profile:
    import cProfile
    cProfile.runctx("publish.render_week(workspace, Week.parse(week), out=Path(out))", globals(), locals(), profile)
else:
    files = publish.render_week(workspace, Week.parse(week), out=Path(out))
total = (clock() - t0, cpu() - c0)
print(json.dumps({"import": imported, "total": total, "stages": totals}))
"""


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def run_child(home: Path, week: str, profile: str = "") -> dict:
    """One cold run of render_week in a fresh process; its timings."""
    with tempfile.TemporaryDirectory(prefix="sitrep-bench-render-") as out:
        arguments = json.dumps([STAGES, IMPORTERS, str(home), week, out, profile])
        done = subprocess.run([sys.executable, "-c", CHILD, arguments], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_command(home: Path, week: str) -> float:
    """``sitrep report --week W`` as a command into an empty folder: its wall seconds."""
    with tempfile.TemporaryDirectory(prefix="sitrep-bench-render-") as out:
        start = time.perf_counter()
        command = [str(SITREP), "--home", str(home), "report", "--week", week, "--output", out]
        subprocess.run(command, check=True, capture_output=True, env={**os.environ})
        return time.perf_counter() - start


def latest_week(home: Path) -> str:
    published = sorted(p.stem for p in (home / "reports" / "published").glob("*.json"))
    if not published:
        sys.exit(f"{home}: no published week; give --week")
    return published[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, help="a workspace (default: build the demo in a temporary folder)")
    parser.add_argument("--week", help="ISO week (default: the workspace's latest published week)")
    parser.add_argument("--runs", type=int, default=3, help="cold runs, each in a fresh process (default 3)")
    parser.add_argument("--profile", help="also write a cProfile of one run to this file")
    args = parser.parse_args()
    built = None
    home = args.home
    if home is None:
        built = Path(tempfile.mkdtemp(prefix="sitrep-bench-demo-"))
        home = built / "demo"
        print(f"building the demo workspace in {home} …", flush=True)
        subprocess.run([str(SITREP), "demo", str(home)], check=True, capture_output=True)
    try:
        week = args.week or latest_week(home)
        print(f"week {week} of {home}; load average before: {load()}")
        runs = [run_child(home, week) for _ in range(args.runs)]
        print(f"\nrender_week, both languages, every format: median of {args.runs} cold runs (seconds)")
        print(f"{'stage':10s} {'wall':>7s} {'cpu':>7s}")
        for name in STAGES:
            wall = statistics.median(r["stages"][name][0] for r in runs)
            used = statistics.median(r["stages"][name][1] for r in runs)
            print(f"{name:10s} {wall:7.2f} {used:7.2f}")
        for label, key in (("total", "total"), ("(imports)", "import")):
            wall = statistics.median(r[key][0] for r in runs)
            used = statistics.median(r[key][1] for r in runs)
            print(f"{label:10s} {wall:7.2f} {used:7.2f}")
        command = statistics.median(run_command(home, week) for _ in range(args.runs))
        print(f"\n`sitrep report --week {week}` (a command, imports included): {command:.2f} s wall")
        if args.profile:
            run_child(home, week, args.profile)
            print(f"profile written to {args.profile}")
        print(f"load average after: {load()}")
    finally:
        if built is not None:
            shutil.rmtree(built, ignore_errors=True)


if __name__ == "__main__":
    main()
