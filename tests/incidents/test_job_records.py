"""The jobs table on SQLite and PostgreSQL: the migration matches the model, a job's request,
progress and typed result round-trip, and a job of a gone runner is swept as interrupted."""

from __future__ import annotations

from datetime import timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import sitrep.accounts.models  # noqa: F401  (the whole schema, to compare with the migrations)
from sitrep.incidents.db import open_store
from sitrep.incidents.models import Base
from sitrep.jobs.model import IngestedFile, IngestRequest, IngestSummary, JobState, Progress, Step
from sitrep.jobs.records import JobRecord
from sitrep.jobs.store import (
    INTERRUPTED,
    Runner,
    finish_job,
    get_job,
    mark_interrupted,
    mark_running,
    recent_jobs,
    record_job,
    record_progress,
)


def test_a_job_round_trips_and_a_silent_one_is_swept(ws):
    store = open_store(ws)
    with store.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    me = Runner("here", 1, "me")
    request = IngestRequest("uploads/abc/f.csv", "<b>f.csv</b>", "zoneh-defacements")
    job = record_job(store, request, title="<b>f.csv</b>", started_by="alice", runner=me)
    mark_running(store, job.id)
    record_progress(store, job.id, Progress(150, 300, Step.DEDUPLICATING, "f.csv"))
    running = get_job(store, job.id)
    assert (running.state, running.request, running.progress) == (
        JobState.RUNNING,
        request,
        Progress(150, 300, Step.DEDUPLICATING, "f.csv"),
    )
    summary = IngestSummary(
        (IngestedFile("f.csv", "zoneh-defacements", 5, 3, 1, 1, None, "lake/r.parquet", ("2025-W01",)),)
    )
    finish_job(store, job.id, summary)
    done = get_job(store, job.id)
    assert (done.state, done.result, done.progress.done, done.progress.total) == (JobState.DONE, summary, 300, 300)
    silent = record_job(store, request, title="silent", started_by="bob", runner=Runner("there", 2, "t"))
    with store.write() as session:
        session.get(JobRecord, silent.id).heartbeat_at -= timedelta(minutes=5)
    assert [j.id for j in mark_interrupted(store, me, stale_after=timedelta(minutes=1))] == [silent.id]
    swept = get_job(store, silent.id)
    assert (swept.state, swept.error, swept.interrupted) == (JobState.FAILED, INTERRUPTED, True)
    assert [j.id for j in recent_jobs(store)] == [silent.id, job.id]
