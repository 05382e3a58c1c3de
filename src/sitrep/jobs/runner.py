"""The job runner of a server process: a small pool of worker threads that run recorded jobs, and
a heartbeat that lets every other process tell whether this one is still alive.

The pool is ``[jobs] workers`` threads (1 by default), so a 2-core machine keeps a core for the
pages while a feed is ingested.  Its threads are daemons: a server that stops does not wait for a
job, and the job is marked failed (interrupted) by the next runner that starts, or by a live one
once the heartbeat is stale.
"""

from __future__ import annotations

import logging
import queue
import secrets
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from sitrep.config import Workspace
from sitrep.incidents.db import Store, open_store
from sitrep.jobs.model import IngestRequest, Job, JobRequest, Progress
from sitrep.jobs.store import (
    Runner,
    active_uploads,
    beat,
    finish_job,
    get_job,
    mark_interrupted,
    mark_running,
    record_job,
    record_progress,
    started,
    stopped,
)
from sitrep.jobs.uploads import discard_orphans, discard_upload
from sitrep.jobs.work import WORK, JobFailed

log = logging.getLogger("sitrep.jobs")
HEARTBEAT_SECONDS = 10.0
# A runner whose heartbeat is older is gone (six missed beats: a busy database is not a dead process).
STALE_AFTER = timedelta(seconds=60)
PROGRESS_EVERY_SECONDS = 1.0
# An upload folder no job reads, untouched this long, was left by a server stopped before it
# recorded the upload's job.
ORPHAN_AFTER_SECONDS = 3600.0


class ProgressRecorder:
    """Receives a job's progress as often as the work reports it and writes it at most once every
    ``every`` seconds (the latest one; :meth:`flush` writes what is left)."""

    def __init__(
        self,
        store: Store,
        job_id: int,
        *,
        every: float = PROGRESS_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._job_id = job_id
        self._every = every
        self._clock = clock
        self._lock = threading.Lock()
        self._latest: Progress | None = None
        self._written: Progress | None = None
        self._written_at: float | None = None
        self.writes = 0

    def __call__(self, progress: Progress) -> None:
        with self._lock:
            self._latest = progress
            now = self._clock()
            if progress == self._written or (self._written_at is not None and now - self._written_at < self._every):
                return
            self._write(progress, now)

    def flush(self) -> None:
        """Write the latest progress if it has not been written."""
        with self._lock:
            if self._latest is not None and self._latest != self._written:
                self._write(self._latest, self._clock())

    def _write(self, progress: Progress, now: float) -> None:
        record_progress(self._store, self._job_id, progress)
        self._written, self._written_at = progress, now
        self.writes += 1


class JobRunner:
    """Runs the jobs submitted to it on ``workers`` threads (default ``[jobs] workers``).

    Starting one marks failed (interrupted) the jobs of runners that are gone.
    """

    def __init__(
        self,
        workspace: Workspace,
        *,
        workers: int | None = None,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        stale_after: timedelta = STALE_AFTER,
    ) -> None:
        self.workspace = workspace
        self.store = open_store(workspace)
        self.runner = Runner.this_process(secrets.token_hex(6))
        self._stale_after = stale_after
        self._queue: queue.Queue[int | None] = queue.Queue()
        self._stop = threading.Event()
        started(self.runner)
        self._sweep()
        count = workers or workspace.settings.jobs.workers
        self._threads = [
            threading.Thread(target=self._work, name=f"sitrep-job-{n + 1}", daemon=True) for n in range(count)
        ]
        self._threads.append(
            threading.Thread(target=self._beat, args=(heartbeat_seconds,), name="sitrep-job-heartbeat", daemon=True)
        )
        for thread in self._threads:
            thread.start()

    def submit(self, request: JobRequest, *, title: str, started_by: str) -> Job:
        """Record the job (queued) and hand it to the pool; returns it as recorded."""
        job = record_job(self.store, request, title=title, started_by=started_by, runner=self.runner)
        self._queue.put(job.id)
        return job

    def wait(self, job_id: int, *, timeout: float = 300.0) -> Job:
        """The job once it has finished (``TimeoutError`` after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while True:
            job = get_job(self.store, job_id)
            if job is None:
                raise LookupError(f"there is no job {job_id}")
            if not job.active:
                return job
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} is still {job.state.value} after {timeout:g} seconds")
            time.sleep(0.05)

    def close(self) -> None:
        """Stop the threads once the jobs they run have ended (queued jobs stay queued, and are marked
        interrupted by the next runner)."""
        self._stop.set()
        stopped(self.runner)
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()

    def _work(self) -> None:
        while (job_id := self._queue.get()) is not None and not self._stop.is_set():
            try:
                self._run(job_id)
            except Exception:  # the database went away while recording: the next runner sweeps the job
                log.exception("could not record the end of job %s", job_id)

    def _run(self, job_id: int) -> None:
        job = get_job(self.store, job_id)
        if job is None or not job.active:
            return
        mark_running(self.store, job_id)
        recorder = ProgressRecorder(self.store, job_id)
        try:
            result = WORK[job.kind](self.workspace, job.request, recorder)
        except JobFailed as exc:
            recorder.flush()
            finish_job(self.store, job_id, exc.result, error=str(exc))
        except Exception as exc:
            # The traceback goes to the log; the user is told the kind of error and where to look.
            log.exception("job %s (%s: %s) failed", job_id, job.kind.value, job.title)
            finish_job(
                self.store,
                job_id,
                None,
                error=f"unexpected error ({type(exc).__name__}); the details are in the server log",
            )
        else:
            recorder.flush()
            finish_job(self.store, job_id, result)

    def _sweep(self) -> None:
        for job in mark_interrupted(self.store, self.runner, stale_after=self._stale_after):
            log.warning("job %s (%s) was interrupted: its server process is gone", job.id, job.title)
            if isinstance(job.request, IngestRequest):
                discard_upload(self.workspace, job.request.upload)
        for folder in discard_orphans(self.workspace, active_uploads(self.store), idle_seconds=ORPHAN_AFTER_SECONDS):
            log.warning("removed the upload %s: no job was recorded for it", folder.name)

    def _beat(self, every: float) -> None:
        while not self._stop.wait(every):
            try:
                beat(self.store, self.runner)
                self._sweep()
            except Exception:  # a database that is briefly away: the next beat tries again
                log.exception("job heartbeat failed")
