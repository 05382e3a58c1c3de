"""``sitrep lake compact`` and ``retain``: fewer files, the same results; old files dropped, published
issues intact; a compaction stopped at any step leaves the old files or the merged one counted."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from helpers import SAMPLES
from sitrep.cli import app
from sitrep.config import Workspace, load_workspace
from sitrep.lake import maintain
from sitrep.lake.ingest import ingest_paths
from sitrep.lake.store import COMPACTION_RECORD, Lake, connect, events_source, file_span
from sitrep.weeks import Week
from sitrep.workspace import init_workspace

HEADER = (SAMPLES / "2025-01-01-event4_sinkhole-cncert-cn.csv").read_text().splitlines()[0]
FAMILIES = ("mirai", "andromeda", "gamut", "necurs")
WEEKS = ("2024-W51", "2024-W52", "2025-W01", "2025-W02")
FIRST_DAY = date(2024, 12, 16)
runner = CliRunner()


def daily_file(folder: Path, day: date, rows: int, seed: int) -> Path:
    """One day's sinkhole report: ``rows`` infected hosts seen that day (hours apart, in Beijing time)."""
    path = folder / f"{day:%Y-%m-%d}-event4_sinkhole-cncert-cn-{seed}.csv"
    lines = [HEADER]
    for i in range(rows):
        ip = f"114.{seed % 200}.{i >> 8 & 255}.{i & 255}"
        family = FAMILIES[(i + seed) % len(FAMILIES)]
        lines.append(
            f'"{day:%Y-%m-%d} {i % 24:02d}:{i % 60:02d}:07","tcp","{ip}",1234,4134,"CN",,,,,,,,,'
            f'"198.51.100.1",80,,"US",,,,,,"x","{family}","{family}",,"http",,'
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def daily_feeds(folder: Path, first: date, days: int) -> list[Path]:
    """Two small files a day from ``first`` on (as two daily feeds would leave), and the samples."""
    folder.mkdir()
    files = [daily_file(folder, first + timedelta(days=d), 20 + d, seed) for d in range(days) for seed in (d, d + 50)]
    return files + sorted(p for p in SAMPLES.iterdir() if p.is_file())


@pytest.fixture(scope="module")
def four_weeks(tmp_path_factory) -> Workspace:
    """A workspace holding four weeks of daily files and the samples, ingested once for the module."""
    folder = tmp_path_factory.mktemp("four-weeks")
    workspace = init_workspace(folder / "ws")
    ingest_paths(workspace, daily_feeds(folder / "feeds", FIRST_DAY, 28))
    return workspace


@pytest.fixture
def lake_of_four_weeks(four_weeks, tmp_path) -> Workspace:
    """A copy of :func:`four_weeks` for one test to change."""
    return load_workspace(shutil.copytree(four_weeks.root, tmp_path / "ws"))


def metrics(workspace: Workspace, week: str) -> dict:
    result = runner.invoke(app, ["--home", str(workspace.root), "metrics", "--week", week, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def stored(lake: Lake) -> set[str]:
    """Every file in the lake's events folder and its partitions, by key (the change marker aside)."""
    folder = Path(lake.events_dir)
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and p.name != ".state"}


def keys(lake: Lake, files) -> set[str]:
    return {str(Path(p).relative_to(Path(lake.events_dir))) for p in files}


def records(lake: Lake) -> list[Path]:
    return sorted(Path(lake.events_dir).glob(f"*{COMPACTION_RECORD}"))


def results(workspace: Workspace) -> tuple[list[dict], list[tuple]]:
    """Every indicator and breakdown of the weeks, and every event row."""
    con = connect(workspace)
    try:
        rows = con.execute(f"SELECT * FROM {events_source(Lake.of(workspace))} ORDER BY event_id").fetchall()
    finally:
        con.close()
    return [metrics(workspace, week) for week in WEEKS], rows


def test_compact_merges_small_files_and_changes_no_result(lake_of_four_weeks, tmp_path):
    workspace = lake_of_four_weeks
    lake = Lake.of(workspace)
    before_files = lake.event_files()
    before = results(workspace)
    assert len(before[1]) > 1000

    dry = runner.invoke(app, ["--home", str(workspace.root), "lake", "compact", "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.output)["dry_run"] and lake.event_files() == before_files

    done = runner.invoke(app, ["--home", str(workspace.root), "lake", "compact", "--json"])
    assert done.exit_code == 0, done.output
    outcome = json.loads(done.output)
    after_files = lake.event_files()
    assert outcome["files_before"] == len(before_files)
    assert outcome["files_after"] == len(after_files) < len(before_files) / 2
    assert sum(m["events"] for m in outcome["merges"]) <= len(before[1])
    assert results(workspace) == before
    # The replaced files stay for the grace period (queries that listed them may be reading them).
    assert keys(lake, before_files) <= stored(lake)
    assert maintain.compact(workspace).removed == 0
    finished = maintain.compact(workspace, grace=timedelta(0))
    replaced = sum(len(m["replaced"]) for m in outcome["merges"])
    assert finished.merges == () and finished.removed == replaced
    assert stored(lake) == keys(lake, after_files)
    assert results(workspace) == before
    # One file a partition, named by its date and the span of its events: a week still opens few files.
    con = connect(workspace)
    partitions = [Path(p).parent.name for p in after_files]
    assert len(partitions) == len(set(partitions)) and all(p.startswith("event_date=") for p in partitions)
    for path in after_files:
        first, end = file_span(path.name)
        low, high = con.execute(f"SELECT min(time_source), max(time_source) FROM '{path}'").fetchone()
        assert (first, end) == (low.replace(microsecond=0), high.replace(microsecond=0) + timedelta(seconds=1))
        assert Path(path).parent.name == f"event_date={low:%Y-%m-%d}" == f"event_date={high:%Y-%m-%d}"
    con.close()
    start, end = Week.parse("2025-W01").bounds(workspace.timezone)
    assert len(lake.event_files(start, end)) <= 8  # the UTC dates a Beijing week touches
    assert not records(lake)

    # Ingest still deduplicates against merged files.
    again = ingest_paths(workspace, daily_feeds(tmp_path / "again", FIRST_DAY, 3)[:6])
    assert sum(r.accepted for r in again) == 0


@pytest.mark.parametrize("stop_at", ["commit", "remove"])
def test_a_compaction_stopped_half_way_counts_old_or_new_files_never_both(lake_of_four_weeks, monkeypatch, stop_at):
    workspace = lake_of_four_weeks
    lake = Lake.of(workspace)
    before = results(workspace)
    old = keys(lake, lake.event_files())

    class Stopped(BaseException):
        """The process dying at that step (as kill -9 would), after the steps before it."""

    real = getattr(Lake, stop_at)

    def stop(self, *args):
        raise Stopped

    monkeypatch.setattr(Lake, stop_at, stop)
    with pytest.raises(Stopped):
        maintain.compact(workspace, grace=timedelta(0))
    monkeypatch.setattr(Lake, stop_at, real)

    listed = stored(lake)
    swaps = [json.loads(r.read_text(encoding="utf-8")) for r in records(lake)]
    assert swaps and old <= listed  # no old file was removed yet
    seen = keys(lake, lake.event_files())
    if stop_at == "commit":  # the first record is there, its output is not: the old files count
        assert len(swaps) == 1 and not set(swaps[0]["outputs"]) & listed
        assert seen == old
    else:  # the outputs are committed, the old files not yet removed: the outputs count instead of them
        replaced = {key for swap in swaps for key in swap["replaces"]}
        assert seen == (old - replaced) | {key for swap in swaps for key in swap["outputs"]}
    assert results(workspace) == before

    maintain.compact(workspace, grace=timedelta(0))  # the next run finishes (or undoes) the stopped one, merges
    assert not records(lake)
    assert stored(lake) == keys(lake, lake.event_files())
    assert results(workspace) == before


def test_retain_drops_old_files_keeps_straddling_ones_and_published_issues(lake_of_four_weeks, tmp_path):
    workspace = lake_of_four_weeks
    straddle = tmp_path / "2025-01-01-event4_sinkhole-straddle.csv"
    straddle.write_text(
        daily_file(tmp_path, date(2024, 12, 29), 20, 190).read_text()  # 00:00 to 19:00 UTC: across the cutoff
        + "\n".join(daily_file(tmp_path, date(2025, 1, 1), 3, 191).read_text().splitlines()[1:])
        + "\n"
    )
    ingest_paths(workspace, [straddle])
    home = ["--home", str(workspace.root)]
    published = runner.invoke(app, [*home, "publish", "--week", "2024-W51", "--force", "--reason", "test"])
    assert published.exit_code == 0, published.output
    frozen = metrics(workspace, "2024-W51")
    kept = metrics(workspace, "2025-W01"), metrics(workspace, "2025-W02")
    lake = Lake.of(workspace)
    files = lake.event_files()
    cutoff = Week.parse("2025-W01").bounds(workspace.timezone)[0]

    dry = maintain.retain(workspace, "1w", dry_run=True, today=date(2025, 1, 8))
    assert dry.cutoff == cutoff and dry.dropped and lake.event_files() == files
    done = maintain.retain(workspace, "1w", today=date(2025, 1, 8))
    assert done.dropped == dry.dropped
    remaining = lake.event_files()
    assert len(remaining) == len(files) - len(done.dropped)
    assert all(file_span(p.name)[1] <= cutoff for p in files if p.name in {Path(k).name for k in done.dropped})
    assert all(file_span(p.name)[1] > cutoff for p in remaining)
    assert [n for n in done.straddling if Path(n).name.startswith(straddle_id(workspace, straddle))]
    # The weeks from the cutoff on count what they did (2025-W01's "last week" is before it: gone).
    assert metrics(workspace, "2025-W02") == kept[1]
    values = {key: item["value"] for key, item in kept[0]["indicators"].items()}
    assert {key: item["value"] for key, item in metrics(workspace, "2025-W01")["indicators"].items()} == values
    assert kept[0]["breakdowns"] == metrics(workspace, "2025-W01")["breakdowns"]
    assert metrics(workspace, "2024-W51") != frozen  # its events are gone from the lake…

    # … but the published issue still renders from its frozen numbers, even with no event left at all.
    later = maintain.retain(workspace, "1w", today=date.today() + timedelta(days=60))
    assert lake.event_files() == [] and later.ingests
    assert not list(Path(lake.rejects_dir).iterdir()) and not list(Path(lake.ingests_dir).iterdir())
    out = tmp_path / "out"
    report = runner.invoke(app, [*home, "report", "--week", "2024-W51", "--format", "json,md", "-o", str(out)])
    assert report.exit_code == 0, report.output
    document = json.loads(next(out.glob("*.json")).read_text(encoding="utf-8"))
    values = {key: item["value"] for key, item in frozen["indicators"].items()}
    assert values["infected_hosts"] > 0
    assert {key: item["value"] for key, item in document["indicators"].items()} == values
    families = [(f["name"], f["hosts"]) for f in frozen["breakdowns"]["malware_families"]]
    assert [(f["name"], f["hosts"]) for f in document["breakdowns"]["malware_families"]] == families
    assert str(values["infected_hosts"]) in next(out.glob("*.md")).read_text(encoding="utf-8")

    bad = runner.invoke(app, [*home, "lake", "retain", "--keep", "two years"])
    assert bad.exit_code == 2 and "104w" in bad.output


def straddle_id(workspace: Workspace, source: Path) -> str:
    summaries = [json.loads(p.read_text()) for p in Path(Lake.of(workspace).ingests_dir).glob("*.json")]
    return next(s["ingest_id"] for s in summaries if s["file"] == str(source))


def test_readers_during_a_compaction_count_every_event_once(lake_of_four_weeks):
    workspace = lake_of_four_weeks
    lake = Lake.of(workspace)
    total = len(results(workspace)[1])
    before = len(lake.event_files())
    compaction = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"from sitrep.config import load_workspace; from sitrep.lake.maintain import compact; "
            f"compact(load_workspace({str(workspace.root)!r}))",
        ],
    )
    con = connect(workspace)
    counts: list[int] = []
    missing = 0
    try:
        while compaction.poll() is None or not counts:
            try:
                counts.append(con.execute(f"SELECT count(*) FROM {events_source(lake)}").fetchone()[0])
            except duckdb.IOException:  # a file removed between the listing and its reading: read again
                missing += 1
    finally:
        con.close()
    assert compaction.wait() == 0
    assert len(lake.event_files()) < before
    # Every read counted every event once; none found a file gone (the replaced ones stay a while).
    assert len(counts) > 1 and set(counts) == {total}
    assert missing == 0


def test_retain_drops_a_merged_file_in_its_grace_period_with_the_files_it_replaced(workspace, tmp_path):
    ingest_paths(workspace, daily_feeds(tmp_path / "feeds", FIRST_DAY, 13)[:26])
    lake = Lake.of(workspace)
    assert maintain.compact(workspace).merges  # the replaced files stay for the grace period
    assert records(lake)
    done = maintain.retain(workspace, "1w", today=date(2025, 1, 8))
    assert done.dropped and lake.event_files() == []
    assert stored(lake) == set()  # no replaced file shows again, no record is left
    assert [p.name for p in Path(lake.events_dir).iterdir()] == [".state"]  # no empty partition folder
