"""The job runner: a real ingest of a sample feed file with its progress and summary recorded, a
failing job recorded with its reason, throttled progress writes, interrupted jobs marked failed when
a runner starts, and ``sitrep jobs list``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from typer.testing import CliRunner

import sitrep.accounts.models  # noqa: F401  (the whole schema, to compare with the migrations)
from helpers import SAMPLES
from sitrep.cli import app
from sitrep.incidents.db import HEAD, alembic_config, close_stores, open_store
from sitrep.incidents.models import Base, utcnow
from sitrep.jobs.model import IngestRequest, IngestSummary, JobState, Progress, RenderRequest, Step
from sitrep.jobs.records import JobRecord
from sitrep.jobs.runner import JobRunner, ProgressRecorder
from sitrep.jobs.store import INTERRUPTED, Runner, get_job, mark_running, record_job
from sitrep.jobs.uploads import new_upload_folder, stored_name, uploads_dir
from sitrep.lake.ingest import ingest_paths
from sitrep.workspace import init_workspace

SINKHOLE_HTTP = SAMPLES / "2025-01-06-event4_sinkhole_http-cncert-cn.csv"
URLHAUS = SAMPLES / "urlhaus-csv_recent.csv"
ZONEH = SAMPLES / "zoneh-defacements.csv"


@pytest.fixture
def runner(workspace):
    started = JobRunner(workspace)
    yield started
    started.close()
    close_stores()


def upload(workspace, source: Path | bytes, name: str) -> IngestRequest:
    """Store a file as the upload page does, and the request of its ingest job."""
    target = new_upload_folder(workspace) / stored_name(name)
    if isinstance(source, bytes):
        target.write_bytes(source)
    else:
        shutil.copy(source, target)
    return IngestRequest(str(target.relative_to(workspace.root)), name)


def test_the_migration_creates_the_jobs_table_as_the_model_declares(workspace):
    store = open_store(workspace)
    with store.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD
    assert JobRecord.__tablename__ in Base.metadata.tables


def test_an_ingest_job_records_its_progress_and_the_summary_of_the_direct_ingest(workspace, runner, tmp_path):
    expected = ingest_paths(init_workspace(tmp_path / "other"), [SINKHOLE_HTTP])[0]
    request = upload(workspace, SINKHOLE_HTTP, SINKHOLE_HTTP.name)
    job = runner.submit(request, title=SINKHOLE_HTTP.name, started_by="alice")
    assert job.state is JobState.QUEUED and job.started_by == "alice"
    seen = []
    while (now := get_job(runner.store, job.id)).active:
        seen.append(now)
        time.sleep(0.01)
    running = [j for j in seen if j.state is JobState.RUNNING and j.progress.total]
    assert running, "the job's progress was never recorded while it ran"
    assert all(j.progress.total == 300 for j in running)  # one file, three stages of 100
    assert {j.progress.step for j in running} <= {Step.READING, Step.DEDUPLICATING, Step.ENRICHING}
    assert now.state is JobState.DONE and now.error is None
    assert now.progress.done == now.progress.total and now.progress.step is Step.FINISHED
    assert now.started_at and now.finished_at and now.started_at <= now.finished_at
    assert isinstance(now.result, IngestSummary)
    [ingested] = now.result.files
    assert ingested.file == SINKHOLE_HTTP.name
    assert ingested.format == expected.format
    assert (ingested.read, ingested.accepted, ingested.duplicates, ingested.rejected) == (
        expected.read,
        expected.accepted,
        expected.duplicates,
        expected.rejected,
    )
    assert ingested.read == ingested.accepted + ingested.duplicates + ingested.rejected
    assert ingested.rejected > 0 and (workspace.root / ingested.rejects).is_file()
    assert ingested.weeks == ("2025-W02",)  # the sample's events are of 2025-01-06
    # The upload is gone once ingested: the lake has the events and the rejected rows.
    assert not (workspace.root / request.upload).exists() and list(uploads_dir(workspace).iterdir()) == []


def test_a_zip_archive_is_one_file_a_member(workspace, runner, tmp_path):
    archive = tmp_path / "feeds.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.write(ZONEH, ZONEH.name)
        out.write(URLHAUS, "sub/" + URLHAUS.name)
    job = runner.wait(runner.submit(upload(workspace, archive, "feeds.zip"), title="zip", started_by="a").id)
    assert job.state is JobState.DONE
    assert [f.file for f in job.result.files] == [f"feeds.zip!{ZONEH.name}", f"feeds.zip!sub/{URLHAUS.name}"]
    assert all(f.read == f.accepted + f.duplicates + f.rejected and f.read > 0 for f in job.result.files)
    assert job.progress.total == 600


def test_a_file_no_format_reads_fails_with_the_reason(workspace, runner):
    garbage = upload(workspace, os.urandom(3000), "garbage.csv")
    job = runner.wait(runner.submit(garbage, title="garbage.csv", started_by="a").id)
    assert job.state is JobState.FAILED
    assert job.error == "garbage.csv: format not recognised; name it with --format (see 'sitrep formats')"
    assert job.result.files[0].error and job.result.files[0].read == 0
    assert "Traceback" not in job.error
    assert list(uploads_dir(workspace).iterdir()) == []


def test_a_format_that_does_not_exist_fails_the_job(workspace, runner):
    request = upload(workspace, SINKHOLE_HTTP, "x.csv")
    named = IngestRequest(request.upload, request.name, "no-such-format")
    job = runner.wait(runner.submit(named, title="x.csv", started_by="a").id)
    assert job.state is JobState.FAILED and "unknown format 'no-such-format'" in job.error


def test_a_render_of_a_week_that_does_not_parse_fails(workspace, runner):
    job = runner.wait(runner.submit(RenderRequest("2025-W99"), title="render", started_by="a").id)
    assert (job.state, job.error) == (JobState.FAILED, "2025 has ISO weeks 1 to 52, not 99")


def test_progress_is_written_at_most_once_a_second_and_the_last_on_flush(workspace):
    store = open_store(workspace)
    job = record_job(store, RenderRequest("2025-W01"), title="t", started_by="a", runner=Runner.this_process("t"))
    mark_running(store, job.id)
    now = [100.0]
    recorder = ProgressRecorder(store, job.id, clock=lambda: now[0])
    for done in range(500):
        recorder(Progress(done, 1000, Step.READING, "f.csv"))
    assert recorder.writes == 1 and get_job(store, job.id).progress.done == 0
    now[0] += 1.0
    recorder(Progress(500, 1000, Step.ENRICHING, "f.csv"))
    assert recorder.writes == 2 and get_job(store, job.id).progress == Progress(500, 1000, Step.ENRICHING, "f.csv")
    recorder(Progress(999, 1000, Step.ENRICHING, "f.csv"))
    recorder.flush()
    assert recorder.writes == 3 and get_job(store, job.id).progress.done == 999
    recorder.flush()
    assert recorder.writes == 3  # nothing new


def test_a_job_left_running_by_a_dead_process_is_failed_when_a_runner_starts(workspace):
    # A real process records a job, starts it and dies without finishing it.
    script = textwrap.dedent(
        f"""
        import os, sys
        from sitrep.config import load_workspace
        from sitrep.incidents.db import open_store
        from sitrep.jobs.model import RenderRequest
        from sitrep.jobs.store import Runner, mark_running, record_job
        store = open_store(load_workspace({str(workspace.root)!r}))
        request = RenderRequest("2025-W01")
        job = record_job(store, request, title="dies", started_by="a", runner=Runner.this_process("x"))
        mark_running(store, job.id)
        print(job.id, flush=True)
        os._exit(9)
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 9, done.stderr
    dead = int(done.stdout.split()[0])
    store = open_store(workspace)
    assert get_job(store, dead).state is JobState.RUNNING
    # Another host's jobs: one whose runner beat a moment ago, one silent for ten minutes.
    alive = record_job(store, RenderRequest("2025-W01"), title="alive", started_by="a", runner=Runner("other", 1, "t"))
    silent = record_job(
        store, RenderRequest("2025-W01"), title="silent", started_by="a", runner=Runner("other", 2, "t")
    )
    with store.write() as session:
        session.get(JobRecord, silent.id).heartbeat_at = utcnow() - timedelta(minutes=10)
    started = JobRunner(workspace)
    try:
        for job_id in (dead, silent.id):
            job = get_job(store, job_id)
            assert (job.state, job.interrupted, job.error) == (JobState.FAILED, True, INTERRUPTED)
            assert job.finished_at is not None
        assert get_job(store, alive.id).state is JobState.QUEUED
    finally:
        started.close()


def test_a_runner_removes_the_uploads_no_job_will_read_once_they_are_idle(workspace):
    def stored(name: str, *, idle_hours: float) -> Path:
        folder = new_upload_folder(workspace)
        (folder / name).write_bytes(b"timestamp,ip\n")
        when = time.time() - idle_hours * 3600
        for path in (folder / name, folder):
            os.utime(path, (when, when))
        return folder

    left = stored("left.csv", idle_hours=2)  # its server stopped before the job was recorded
    arriving = stored("arriving.csv", idle_hours=0)  # still being received
    waiting = stored("waiting.csv", idle_hours=2)  # a queued job of another server will read it
    store = open_store(workspace)
    relative = str((waiting / "waiting.csv").relative_to(workspace.root))
    record_job(
        store, IngestRequest(relative, "waiting.csv", None), title="w", started_by="a", runner=Runner("other", 1, "t")
    )
    started = JobRunner(workspace)
    try:
        assert not left.exists()
        assert arriving.is_dir() and waiting.is_dir()
    finally:
        started.close()


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("../../x.csv", "x.csv"),
        ("..\\..\\windows\\x.csv.gz", "x.csv.gz"),
        ("<script>alert(1)</script>.csv", "script_.csv"),  # "/" ends a component
        ("<img onerror=x>.csv", "img_onerror_x_.csv"),
        ("..", "upload"),
        (".hidden.json", "hidden.json"),
        ("数据 2025-01-06.csv", "2025-01-06.csv"),
        ("a" * 500 + ".csv.gz", "a" * 96 + "a" * 17 + ".csv.gz"),
    ],
)
def test_an_upload_is_stored_under_a_name_that_is_never_a_path(given, stored):
    assert stored_name(given) == stored


def test_sitrep_jobs_list_shows_the_jobs(workspace, runner):
    job = runner.wait(runner.submit(upload(workspace, ZONEH, "[red]f.csv"), title="[red]f.csv", started_by="a").id)
    result = CliRunner().invoke(app, ["jobs", "list"], env={"SITREP_HOME": str(workspace.root), "COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "[red]f.csv" in result.output and "done" in result.output
    r = job.result.files[0]
    assert (
        f"read {r.read:,} = accepted {r.accepted:,} + duplicates {r.duplicates:,} + rejected {r.rejected:,}"
        in result.output
    )
    listed = CliRunner().invoke(app, ["jobs", "list", "--json"], env={"SITREP_HOME": str(workspace.root)})
    [shown] = json.loads(listed.output)
    assert (shown["id"], shown["state"], shown["result"]["files"][0]["read"]) == (job.id, "done", r.read)


def test_a_runner_of_this_process_keeps_its_jobs_until_it_stops(workspace):
    store = open_store(workspace)
    first = JobRunner(workspace)
    try:
        queued = record_job(store, RenderRequest("2025-W01"), title="w", started_by="a", runner=first.runner)
        second = JobRunner(workspace)  # another app in the same process
        second.close()
        assert get_job(store, queued.id).state is JobState.QUEUED
    finally:
        first.close()
    third = JobRunner(workspace)
    third.close()
    assert get_job(store, queued.id).interrupted
