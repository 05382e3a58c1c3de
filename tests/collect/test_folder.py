"""``sitrep collect`` with a drop folder: real feed files put in a folder are ingested once each (by
their bytes, whatever their name), moved to done/ or failed/ (with the reason), recorded in the store,
and a source runs again only when its ``every`` has passed."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from datetime import UTC, datetime, timedelta

import tomli_w
from sqlalchemy import select
from typer.testing import CliRunner

from helpers import SAMPLES, lake_rows
from sitrep.cli import app
from sitrep.collect.collector import LOCK_NAME, collect, due_sources
from sitrep.collect.records import CollectedFile, CollectionRun
from sitrep.incidents.db import open_store
from sitrep.workspace import init_workspace

runner = CliRunner()
SINKHOLE = "2025-01-01-event4_sinkhole-cncert-cn.csv"
OPENPHISH = "openphish-feed.txt"


def _workspace(tmp_path, **source):
    root = tmp_path / "ws"
    root.mkdir()
    entry = {"name": "partners", "kind": "folder", "path": "drop", "every": "1h", **source}
    (root / "sitrep.toml").write_text(tomli_w.dumps({"sources": [entry]}), encoding="utf-8")
    ws = init_workspace(root)
    (root / "drop").mkdir()
    return ws


def _drop(ws, sample: str, name: str | None = None, *, age: float = 60) -> None:
    target = ws.root / "drop" / (name or sample)
    shutil.copy(SAMPLES / sample, target)
    then = time.time() - age
    os.utime(target, (then, then))


def _run(ws, *args, code: int = 0):
    result = runner.invoke(app, ["--home", str(ws.root), "collect", *args])
    assert result.exit_code == code, result.output
    return result


def test_files_are_ingested_once_moved_and_recorded(tmp_path):
    ws = _workspace(tmp_path)
    _drop(ws, SINKHOLE)
    _drop(ws, OPENPHISH)
    _drop(ws, OPENPHISH, "openphish-again.txt")  # the same bytes under another name
    (ws.root / "drop" / "broken.bin").write_bytes(b"\x00\x01 not a feed")
    os.utime(ws.root / "drop" / "broken.bin", (time.time() - 60,) * 2)
    _drop(ws, OPENPHISH, "uploading.csv.part")  # a copy still being written: waits
    _drop(ws, OPENPHISH, "just-now.txt", age=0)  # changed a moment ago: waits too

    result = _run(ws, code=1)  # one file failed; the others were still taken
    assert "broken.bin (13 bytes) failed: broken.bin: format not recognised" in result.output
    assert "already ingested (same bytes): not again" in result.output
    drop = ws.root / "drop"
    assert sorted(p.name for p in (drop / "done").iterdir()) == sorted([SINKHOLE, OPENPHISH, "openphish-again.txt"])
    assert sorted(p.name for p in (drop / "failed").iterdir()) == ["broken.bin", "broken.bin.reason.txt"]
    assert "format not recognised" in (drop / "failed" / "broken.bin.reason.txt").read_text(encoding="utf-8")
    assert sorted(p.name for p in drop.iterdir() if p.is_file()) == ["just-now.txt", "uploading.csv.part"]

    events = lake_rows(ws)
    assert {e["feed_name"] for e in events} == {"shadowserver-event4-sinkhole", "openphish"}
    with open_store(ws).read() as session:
        records = {r.name: r for r in session.scalars(select(CollectedFile))}
    assert set(records) == {SINKHOLE, OPENPHISH, "broken.bin"}  # the copy was not recorded as new
    assert records[SINKHOLE].status == "ingested" and records[SINKHOLE].accepted == sum(
        e["feed_name"] == "shadowserver-event4-sinkhole" for e in events
    )
    assert records["broken.bin"].status == "failed" and len(records[SINKHOLE].sha256) == 64

    # The same file dropped again later: recognised by its bytes, nothing is added to the lake.
    _drop(ws, SINKHOLE, "resent.csv")
    again = _run(ws, "--source", "partners")
    assert "resent.csv (1,147 bytes) already ingested" in again.output
    assert len(lake_rows(ws)) == len(events)


def test_a_source_is_due_again_after_its_every(tmp_path):
    ws = _workspace(tmp_path, every="30m")
    assert [s.name for s in due_sources(ws)] == ["partners"]  # never ran
    start = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
    [run] = collect(ws, ws.settings.sources, now=start)
    assert run.ok and run.files == []
    assert due_sources(ws, start + timedelta(minutes=29)) == []
    assert [s.name for s in due_sources(ws, start + timedelta(minutes=30))] == ["partners"]
    with open_store(ws).read() as session:
        assert [r.source for r in session.scalars(select(CollectionRun))] == ["partners"]


def test_a_dry_run_changes_nothing_and_a_missing_folder_is_the_sources_error(tmp_path):
    ws = _workspace(tmp_path)
    _drop(ws, OPENPHISH)
    listed = json.loads(_run(ws, "--dry-run", "--json").stdout)
    assert [(f["name"], f["status"]) for f in listed[0]["files"]] == [(OPENPHISH, "pending")]
    assert (ws.root / "drop" / OPENPHISH).is_file() and lake_rows(ws) == []
    with open_store(ws).read() as session:
        assert session.scalars(select(CollectionRun)).all() == []

    shutil.rmtree(ws.root / "drop")
    result = _run(ws, "--all", code=1)
    assert "partners:" in result.output and "does not exist" in result.output and "Traceback" not in result.output


def test_a_source_label_and_format_apply_to_its_rows(tmp_path):
    ws = _workspace(tmp_path, tlp="amber", format="openphish")
    _drop(ws, OPENPHISH, "feed-without-a-telling-name.txt")
    _run(ws)
    assert {e["tlp"] for e in lake_rows(ws)} == {"AMBER"}


def test_bad_sources_are_refused_naming_the_key(tmp_path):
    root = tmp_path / "ws"
    root.mkdir()
    bad = {"sources": [{"name": "a", "kind": "folder", "path": "d", "every": "weekly"}, {"name": "a", "kind": "ftp"}]}
    (root / "sitrep.toml").write_text(tomli_w.dumps(bad), encoding="utf-8")
    result = runner.invoke(app, ["--home", str(root), "collect"])
    assert result.exit_code == 2 and "sources.0.every" in result.output and "sources.1.kind" in result.output


def test_one_collect_at_a_time(tmp_path):
    ws = _workspace(tmp_path)
    _drop(ws, OPENPHISH)
    with open(ws.root / LOCK_NAME, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # a run in progress
        result = _run(ws, code=2)
        assert "another 'sitrep collect' of" in result.output and (ws.root / "drop" / OPENPHISH).is_file()
    assert "ingested" in _run(ws).output  # once it has ended
