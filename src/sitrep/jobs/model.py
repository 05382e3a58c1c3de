"""What a job is, as the web desk and the CLI see it: its kind, state, progress and typed result.

A job is recorded in the incident store (:mod:`sitrep.jobs.records`); these dataclasses are what
the store functions return, and their ``as_json``/``from_json`` forms are what its JSON columns hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class JobKind(StrEnum):
    """What a job does."""

    INGEST = "ingest"  # ingest an uploaded feed file into the lake
    RENDER = "render"  # render a week's report in both languages and every format


class JobState(StrEnum):
    """Where a job is: queued → running → done or failed (a job never leaves done or failed)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


ACTIVE = (JobState.QUEUED, JobState.RUNNING)


class Step(StrEnum):
    """The step a job is at, shown with its progress (the interfaces word each step)."""

    QUEUED = "queued"
    STARTING = "starting"
    READING = "reading"
    DEDUPLICATING = "deduplicating"
    ENRICHING = "enriching"
    COMPOSING = "composing"
    RENDERING = "rendering"
    FINISHED = "finished"


@dataclass(frozen=True)
class Progress:
    """How far a job is: ``done`` of ``total`` units, the step, and what it is working on (a file
    name, a language)."""

    done: int
    total: int
    step: Step
    detail: str = ""

    @property
    def fraction(self) -> float:
        """Done as a fraction of the total, 0 to 1 (0 while the total is unknown)."""
        return min(1.0, self.done / self.total) if self.total > 0 else 0.0


@dataclass(frozen=True)
class IngestRequest:
    """Ingest one uploaded file: where it was stored (relative to the workspace), the name it was
    uploaded under (shown only, never a path) and the format (None: detected)."""

    upload: str
    name: str
    format: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"upload": self.upload, "name": self.name, "format": self.format}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IngestRequest:
        return cls(data["upload"], data["name"], data.get("format"))


@dataclass(frozen=True)
class RenderRequest:
    """Render ``week`` (``2025-W01``) in both languages and every format."""

    week: str

    def as_json(self) -> dict[str, Any]:
        return {"week": self.week}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RenderRequest:
        return cls(data["week"])


@dataclass(frozen=True)
class IngestedFile:
    """One file of an ingest job (a zip archive has one per member): ``read == accepted + duplicates +
    rejected``; the rejected rows are in ``rejects`` (relative to the workspace) and shown by
    ``sitrep rejects``; ``weeks`` are the reporting weeks its accepted events fall in."""

    file: str
    format: str | None
    read: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    error: str | None = None
    rejects: str | None = None
    weeks: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "format": self.format,
            "read": self.read,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "error": self.error,
            "rejects": self.rejects,
            "weeks": list(self.weeks),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IngestedFile:
        return cls(**{**data, "weeks": tuple(data.get("weeks", ()))})


@dataclass(frozen=True)
class IngestSummary:
    """The result of an ingest job: each file read."""

    files: tuple[IngestedFile, ...]

    def as_json(self) -> dict[str, Any]:
        return {"files": [f.as_json() for f in self.files]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IngestSummary:
        return cls(tuple(IngestedFile.from_json(f) for f in data["files"]))


@dataclass(frozen=True)
class RenderedFile:
    """A file a render job wrote (relative to the workspace) and its size."""

    path: str
    bytes: int


@dataclass(frozen=True)
class RenderSummary:
    """The result of a render job: the week and the files written."""

    week: str
    files: tuple[RenderedFile, ...]

    def as_json(self) -> dict[str, Any]:
        return {"week": self.week, "files": [{"path": f.path, "bytes": f.bytes} for f in self.files]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RenderSummary:
        return cls(data["week"], tuple(RenderedFile(f["path"], f["bytes"]) for f in data["files"]))


JobRequest = IngestRequest | RenderRequest
JobResult = IngestSummary | RenderSummary
REQUESTS: dict[JobKind, type[IngestRequest] | type[RenderRequest]] = {
    JobKind.INGEST: IngestRequest,
    JobKind.RENDER: RenderRequest,
}
RESULTS: dict[JobKind, type[IngestSummary] | type[RenderSummary]] = {
    JobKind.INGEST: IngestSummary,
    JobKind.RENDER: RenderSummary,
}


def kind_of(request: JobRequest) -> JobKind:
    """The kind of job a request starts."""
    return JobKind.INGEST if isinstance(request, IngestRequest) else JobKind.RENDER


@dataclass(frozen=True)
class Job:
    """A job as recorded: what it was asked to do, by whom, where it is and how it ended."""

    id: int
    kind: JobKind
    title: str
    started_by: str
    state: JobState
    request: JobRequest
    progress: Progress
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    result: JobResult | None = None
    error: str | None = None
    interrupted: bool = field(default=False)

    @property
    def active(self) -> bool:
        """Whether the job is still queued or running."""
        return self.state in ACTIVE

    def as_json(self) -> dict[str, Any]:
        """The job as JSON-ready data (``sitrep jobs list --json``)."""
        return {
            "id": self.id,
            "kind": self.kind.value,
            "title": self.title,
            "started_by": self.started_by,
            "state": self.state.value,
            "interrupted": self.interrupted,
            "progress": {
                "done": self.progress.done,
                "total": self.progress.total,
                "step": self.progress.step.value,
                "detail": self.progress.detail,
            },
            "created_at": self.created_at.isoformat(),
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "request": self.request.as_json(),
            "result": self.result.as_json() if self.result else None,
            "error": self.error,
        }
