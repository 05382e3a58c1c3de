"""``sitrep collect``: run the sources of ``[[sources]]`` that are due, ingest what each delivered, and
record every file and every run in the store.

A file is ingested once: its SHA-256 is recorded with its source after its events are committed, and
the same bytes delivered again (under any name) are not ingested again.  A run killed between the
commit and the record ingests the file again next time, which adds nothing (the lake drops events it
already holds).  One failing source does not stop the others: its error is recorded with its run.
"""

from __future__ import annotations

import fcntl
import hashlib
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from sitrep.collect import complaints, folder, http, imap, shadowserver_api
from sitrep.collect.delivery import Deliveries, Delivery
from sitrep.collect.records import CollectedFile, CollectionRun, known_file, last_runs
from sitrep.config import Source, Workspace
from sitrep.feeds import UnknownFormat, get_feed
from sitrep.feeds.base import Feed
from sitrep.incidents.complaints import ComplaintOutcome
from sitrep.incidents.db import open_store
from sitrep.lake.ingest import IngestResult, Reporter, ingest_paths

FileStatus = Literal["ingested", "duplicate", "failed", "pending"]


@dataclass(frozen=True)
class FileOutcome:
    """One delivered file: what became of it (``pending``: a dry run's file that would be ingested)."""

    source: str
    name: str
    size: int
    sha256: str
    status: FileStatus
    results: tuple[IngestResult, ...] = ()
    reason: str | None = None
    moved_to: str | None = None
    complaint: ComplaintOutcome | None = None
    complaint_mail: bool = False  # a mail for the complaint intake (``complaint`` once taken), not a feed

    def as_dict(self) -> dict[str, Any]:
        """The ``sitrep collect --json`` form of the file."""
        return {
            "name": self.name,
            "size": self.size,
            "sha256": self.sha256,
            "status": self.status,
            "reason": self.reason,
            "moved_to": self.moved_to,
            "complaint_mail": self.complaint_mail,
            "results": [r.as_dict() for r in self.results],
            "complaint": self.complaint.as_dict() if self.complaint else None,
        }


@dataclass
class SourceRun:
    """One source's run: the files it delivered, or the error that stopped it."""

    source: str
    kind: str
    files: list[FileOutcome] = field(default_factory=list)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The ``sitrep collect --json`` form of the run."""
        files = [f.as_dict() for f in self.files]
        return {"source": self.source, "kind": self.kind, "error": self.error, "files": files}

    @property
    def ok(self) -> bool:
        """No error and no failed file."""
        return self.error is None and all(f.status != "failed" for f in self.files)


class UnknownSource(ValueError):
    """A ``--source`` name that no ``[[sources]]`` entry has."""


class CollectRunning(ValueError):
    """Another ``sitrep collect`` of the workspace is running: one at a time takes the files."""


LOCK_NAME = ".collect.lock"

# Each source kind's deliveries (``collect/delivery.py``): the one place a new kind is added.
KINDS: dict[str, Deliveries] = {
    "folder": folder.deliveries,
    "http": http.deliveries,
    "imap": imap.deliveries,
    "complaints": complaints.deliveries,
    "shadowserver-api": shadowserver_api.deliveries,
}


@contextmanager
def _alone(workspace: Workspace) -> Iterator[None]:
    """Hold the workspace's collection lock (released by the system if the process dies)."""
    with open(workspace.root / LOCK_NAME, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CollectRunning(f"another 'sitrep collect' of {workspace.root} is running") from None
        yield


def due_sources(workspace: Workspace, now: datetime | None = None) -> list[Source]:
    """The sources whose ``every`` has passed since their last run (never run: due)."""
    moment = now or datetime.now(UTC)
    with open_store(workspace).read() as session:
        last = last_runs(session)
    return [s for s in workspace.settings.sources if s.name not in last or moment - last[s.name] >= s.interval]


def next_due(workspace: Workspace, now: datetime | None = None) -> datetime:
    """When the next source is due (now, when one already is)."""
    moment = now or datetime.now(UTC)
    with open_store(workspace).read() as session:
        last = last_runs(session)
    times = [last[s.name] + s.interval if s.name in last else moment for s in workspace.settings.sources]
    return max(moment, min(times, default=moment))


def chosen_sources(workspace: Workspace, names: list[str]) -> list[Source]:
    """The sources named (in the configuration's order); raises :class:`UnknownSource` for a name no
    source has."""
    known = {s.name: s for s in workspace.settings.sources}
    unknown = [n for n in names if n not in known]
    if unknown:
        listed = ", ".join(known) or "none is configured"
        raise UnknownSource(f"no source is named {unknown[0]!r} (sources: {listed})")
    return [s for s in workspace.settings.sources if s.name in names]


def collect(
    workspace: Workspace,
    sources: list[Source],
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    on_file: Callable[[FileOutcome], None] | None = None,
    reporter: Reporter | None = None,
) -> list[SourceRun]:
    """Run ``sources`` one after the other; a dry run lists what each would deliver and changes
    nothing (no ingest, no move, no record); ``reporter`` follows each file's ingest (a progress
    bar).  Raises :class:`CollectRunning` when another run of the workspace holds its lock."""
    with _alone(workspace):
        return [_run_source(workspace, source, dry_run, now, on_file, reporter) for source in sources]


def _run_source(
    workspace: Workspace,
    source: Source,
    dry_run: bool,
    now: datetime | None,
    on_file: Callable[[FileOutcome], None] | None,
    reporter: Reporter | None,
) -> SourceRun:
    started = now or datetime.now(UTC)
    run = SourceRun(source.name, source.kind)

    def took(outcome: FileOutcome) -> FileOutcome:
        run.files.append(outcome)
        if on_file:
            on_file(outcome)
        return outcome

    try:
        feed = get_feed(source.format, workspace.shadowserver_schema) if source.format else None
        with tempfile.TemporaryDirectory(prefix="sitrep-collect-") as work:
            for delivery in KINDS[source.kind](workspace, source, Path(work), started):
                took(_take(workspace, source, feed, delivery, dry_run, reporter))
    except (OSError, ValueError, UnknownFormat) as exc:
        run.error = str(exc)
    if not dry_run:
        _record_run(workspace, run, started)
    return run


def _take(
    workspace: Workspace,
    source: Source,
    feed: Feed | None,
    delivery: Delivery,
    dry_run: bool,
    reporter: Reporter | None = None,
) -> FileOutcome:
    path, finish = delivery.path, delivery.finish
    size, digest = _fingerprint(path)
    with open_store(workspace).read() as session:
        known = known_file(session, source.name, digest)
    if known is not None and known.status == "ingested":
        moved = None if dry_run else finish("done", None)
        mail = delivery.intake is not None
        return FileOutcome(source.name, path.name, size, digest, "duplicate", moved_to=moved, complaint_mail=mail)
    if dry_run:
        return FileOutcome(source.name, path.name, size, digest, "pending", complaint_mail=delivery.intake is not None)
    if delivery.intake is not None:
        return _take_complaint(workspace, source, delivery, delivery.intake, size, digest)
    results = tuple(ingest_paths(workspace, [path], feed=feed, tlp=source.tlp, reporter=reporter))
    errors = [f"{Path(r.file).name}: {r.error}" for r in results if r.error]
    failed = bool(results) and len(errors) == len(results)
    reason = "; ".join(errors) or None
    _record_file(workspace, source, path, size, digest, results, failed, reason)
    moved = finish("failed" if failed else "done", reason if failed else None)
    return FileOutcome(source.name, path.name, size, digest, "failed" if failed else "ingested", results, reason, moved)


def _take_complaint(
    workspace: Workspace,
    source: Source,
    delivery: Delivery,
    intake: Callable[[Path], ComplaintOutcome],
    size: int,
    digest: str,
) -> FileOutcome:
    """A complaint mail: taken by the intake (a proposal, a note on an open incident, or quarantined
    with its reason), recorded, then finished."""
    path = delivery.path
    complaint = intake(path)
    failed = not complaint.ok
    reason = complaint.reason if failed else None
    _record_file(workspace, source, path, size, digest, (), failed, reason)
    moved = delivery.finish("failed" if failed else "done", reason)
    status: FileStatus = "failed" if failed else "ingested"
    return FileOutcome(source.name, path.name, size, digest, status, (), reason, moved, complaint, True)


def _fingerprint(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _record_file(
    workspace: Workspace,
    source: Source,
    path: Path,
    size: int,
    digest: str,
    results: tuple[IngestResult, ...],
    failed: bool,
    reason: str | None,
) -> None:
    with open_store(workspace).write() as session:
        record = known_file(session, source.name, digest) or CollectedFile(source=source.name, sha256=digest)
        record.name = path.name
        record.size = size
        record.collected_at = datetime.now(UTC)
        record.status = "failed" if failed else "ingested"
        record.ingest_ids = " ".join(r.ingest_id for r in results if r.ingest_id and not r.error)
        record.accepted = sum(r.accepted for r in results)
        record.reason = reason
        session.add(record)


def _record_run(workspace: Workspace, run: SourceRun, started: datetime) -> None:
    with open_store(workspace).write() as session:
        session.add(
            CollectionRun(
                source=run.source,
                started_at=started,
                finished_at=datetime.now(UTC),
                files=len(run.files),
                error=run.error,
            )
        )
