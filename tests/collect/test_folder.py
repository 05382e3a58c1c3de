"""``sitrep collect`` with a drop folder: real feed files put in a folder are ingested once each (by
their bytes, whatever their name), moved to done/ or failed/ (with the reason), recorded in the store,
and a source runs again only when its ``every`` has passed."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select as fd_select  # sqlalchemy's select is the one named select here
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import tomli_w
from sqlalchemy import select
from typer.testing import CliRunner

from helpers import SAMPLES, lake_rows
from sitrep.cli import app
from sitrep.collect.collector import LOCK_NAME, collect, due_sources
from sitrep.collect.records import CollectedFile, CollectionRun
from sitrep.config import load_workspace
from sitrep.incidents.db import open_store
from sitrep.weeks import Week
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
    assert result.exit_code == 2 and "sources.0.folder.every" in result.output and "sources.1" in result.output


def test_one_collect_at_a_time(tmp_path):
    ws = _workspace(tmp_path)
    _drop(ws, OPENPHISH)
    with open(ws.root / LOCK_NAME, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # a run in progress
        result = _run(ws, code=2)
        assert "another 'sitrep collect' of" in result.output and (ws.root / "drop" / OPENPHISH).is_file()
    assert "ingested" in _run(ws).output  # once it has ended


def test_the_daemon_takes_each_new_file_until_stopped(tmp_path):
    ws = _workspace(tmp_path, every="1s")
    sitrep = str(Path(sys.executable).with_name("sitrep"))
    daemon = subprocess.Popen(
        [sitrep, "--home", str(ws.root), "collect", "--daemon"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for sample in (OPENPHISH, SINKHOLE):
            _drop(ws, sample)
            deadline = time.monotonic() + 60
            while not (ws.root / "drop" / "done" / sample).exists():
                assert daemon.poll() is None and time.monotonic() < deadline, daemon.stderr.read()
                time.sleep(0.2)
    finally:
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(timeout=60)
    output, errors = daemon.communicate()
    assert code == 128 + signal.SIGTERM and "Traceback" not in errors
    assert f"partners: {OPENPHISH} (423 bytes) ingested" in output and f"partners: {SINKHOLE}" in output
    assert {e["feed_name"] for e in lake_rows(ws)} == {"openphish", "shadowserver-event4-sinkhole"}


def test_the_check_says_which_sources_delivered_in_the_week(tmp_path):
    ws = _workspace(tmp_path)
    config = tomllib.loads(ws.config_path.read_text(encoding="utf-8"))
    config["sources"].append({"name": "quiet", "kind": "folder", "path": "quiet-drop"})
    ws.config_path.write_text(tomli_w.dumps(config), encoding="utf-8")
    (ws.root / "quiet-drop").mkdir()
    _drop(ws, SINKHOLE)
    (ws.root / "drop" / "broken.bin").write_bytes(b"\x00 not a feed")
    os.utime(ws.root / "drop" / "broken.bin", (time.time() - 60,) * 2)
    _run(ws, "--all", code=1)
    week = Week.of(datetime.now(UTC).astimezone(load_workspace(ws.root).timezone).date())
    result = runner.invoke(app, ["--home", str(ws.root), "check", "--week", str(week), "--json"])
    data = json.loads(result.stdout)
    by_name = {s["source"]: s for s in data["sources"]}
    assert (by_name["partners"]["files"], by_name["partners"]["failed"]) == (1, 1)
    assert by_name["partners"]["accepted"] == len(lake_rows(ws)) and by_name["partners"]["last_file_at"]
    assert (by_name["quiet"]["files"], by_name["quiet"]["last_file_at"]) == (0, None)
    codes = {(f["code"], f["subject"]) for f in data["findings"]}
    assert {("source_silent", "quiet"), ("source_failed", "partners")} <= codes
    earlier = runner.invoke(app, ["--home", str(ws.root), "check", "--week", str(week - 1), "--json"])
    assert {s["source"]: s["files"] for s in json.loads(earlier.stdout)["sources"]} == {"partners": 0, "quiet": 0}


def test_on_a_terminal_each_file_ingest_draws_a_progress_bar(tmp_path):
    ws = _workspace(tmp_path)
    _drop(ws, "2025-01-01-event4_sinkhole-cncert-cn.csv")
    command = [sys.executable, "-m", "sitrep", "--home", str(ws.root), "collect", "--all"]
    main, child = pty.openpty()
    done = subprocess.run(command, stdin=child, stdout=child, stderr=child, timeout=120)
    os.close(child)
    shown = b""
    while fd_select.select([main], [], [], 1)[0]:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the terminal's other end is closed: all was read
            break
        if not chunk:
            break
        shown += chunk
    os.close(main)
    text = shown.decode("utf-8", "replace")
    assert done.returncode == 0, text
    assert "2025-01-01-event4_sinkhole-cncert-cn.csv: starting" in text and "0%" in text  # the bar, drawn
    assert "ingested (read 7" in text
