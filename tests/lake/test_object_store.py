"""The lake on an S3-compatible object store, through the real S3 protocol against a local server
(moto's, started by the test): the same files give the same numbers as in a local folder."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from typer.testing import CliRunner

from helpers import SAMPLES
from s3server import SECRET_ENV, s3_server, s3_workspace
from sitrep.cli import app
from sitrep.config import Workspace, load_workspace
from sitrep.lake import maintain
from sitrep.lake.errors import LakeError
from sitrep.lake.ingest import ingest_paths
from sitrep.lake.store import Lake, ObjectPath, connect, events_source
from sitrep.workspace import init_workspace

# Every sample feed file, in a fixed order (the same files go into both lakes).
FEED_FILES = sorted(p for p in SAMPLES.iterdir() if p.is_file())
WEEKS = ("2025-W01", "2025-W02")


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with s3_server() as url:
        yield url


def metrics_json(workspace: Workspace, week: str) -> dict:
    result = CliRunner().invoke(app, ["--home", str(workspace.root), "metrics", "--week", week, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def event_rows(workspace: Workspace) -> list[tuple]:
    """Every event, without the columns that name the ingest run (its id differs between two runs)."""
    con = connect(workspace)
    try:
        sql = (
            f"SELECT * EXCLUDE (ingest_id) FROM {events_source(Lake.of(workspace))} "
            "ORDER BY event_id, source_file, source_line"
        )
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_a_lake_on_s3_gives_the_numbers_of_a_local_lake(tmp_path, endpoint, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, "test")
    local = init_workspace(tmp_path / "local")
    remote = s3_workspace(tmp_path / "remote", endpoint, "sitrep-equal")
    local_results = ingest_paths(local, FEED_FILES)
    remote_results = ingest_paths(remote, FEED_FILES)
    counts = [(r.file, r.read, r.accepted, r.duplicates, r.rejected, r.error) for r in local_results]
    assert counts == [(r.file, r.read, r.accepted, r.duplicates, r.rejected, r.error) for r in remote_results]
    assert sum(r.accepted for r in local_results) > 50

    lake = Lake.of(remote)
    files = lake.event_files()
    assert files
    assert all(isinstance(p, ObjectPath) and p.url.startswith("s3://sitrep-equal/lake/events/") for p in files)
    assert not list((remote.root / "lake").glob("**/*.parquet"))  # nothing was written in a local folder
    assert len(files) == len(Lake.of(local).event_files())

    for week in WEEKS:
        ours, theirs = metrics_json(local, week), metrics_json(remote, week)
        assert ours == theirs
    assert any(v["value"] for v in metrics_json(remote, "2025-W02")["indicators"].values())
    assert event_rows(local) == event_rows(remote)

    # Ingesting the same files again adds nothing: deduplication reads the lake on the store.
    again = ingest_paths(remote, FEED_FILES[:3])
    assert [r.accepted for r in again] == [0, 0, 0]
    assert len(Lake.of(remote).event_files()) == len(files)

    # Compaction and retention work on the store as in a folder: the same numbers after either.
    merged = maintain.compact(remote, grace=timedelta(0))
    assert merged.merges and len(Lake.of(remote).event_files()) == merged.files_after < len(files)
    listed = lake.list_events()
    assert not [e for e in listed if not e.key.endswith(".parquet")]  # no record left
    assert all(e.key.startswith("event_date=") for e in listed)  # every file in its date's partition
    for week in WEEKS:
        assert metrics_json(remote, week) == metrics_json(local, week)
    assert event_rows(local) == event_rows(remote)
    kept = maintain.retain(remote, "1w", today=date(2025, 1, 8))
    assert kept.dropped
    assert metrics_json(remote, "2025-W02") == metrics_json(local, "2025-W02")


def test_the_explorer_and_the_report_read_a_lake_on_s3(tmp_path, endpoint, monkeypatch):
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "s3.key").write_text("test\n", encoding="utf-8")
    remote = s3_workspace(tmp_path / "remote", endpoint, "sitrep-read", secret_file=str(tmp_path / "secret" / "s3.key"))
    monkeypatch.delenv(SECRET_ENV, raising=False)  # the secret comes from the file
    ingest_paths(remote, [p for p in FEED_FILES if p.name.startswith("2025-01-0")])
    runner = CliRunner()
    found = runner.invoke(app, ["--home", str(remote.root), "events", "search", "--week", "2025-W02", "--json"])
    assert found.exit_code == 0, found.output
    assert json.loads(found.output)["events"]
    out = tmp_path / "out"
    report = runner.invoke(
        app, ["--home", str(remote.root), "report", "--week", "2025-W02", "--format", "json", "-o", str(out)]
    )
    assert report.exit_code == 0, report.output
    assert list(out.glob("*.json"))


def test_a_missing_bucket_and_a_missing_secret_are_named(tmp_path, endpoint, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, "test")
    remote = s3_workspace(tmp_path / "remote", endpoint, "sitrep-other")
    config = remote.root / "sitrep.toml"
    config.write_text(config.read_text().replace("s3://sitrep-other/", "s3://sitrep-absent/"), encoding="utf-8")
    with pytest.raises(LakeError, match=r"sitrep-absent.*does not exist"):
        ingest_paths(load_workspace(remote.root), FEED_FILES[:1])
    monkeypatch.delenv(SECRET_ENV)
    with pytest.raises(LakeError, match=SECRET_ENV):
        Lake.of(load_workspace(remote.root))
    result = CliRunner().invoke(app, ["--home", str(remote.root), "metrics", "--week", "2025-W02"])
    assert result.exit_code != 0
    assert SECRET_ENV in result.output
    assert "Traceback" not in result.output
