"""Ingest on Apache Spark (``sitrep ingest --engine spark``): many feed files at once, one Spark task each.

This process is Spark's driver and holds the lake's writer lock.  Each file is a task that runs the
per-file pipeline of one machine (:func:`sitrep.lake.ingest.stage`: read, map, check, deduplicate within
the file, enrich; DuckDB inside the executor) and leaves its output in the lake's work folder.  The
driver commits the files in the order given (:func:`sitrep.lake.ingest.commit`), each after leaving out
the events the lake already holds, which include those of the files committed before it: the lake gets
the same events, rejects and summaries as from ingesting the files one after another here.

What a task reads and writes must be at the same path on the driver and on every executor: the feed
files and the workspace folder (the lake's work folder, the Shadowserver schema).  In local mode
(``[query.spark] master = "local[N]"``) that is this machine; on a cluster, a shared folder.  Each task
is one file: a file is not split (its rows are numbered, deduplicated and committed as one), so a big
file takes as long as on one machine, with the ``[ingest]`` threads and memory of its executor.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sitrep.config import Workspace
from sitrep.feeds.base import Feed
from sitrep.lake.ingest import IngestResult, Reporter, Session, Staged, commit, opened, stage
from sitrep.lake.store import Lake


@dataclass(frozen=True)
class _Task:
    """One file for a Spark task: everything it needs travels with it (pickled to the executor)."""

    path: str  # absolute: an executor's working folder is not the driver's
    name: str  # as given, what the lake calls the file (its events' source_file)
    staging: str  # the lake's work folder, where the task leaves its output
    workspace: Workspace
    feed: Feed | None
    tlp: str | None


@dataclass
class _Output:
    """What a task hands back: its folder (removed once its files are committed) and its staged files."""

    folder: Path | None
    staged: list[Staged]


def ingest_paths(
    workspace: Workspace,
    paths: Iterable[Path],
    *,
    feed: Feed | None = None,
    reporter: Reporter | None = None,
    on_result: Callable[[IngestResult], None] | None = None,
    tlp: str | None = None,
) -> list[IngestResult]:
    """Ingest files (``.zip`` archives member by member) as Spark tasks on the workspace's
    ``[query.spark]`` session, committing each in the order given; the same arguments and results as
    :func:`sitrep.lake.ingest.ingest_paths`.  A file whose task fails is an error of that file; a
    Spark that cannot start, or whose driver goes away, is :class:`sitrep.metrics.spark.SparkFailed`."""
    from sitrep.metrics import spark  # here, not at the top: executors need neither Ibis nor the session

    paths = [Path(p) for p in paths]
    lake = Lake.of(workspace)
    with spark.failures():
        context = spark.session(workspace).sparkContext
        with lake.writing() as work, opened(workspace, lake, work, tlp=tlp) as session:
            tasks = [_Task(os.path.abspath(p), str(p), str(work), workspace, feed, tlp) for p in paths]
            return _run(context, session, tasks, reporter, on_result)


def _run(
    context: Any,
    session: Session,
    tasks: list[_Task],
    reporter: Reporter | None,
    on_result: Callable[[IngestResult], None] | None,
) -> list[IngestResult]:
    """Submit the tasks, a few more than Spark runs at once, and commit their files in order as they
    finish (a file waits for those before it: the lake must hold them when it is deduplicated)."""
    results: list[IngestResult] = []
    done = 0
    if reporter:
        reporter.start_file(f"{len(tasks)} file(s) on Spark")
        reporter.stage("ingesting", lambda: 100.0 * done / max(len(tasks), 1))
    # Files staged but not yet committed take room in the work folder: at most this many at a time.
    window = 2 * max(int(context.defaultParallelism), 1)
    pending: deque[tuple[_Task, Future[_Output]]] = deque()
    queue = iter(tasks)
    with ThreadPoolExecutor(max_workers=window, thread_name_prefix="sitrep-spark-ingest") as pool:
        try:
            while True:
                while len(pending) < window and (task := next(queue, None)) is not None:
                    pending.append((task, _submit(pool, context, session, task)))
                if not pending:
                    break
                task, future = pending.popleft()
                output = _output_of(task, future, context.pythonExec)
                for staged in output.staged:
                    result = commit(session, staged)
                    results.append(result)
                    if on_result:
                        on_result(result)
                if output.folder is not None:
                    shutil.rmtree(output.folder, ignore_errors=True)
                done += 1
        except BaseException:
            # Stopped (an error, Ctrl-C): the tasks still running are cancelled, not left to write.
            context.cancelAllJobs()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return results


def _submit(pool: ThreadPoolExecutor, context: Any, session: Session, task: _Task) -> Future[_Output]:
    """A Spark job of one task for ``task``'s file, run from a thread of ``pool``; a path that is no
    file here is staged (as its error) without Spark."""
    if not Path(task.path).is_file():
        finished: Future[_Output] = Future()
        finished.set_result(_Output(None, list(stage(session, Path(task.path), task.feed, name=task.name))))
        return finished

    def job() -> _Output:
        context.setJobDescription(f"sitrep ingest {task.name}")
        output: _Output = context.parallelize([task], 1).map(_stage_task).collect()[0]
        return output

    return pool.submit(job)


def _output_of(task: _Task, future: Future[_Output], python: str) -> _Output:
    """The task's output; a task that failed is an error of its file (Spark's one line), and output
    left where this process does not see it an error that says what to share."""
    from py4j.protocol import Py4JJavaError

    from sitrep.metrics import spark

    try:
        output = future.result()
    except Py4JJavaError as exc:  # the job failed (the task raised, its executor was lost)
        message = spark.failure(exc) or type(exc).__name__
        if "ModuleNotFoundError" in message:
            message += f" (in the executors' Python, {python}: PYSPARK_PYTHON)"
        return _Output(None, [Staged(IngestResult(task.name, task.feed.name if task.feed else None, error=message))])
    for staged in output.staged:
        outputs = [*(piece.path for piece in staged.pieces), staged.rejects]
        missing = [p for p in outputs if p is not None and not p.exists()]
        if missing:
            staged.result.error = (
                f"the Spark task left its output in {missing[0].parent}, which this machine does not see: the "
                "workspace folder must be shared with every executor, at the same path"
            )
    return output


def _stage_task(task: _Task) -> _Output:
    """In the executor: stage ``task``'s file (each member of a zip archive) in a folder of its own
    inside the lake's work folder, with a DuckDB connection of its own that never reads the lake."""
    host = socket.gethostname()
    if not Path(task.staging).is_dir():
        error = (
            f"the lake's work folder {task.staging} is not on the Spark executor {host}: the workspace folder "
            "must be shared with every executor, at the same path"
        )
        return _Output(None, [Staged(IngestResult(task.name, task.feed.name if task.feed else None, error=error))])
    if not Path(task.path).exists():
        error = (
            f"no such file on the Spark executor {host}: feed files must be in a folder shared with every "
            "executor, at the same path"
        )
        return _Output(None, [Staged(IngestResult(task.name, task.feed.name if task.feed else None, error=error))])
    folder = Path(task.staging) / f"task-{uuid.uuid4().hex}"
    folder.mkdir()
    with opened(task.workspace, None, folder, tlp=task.tlp) as session:
        return _Output(folder, list(stage(session, Path(task.path), task.feed, name=task.name)))
