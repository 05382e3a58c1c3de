"""End to end: the demo's feed files, read back with the csv module, give the numbers `sitrep metrics`
reports — an independent count of the same files, not a second copy of the indicator code."""

import csv
import json
from datetime import UTC, datetime

import pytest

from sitrep.demo.feeds import BRANDS, volumes, write_week
from sitrep.lake.ingest import ingest_paths
from sitrep.metrics.weekly import compute
from sitrep.weeks import Week

WEEKS = [Week(2024, 52), Week(2025, 1)]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from sitrep.workspace import init_workspace

    workspace = init_workspace(tmp_path_factory.mktemp("demo") / "ws")
    per_week = volumes(WEEKS, seed=3, scale=0.05)
    files = []
    for week in WEEKS:
        files += write_week(workspace.root / "feeds" / str(week), week, per_week[week], seed=3)
    results = ingest_paths(workspace, files)
    assert all(r.error is None and r.rejected == 0 for r in results)
    return workspace, files


def _rows(files, marker):
    for path in files:
        if marker in path.name:
            with open(path, newline="", encoding="utf-8") as handle:
                yield from csv.DictReader(handle)


def _json_rows(files, marker):
    for path in files:
        if marker in path.name:
            yield from (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines())


def _in_week(text, week, tz):
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T")).replace(tzinfo=UTC)
    start, end = week.bounds(tz)
    return start <= moment < end


def test_metrics_equal_an_independent_count_of_the_files(demo):
    workspace, files = demo
    tz = workspace.timezone
    week = WEEKS[-1]
    data = compute(workspace, week).indicators
    hosts = {
        r["src_ip"]
        for r in _rows(files, "event4_sinkhole")
        if r["src_geo"] == "CN" and _in_week(r["timestamp"], week, tz)
    }
    defaced = {
        r["http_host"].lower()
        for r in _rows(files, "compromised_website")
        if r["tag"] == "defacement" and _in_week(r["timestamp"], week, tz)
    }
    gov = {h for h in defaced if h.endswith(".gov.cn")}
    domestic_brands = {brand for _, brand in BRANDS}
    pages = {
        r["url"]
        for r in _json_rows(files, "openphish-premium")
        if r["brand"] in domestic_brands and _in_week(r["isotime"], week, tz)
    }
    assert data["infected_hosts"].value == len(hosts) > 0
    assert data["defaced_sites"].value == len(defaced) > 0
    assert data["defaced_gov_sites"].value == len(gov)
    assert data["phishing_pages"].value == len(pages) > 0
