"""The lake's events partitioned by event date: one file per UTC date of an ingested file, committed
as one step; readers of a lake from before partitioning, and its move into partitions."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from helpers import SAMPLES, lake_rows
from sitrep.cli import app
from sitrep.lake import maintain
from sitrep.lake.ingest import ingest_paths
from sitrep.lake.store import INGEST_RECORD, Lake, connect, file_span

HEADER = (SAMPLES / "2025-01-01-event4_sinkhole-cncert-cn.csv").read_text().splitlines()[0]
runner = CliRunner()


def sinkhole_days(path: Path, first: date, days: int, per_day: int = 5) -> Path:
    """A sinkhole report with ``per_day`` infected hosts on each of ``days`` UTC dates, the first and
    last of each date a second after and before UTC midnight (the dates Beijing time would blur)."""
    lines = [HEADER]
    for d in range(days):
        day = datetime.combine(first + timedelta(days=d), datetime.min.time(), UTC)
        moments = [day + timedelta(seconds=1), day + timedelta(days=1, seconds=-1)]
        moments += [day + timedelta(hours=h + 1) for h in range(per_day - 2)]
        for i, moment in enumerate(moments):
            ip = f"114.{d >> 8 & 255}.{d & 255}.{i}"
            lines.append(
                f'"{moment:%Y-%m-%d %H:%M:%S}","tcp","{ip}",1234,4134,"CN",,,,,,,,,'
                f'"198.51.100.1",80,,"US",,,,,,"x","mirai","mirai",,"http",,'
            )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def partitions(workspace) -> dict[str, list[str]]:
    """The events files by partition folder."""
    found: dict[str, list[str]] = {}
    for path in Lake.of(workspace).event_files():
        found.setdefault(Path(path).parent.name, []).append(Path(path).name)
    return found


def dates_in_files(workspace) -> set[tuple[str, str]]:
    """(partition folder, UTC date) of every event, as files other tools would read them."""
    con = connect(workspace)
    try:
        listed = ", ".join(f"'{p}'" for p in Lake.of(workspace).event_files())
        rows = con.execute(
            f"SELECT DISTINCT regexp_extract(filename, 'event_date=[0-9-]+'), CAST(time_source AS DATE)::VARCHAR "
            f"FROM read_parquet([{listed}], filename = true, hive_partitioning = false)"
        ).fetchall()
    finally:
        con.close()
    return set(rows)


@pytest.mark.parametrize("days", [3, 40])  # 40: more dates than are written one by one
def test_a_file_of_several_dates_is_committed_as_one_file_per_utc_date(workspace, tmp_path, days):
    feed = sinkhole_days(tmp_path / "2025-01-01-event4_sinkhole-days-cn.csv", date(2024, 12, 30), days)
    [result] = ingest_paths(workspace, [feed])
    assert (result.read, result.accepted, result.rejected) == (5 * days, 5 * days, 0)
    found = partitions(workspace)
    expected = [f"event_date={date(2024, 12, 30) + timedelta(days=d)}" for d in range(days)]
    assert sorted(found) == expected and all(len(names) == 1 for names in found.values())
    assert dates_in_files(workspace) == {(p, p.removeprefix("event_date=")) for p in expected}
    # Each name gives its file's span, which the file's own events bear out.
    for folder, [name] in found.items():
        first, end = file_span(name)
        assert first == datetime.fromisoformat(folder.removeprefix("event_date=")).replace(second=1, tzinfo=UTC)
        assert end == first + timedelta(days=1) - timedelta(seconds=1)
    lake = Lake.of(workspace)
    assert lake.ingest_span(result.ingest_id) == (
        datetime(2024, 12, 30, 0, 0, 1, tzinfo=UTC),
        datetime(2024, 12, 30, 23, 59, 59, tzinfo=UTC) + timedelta(days=days - 1),
    )
    # Read as a Hive-partitioned dataset, the folder names give each event's date.
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    hive = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE event_date = CAST(time_source AS DATE)) "
        f"FROM read_parquet('{lake.events_dir}/*/*.parquet', hive_partitioning = true)"
    ).fetchone()
    assert hive == (5 * days, 5 * days)
    assert not list(Path(lake.events_dir).glob(f"*{INGEST_RECORD}"))  # the commit's record is gone
    [again] = ingest_paths(workspace, [feed])
    assert (again.accepted, again.duplicates) == (0, 5 * days)


def test_an_ingest_stopped_between_its_files_counts_none_of_them(workspace, tmp_path, monkeypatch):
    feed = sinkhole_days(tmp_path / "2025-01-01-event4_sinkhole-days-cn.csv", date(2025, 1, 1), 4)
    lake = Lake.of(workspace)

    class Stopped(BaseException):
        """The process dying there (as kill -9 would), after the steps before it."""

    real = Lake.commit
    committed: list[str] = []

    def commit(self, tmp, final):
        if len(committed) == 2:
            raise Stopped
        real(self, tmp, final)
        committed.append(str(final))

    monkeypatch.setattr(Lake, "commit", commit)
    with pytest.raises(Stopped):
        ingest_paths(workspace, [feed])
    monkeypatch.setattr(Lake, "commit", real)

    events = Path(lake.events_dir)
    [record] = events.glob(f"*{INGEST_RECORD}")
    outputs = json.loads(record.read_text(encoding="utf-8"))["outputs"]
    assert len(outputs) == 4 and all((events / key).exists() for key in outputs[:2])
    assert lake_rows(workspace) == [] and lake.event_files() == []  # two of four files: none counts

    [result] = ingest_paths(workspace, [feed])  # the next writer undoes the stopped commit first
    assert result.accepted == 20 and len(lake_rows(workspace)) == 20
    assert not list(events.glob(f"*{INGEST_RECORD}"))
    assert len(list(events.glob("event_date=*/*.parquet"))) == 4


def test_a_lake_from_before_partitioning_is_read_and_compact_moves_it_into_partitions(workspace, tmp_path):
    feeds = [
        sinkhole_days(tmp_path / "2025-01-01-event4_sinkhole-a-cn.csv", date(2025, 1, 1), 6),
        sinkhole_days(tmp_path / "2025-01-06-event4_sinkhole-b-cn.csv", date(2025, 1, 6), 3, per_day=7),
        *sorted(p for p in SAMPLES.iterdir() if p.is_file()),
    ]
    ingest_paths(workspace, feeds)
    lake = Lake.of(workspace)
    events = Path(lake.events_dir)
    home = ["--home", str(workspace.root)]

    def week(name: str) -> dict:
        result = runner.invoke(app, [*home, "metrics", "--week", name, "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    before = [week("2025-W01"), week("2025-W02")], lake_rows(workspace, order="event_id")
    # As the lake looked before partitioning: one file per ingest in events/ itself, named by its span.
    con = connect(workspace)
    by_ingest: dict[str, list[Path]] = {}
    for path in lake.event_files():
        by_ingest.setdefault(Path(path).name.split("__")[0], []).append(Path(path))
    for ingest_id, files in by_ingest.items():
        listed = ", ".join(f"'{p}'" for p in files)
        first, last = con.execute(f"SELECT min(time_source), max(time_source) FROM read_parquet([{listed}])").fetchone()
        target = events / f"{ingest_id}__{first:%Y%m%d%H%M%S}__{last:%Y%m%d%H%M%S}.parquet"
        rows = f"read_parquet([{listed}], hive_partitioning = false)"
        con.execute(f"COPY (SELECT * FROM {rows}) TO '{target}' (FORMAT parquet)")
        for path in files:
            lake.remove(path)
    con.close()
    assert not list(events.glob("event_date=*")) and len(list(events.glob("*.parquet"))) == len(by_ingest)
    assert ([week("2025-W01"), week("2025-W02")], lake_rows(workspace, order="event_id")) == before

    outcome = maintain.compact(workspace, grace=timedelta(0))
    assert sum(len(m.replaced) for m in outcome.merges) == len(by_ingest)
    assert not list(events.glob("*.parquet"))  # every event is in its date's partition now
    assert all(Path(p).parent.name.startswith("event_date=") for p in lake.event_files())
    assert dates_in_files(workspace) == {(f"event_date={d}", d) for _, d in dates_in_files(workspace)}
    assert ([week("2025-W01"), week("2025-W02")], lake_rows(workspace, order="event_id")) == before
    [again] = ingest_paths(workspace, feeds[:1])
    assert again.accepted == 0  # still deduplicated against the moved events


def test_a_file_staged_without_the_lake_loses_at_commit_what_the_lake_holds(workspace, tmp_path):
    """As on Spark: a task stages a file of many dates without the lake; the commit leaves out the
    events the lake already holds, rewriting each date's file, and commits the rest in the partitions."""
    from sitrep.lake.ingest import commit, opened, stage

    feed = sinkhole_days(tmp_path / "2025-01-01-event4_sinkhole-days-cn.csv", date(2024, 12, 1), 40)
    part = sinkhole_days(tmp_path / "2025-01-01-event4_sinkhole-part-cn.csv", date(2024, 12, 1), 10)
    ingest_paths(workspace, [part])  # the first ten dates are in the lake already
    lake = Lake.of(workspace)
    with lake.writing() as work:
        staging = work / "task"
        staging.mkdir()
        with opened(workspace, None, staging) as task:
            [staged] = stage(task, feed, None)
        assert staged.rows == 200 and len(staged.pieces) == 40
        with opened(workspace, lake, work) as session:
            result = commit(session, staged)
    assert (result.read, result.accepted, result.duplicates) == (200, 150, 50)
    found = partitions(workspace)
    assert len(found) == 40 and all(len(names) == 1 for names in found.values())  # ten dates were all duplicates
    assert dates_in_files(workspace) == {(p, p.removeprefix("event_date=")) for p in found}
    assert len(lake_rows(workspace)) == 200  # every file has the lake's columns only
