"""What ``sitrep check`` found, as typed values (no query here: the CLI, publishing and its errors
share them without loading the query engine).  :mod:`sitrep.report.check` computes them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Level = Literal["error", "warning"]
WeekState = Literal["future", "open", "ended"]


@dataclass(frozen=True)
class Finding:
    """One thing the check found: ``code`` names the rule, ``subject`` the feed or indicator."""

    level: Level
    code: str
    message: str
    subject: str | None = None


@dataclass(frozen=True)
class FeedRows:
    """A feed's events in the week and in each of the previous weeks (oldest first)."""

    feed: str
    provider: str | None
    rows: int
    previous: list[int]
    median: float | None


@dataclass(frozen=True)
class SourceDelivery:
    """A configured source (``[[sources]]``) in the week: the files it delivered (by when they were
    collected) that were ingested or failed, the rows they added, and its last file."""

    source: str
    kind: str
    files: int
    failed: int
    accepted: int
    last_file_at: str | None


@dataclass(frozen=True)
class IndicatorMove:
    """A key indicator this week and last week (``previous`` is None when last week lies before the
    lake's history)."""

    key: str
    label: str
    value: int
    previous: int | None


@dataclass(frozen=True)
class CheckResult:
    """Everything ``sitrep check`` shows (``as_dict`` is its ``--json``)."""

    week: str
    start: str
    end: str
    timezone: str
    state: WeekState
    history_start: str | None
    previous_weeks: list[str]
    events: int
    incidents_handled: int
    feeds: list[FeedRows] = field(default_factory=list)
    sources: list[SourceDelivery] = field(default_factory=list)
    indicators: list[IndicatorMove] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "warning"]

    @property
    def status(self) -> Literal["clean", "warnings", "errors"]:
        """``errors`` when any finding is an error, else ``warnings`` when any, else ``clean``."""
        return "errors" if self.errors else "warnings" if self.findings else "clean"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status}
