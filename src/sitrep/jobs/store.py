"""Jobs in the incident store: record, advance, finish, read, and mark failed the jobs of a process
that is gone.

Each function is one short transaction, so a job's progress is visible to every web worker process
as soon as it is written, and a running job never holds the write lock.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from sitrep.incidents.db import Store
from sitrep.incidents.models import utcnow
from sitrep.jobs.model import (
    ACTIVE,
    REQUESTS,
    RESULTS,
    IngestRequest,
    Job,
    JobKind,
    JobRequest,
    JobResult,
    JobState,
    Progress,
    Step,
    kind_of,
)
from sitrep.jobs.records import JobRecord

INTERRUPTED = "interrupted: the server process that ran this job stopped before it finished"
_ACTIVE = [s.value for s in ACTIVE]
MAX_DETAIL = 300
MAX_TITLE = 300


@dataclass(frozen=True)
class Runner:
    """Who runs jobs: a host, a process and a token that tells two lives of one PID apart."""

    host: str
    pid: int
    token: str

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}:{self.token}"

    @classmethod
    def parse(cls, text: str) -> Runner | None:
        host, _, rest = text.rpartition(":")
        host, _, pid = host.rpartition(":")
        return cls(host, int(pid), rest) if host and pid.isdigit() else None

    @classmethod
    def this_process(cls, token: str) -> Runner:
        return cls(socket.gethostname(), os.getpid(), token)


# The tokens of the runners alive in this process (a process may hold several: one per app).
_ALIVE_HERE: set[str] = set()


def started(runner: Runner) -> None:
    """``runner`` of this process runs jobs from now on (its jobs are not swept as gone)."""
    _ALIVE_HERE.add(runner.token)


def stopped(runner: Runner) -> None:
    """``runner`` of this process runs no more jobs (what it left queued is swept as interrupted)."""
    _ALIVE_HERE.discard(runner.token)


def _job(record: JobRecord) -> Job:
    kind = JobKind(record.kind)
    return Job(
        id=record.id,
        kind=kind,
        title=record.title,
        started_by=record.started_by,
        state=JobState(record.state),
        request=REQUESTS[kind].from_json(record.request),
        progress=Progress(record.progress_done, record.progress_total, Step(record.step), record.detail),
        created_at=record.created_at,
        started_at=record.started_at,
        finished_at=record.finished_at,
        result=RESULTS[kind].from_json(record.result) if record.result is not None else None,
        error=record.error,
        interrupted=record.interrupted,
    )


def record_job(store: Store, request: JobRequest, *, title: str, started_by: str, runner: Runner) -> Job:
    """Record a new job, queued with ``runner``."""
    with store.write() as session:
        record = JobRecord(
            kind=kind_of(request).value,
            title=title[:MAX_TITLE],
            started_by=started_by,
            state=JobState.QUEUED.value,
            request=request.as_json(),
            progress_done=0,
            progress_total=0,
            step=Step.QUEUED.value,
            detail="",
            runner=str(runner),
            heartbeat_at=utcnow(),
        )
        session.add(record)
        session.flush()
        return _job(record)


def mark_running(store: Store, job_id: int) -> None:
    """The job has started."""
    now = utcnow()
    with store.write() as session:
        session.execute(
            update(JobRecord)
            .where(JobRecord.id == job_id)
            .values(state=JobState.RUNNING.value, started_at=now, heartbeat_at=now, step=Step.STARTING.value)
        )


def record_progress(store: Store, job_id: int, progress: Progress) -> None:
    """Write how far a running job is (callers throttle: see :class:`sitrep.jobs.runner.ProgressRecorder`)."""
    with store.write() as session:
        session.execute(
            update(JobRecord)
            .where(JobRecord.id == job_id, JobRecord.state == JobState.RUNNING.value)
            .values(
                progress_done=progress.done,
                progress_total=progress.total,
                step=progress.step.value,
                detail=progress.detail[:MAX_DETAIL],
                heartbeat_at=utcnow(),
            )
        )


def finish_job(store: Store, job_id: int, result: JobResult | None, *, error: str | None = None) -> None:
    """The job ended: done with its result, or failed with ``error`` (and what result it has)."""
    with store.write() as session:
        record = session.get(JobRecord, job_id)
        if record is None or record.state not in _ACTIVE:
            return
        record.state = (JobState.FAILED if error else JobState.DONE).value
        record.result = result.as_json() if result else None
        record.error = error
        record.finished_at = utcnow()
        record.step = Step.FINISHED.value
        if not error:
            record.progress_done = record.progress_total = max(record.progress_total, 1)


def get_job(store: Store, job_id: int) -> Job | None:
    """The job ``job_id``, or None when there is none."""
    with store.read() as session:
        record = session.get(JobRecord, job_id)
        return _job(record) if record else None


def recent_jobs(store: Store, *, limit: int = 50) -> list[Job]:
    """The newest ``limit`` jobs, newest first."""
    with store.read() as session:
        records = session.scalars(select(JobRecord).order_by(JobRecord.id.desc()).limit(limit)).all()
        return [_job(r) for r in records]


def active_uploads(store: Store) -> set[str]:
    """The uploads (relative to the workspace) that queued or running ingest jobs are still to read."""
    with store.read() as session:
        records = session.scalars(select(JobRecord).where(JobRecord.state.in_(_ACTIVE))).all()
        return {job.request.upload for job in map(_job, records) if isinstance(job.request, IngestRequest)}


def beat(store: Store, runner: Runner) -> None:
    """``runner`` is alive: touch the heartbeat of its queued and running jobs."""
    with store.write() as session:
        session.execute(
            update(JobRecord)
            .where(JobRecord.runner == str(runner), JobRecord.state.in_(_ACTIVE))
            .values(heartbeat_at=utcnow())
        )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a process of another user holds the PID
        return True
    return True


def _gone(text: str, me: Runner, heartbeat: datetime, stale_before: datetime) -> bool:
    """Whether the runner ``text`` of an active job is gone: its heartbeat is stale, or it ran on
    this host in a process that has ended (or in an earlier life of this process's PID, or in a
    runner of this process that has stopped)."""
    if text == str(me):
        return False
    if heartbeat < stale_before:
        return True
    other = Runner.parse(text)
    if other is None or other.host != me.host:
        return False
    return other.token not in _ALIVE_HERE if other.pid == me.pid else not _alive(other.pid)


def mark_interrupted(store: Store, me: Runner, *, stale_after: timedelta) -> list[Job]:
    """Mark failed (interrupted) every queued or running job whose runner is gone; returns them."""
    now = utcnow()
    with store.write() as session:
        active = session.scalars(select(JobRecord).where(JobRecord.state.in_(_ACTIVE))).all()
        gone = [r for r in active if _gone(r.runner, me, r.heartbeat_at, now - stale_after)]
        for record in gone:
            record.state = JobState.FAILED.value
            record.error = INTERRUPTED
            record.interrupted = True
            record.finished_at = now
        return [_job(r) for r in gone]
