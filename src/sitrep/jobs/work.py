"""What each kind of job does: ingest an uploaded feed file, render a week's report.

Each function reports its progress to a callable (throttled before it reaches the database by
:class:`sitrep.jobs.runner.ProgressRecorder`) and returns its typed summary; :class:`JobFailed`
says why a job could not do what it was asked, in words the user is shown.
"""

from __future__ import annotations

import threading
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sitrep.config import Workspace
from sitrep.feeds import UnknownFormat, get_feed
from sitrep.jobs.model import (
    IngestedFile,
    IngestRequest,
    IngestSummary,
    JobKind,
    JobRequest,
    JobResult,
    Progress,
    RenderedFile,
    RenderRequest,
    RenderSummary,
    Step,
)
from sitrep.jobs.uploads import discard_upload
from sitrep.weeks import Week

ProgressSink = Callable[[Progress], None]
_POLL_SECONDS = 0.5
_STAGES = (Step.READING, Step.DEDUPLICATING, Step.ENRICHING)  # the stages ingest reports, in order
_UNITS = 100  # progress units of one stage of one file (its percent)


class JobFailed(Exception):
    """The job could not do what it was asked; the message says why, and ``result`` holds what it
    did (an ingest whose every file was refused still has each file's reason)."""

    def __init__(self, message: str, result: JobResult | None = None) -> None:
        super().__init__(message)
        self.result = result


def _shown(workspace: Workspace, path: object) -> str:
    """``path`` relative to the workspace when it is inside it (an object store's URL as it is)."""
    if not isinstance(path, Path):
        return str(path)
    try:
        return str(path.relative_to(workspace.root))
    except ValueError:
        return str(path)


def _file_count(path: Path) -> int:
    """How many files an ingest of ``path`` reads: the members of a zip archive, else one."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                return max(1, sum(1 for m in archive.infolist() if not m.is_dir()))
    except (zipfile.BadZipFile, OSError, ValueError):
        pass  # the ingest reports the corrupt archive itself
    return 1


class _IngestProgress:
    """The ingest's :class:`~sitrep.lake.ingest.Reporter`: the stage of each file, and DuckDB's percent
    of it, as units of ``files × stages × 100``."""

    def __init__(self, sink: ProgressSink, files: int) -> None:
        self._sink = sink
        self._files = files
        self._file = -1  # none started yet
        self._stage = 0
        self._name = ""
        self._percent: Callable[[], float] = lambda: -1.0
        self._lock = threading.Lock()

    def start_file(self, name: str) -> None:
        with self._lock:
            self._file = min(self._file + 1, self._files - 1)
            self._stage, self._name, self._percent = 0, name, lambda: -1.0
        self.push()

    def stage(self, name: str, done: Callable[[], float]) -> None:
        with self._lock:
            self._stage = _STAGES.index(Step(name))
            self._percent = done
        self.push()

    def push(self) -> None:
        with self._lock:
            percent = self._percent()
            units = (max(self._file, 0) * len(_STAGES) + self._stage) * _UNITS + (int(percent) if percent >= 0 else 0)
            progress = Progress(units, self._files * len(_STAGES) * _UNITS, _STAGES[self._stage], self._name)
        self._sink(progress)

    @contextmanager
    def polling(self) -> Iterator[None]:
        """Push the progress every half second while the block runs (DuckDB's percent moves inside a
        stage, with no call to tell)."""
        stop = threading.Event()

        def poll() -> None:
            while not stop.wait(_POLL_SECONDS):
                self.push()

        thread = threading.Thread(target=poll, name="sitrep-ingest-progress", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()


def run_ingest(workspace: Workspace, request: IngestRequest, report: ProgressSink) -> IngestSummary:
    """Ingest the uploaded file (a zip archive member by member), then delete the upload: the lake
    keeps the events, and each rejected row with its raw text."""
    # Imported here: the lake's engine (DuckDB) is loaded by the jobs that use it, not by every reader
    # of a job's state (``sitrep jobs list``).
    from sitrep.lake.ingest import ingest_paths
    from sitrep.lake.store import Lake

    path = workspace.root / request.upload
    try:
        feed = get_feed(request.format, workspace.shadowserver_schema) if request.format else None
        progress = _IngestProgress(report, _file_count(path))
        with progress.polling():
            results = ingest_paths(workspace, [path], feed=feed, reporter=progress)
    except UnknownFormat as exc:
        raise JobFailed(str(exc)) from None
    finally:
        discard_upload(workspace, request.upload)
    lake = Lake.of(workspace)
    files = []
    for result in results:
        span = lake.ingest_span(result.ingest_id) if result.ingest_id and result.accepted else None
        weeks: tuple[str, ...] = ()
        if span:
            first, last = (Week.of(t.astimezone(workspace.timezone).date()) for t in span)
            weeks = tuple(str(first + n) for n in range(min(53, (last.monday - first.monday).days // 7 + 1)))
        rejects = lake.rejects_dir / f"{result.ingest_id}.parquet" if result.rejected else None
        files.append(
            IngestedFile(
                file=request.name + result.file.removeprefix(str(path)),
                format=result.format,
                read=result.read,
                accepted=result.accepted,
                duplicates=result.duplicates,
                rejected=result.rejected,
                error=result.error,
                rejects=_shown(workspace, rejects) if rejects else None,
                weeks=weeks,
            )
        )
    summary = IngestSummary(tuple(files))
    if all(f.error for f in files):
        raise JobFailed("; ".join(f"{f.file}: {f.error}" for f in files), summary)
    return summary


def run_render(workspace: Workspace, request: RenderRequest, report: ProgressSink) -> RenderSummary:
    """Render the week's report in both languages and every format into ``reports/<week>/``."""
    from sitrep.report.errors import OutputError
    from sitrep.report.publish import render_week
    from sitrep.report.wording import LANGS

    try:
        week = Week.parse(request.week)
    except ValueError as exc:
        raise JobFailed(str(exc)) from None
    total = 1 + len(LANGS)  # composing both editions, then each language's files
    report(Progress(0, total, Step.COMPOSING))
    begun = 0

    def on_edition(lang: str) -> None:
        nonlocal begun
        begun += 1
        report(Progress(begun, total, Step.RENDERING, lang))

    try:
        written = render_week(workspace, week, on_edition=on_edition)
    except OutputError as exc:
        raise JobFailed(str(exc)) from None
    return RenderSummary(str(week), tuple(RenderedFile(_shown(workspace, p), p.stat().st_size) for p in written))


WORK: dict[JobKind, Callable[[Workspace, JobRequest, ProgressSink], JobResult]] = {
    JobKind.INGEST: run_ingest,  # type: ignore[dict-item]
    JobKind.RENDER: run_render,  # type: ignore[dict-item]
}
