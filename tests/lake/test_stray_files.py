"""Files in the lake that are not its own: a clear message naming the path, or skipped — never a traceback."""

from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from helpers import SAMPLES, lake_rows
from sitrep.cli import app
from sitrep.lake.errors import LakeError
from sitrep.lake.ingest import ingest_paths
from sitrep.lake.store import Lake

SINKHOLE = SAMPLES / "2025-01-01-event4_sinkhole-cncert-cn.csv"
runner = CliRunner()


def _sitrep(workspace, *args: str):
    result = runner.invoke(app, ["--home", str(workspace.root), *args])
    assert "Traceback" not in result.output
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def test_a_symlinked_work_folder_is_refused_by_name(workspace, tmp_path):
    lake = Lake.of(workspace)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    lake.tmp_dir.parent.mkdir(parents=True, exist_ok=True)
    if lake.tmp_dir.exists():
        lake.tmp_dir.rmdir()
    lake.tmp_dir.symlink_to(elsewhere)
    with pytest.raises(LakeError, match=r"\.tmp is a symbolic link"):
        ingest_paths(workspace, [SINKHOLE])
    result = _sitrep(workspace, "ingest", str(SINKHOLE))
    assert result.exit_code == 2
    assert ".tmp is a symbolic link" in result.output and "remove the link" in result.output
    assert lake_rows(workspace) == []
    assert list(elsewhere.iterdir()) == []  # nothing was written through the link


def test_a_stray_file_where_the_work_folder_goes_is_cleared(workspace):
    lake = Lake.of(workspace)
    lake.root.mkdir(parents=True, exist_ok=True)
    if lake.tmp_dir.is_dir():
        lake.tmp_dir.rmdir()
    lake.tmp_dir.write_text("left over", encoding="utf-8")
    [result] = ingest_paths(workspace, [SINKHOLE])
    assert result.accepted == 3 and len(lake_rows(workspace)) == 3


def test_a_file_where_the_events_folder_belongs_is_named(workspace):
    lake = Lake.of(workspace)
    lake.root.mkdir(parents=True, exist_ok=True)
    if lake.events_dir.is_dir():
        lake.events_dir.rmdir()
    lake.events_dir.write_text("not a folder", encoding="utf-8")
    result = _sitrep(workspace, "ingest", str(SINKHOLE))
    assert result.exit_code == 2 and "events is a file, not a folder of the lake" in result.output
    result = _sitrep(workspace, "metrics", "--week", "2025-W01")
    assert result.exit_code == 2 and "events is not a folder" in result.output


def test_a_stray_parquet_name_that_is_not_parquet_is_named(workspace):
    ingest_paths(workspace, [SINKHOLE])
    stray = Lake.of(workspace).events_dir / "copied-by-hand.parquet"
    stray.write_text("id,value\n1,2\n", encoding="utf-8")
    result = _sitrep(workspace, "metrics", "--week", "2025-W01")
    assert result.exit_code == 2
    assert "copied-by-hand.parquet is not a Parquet file" in result.output
    result = _sitrep(workspace, "ingest", str(SINKHOLE))
    assert result.exit_code == 2 and "copied-by-hand.parquet" in result.output
    result = _sitrep(workspace, "rejects")
    assert result.exit_code == 0  # the rejects folder is clean: its command is not stopped
    stray.unlink()
    assert _sitrep(workspace, "metrics", "--week", "2025-W01").exit_code == 0


def test_stray_files_and_folders_that_are_not_parquet_names_are_skipped(workspace):
    ingest_paths(workspace, [SINKHOLE])
    events = Lake.of(workspace).events_dir
    (events / "notes.txt").write_text("who ingested this?", encoding="utf-8")
    (events / "old.parquet").mkdir()  # a folder with a Parquet name
    (events / "gone.parquet").symlink_to(events / "nowhere.parquet")  # a broken link
    (events / "event_date=2025-01-01" / "notes.txt").write_text("a note in a partition", encoding="utf-8")
    (events / "backup").mkdir()  # a folder that is no partition: not read
    (events / "backup" / "x__20250101000000__20250101000000.parquet").write_text("not parquet", encoding="utf-8")
    committed = sorted(events.glob("event_date=*/*__*.parquet"))
    assert [p.name for p in Lake.of(workspace).event_files()] == [p.name for p in committed] and committed
    assert len(lake_rows(workspace)) == 3
    result = _sitrep(workspace, "metrics", "--week", "2025-W01", "--json")
    assert result.exit_code == 0, result.output
    [again] = ingest_paths(workspace, [SINKHOLE])
    assert again.accepted == 0 and again.duplicates == 4


def test_a_lock_file_that_is_a_folder_is_named(workspace):
    lake = Lake.of(workspace)
    lake.create()
    os.mkdir(lake.root / ".lock")
    result = _sitrep(workspace, "ingest", str(SINKHOLE))
    assert result.exit_code == 2 and ".lock: cannot open the lake's lock file" in result.output
