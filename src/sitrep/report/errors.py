"""What publishing refuses, as facts (kept apart from :mod:`.publish` so callers can catch them
without loading the query engine)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sitrep.weeks import Week

if TYPE_CHECKING:
    from sitrep.report.check_model import CheckResult


class OutputError(Exception):
    """A file of a report or of the archive cannot be written where it belongs; the message names the
    path and the problem (a file where a folder belongs, no permission, a full disk)."""


class PublishError(Exception):
    """A publication step that cannot be done as asked; the message states why."""


class PublishRefused(PublishError):
    """The week was not published: ``reasons`` say why (the week has not ended, the check's errors).

    ``forceable`` is False for a week that has not started; otherwise a reason given with ``force``
    publishes it anyway.
    """

    def __init__(self, week: Week, reasons: list[str], check: CheckResult, *, forceable: bool) -> None:
        super().__init__(f"{week} was not published: " + "; ".join(reasons))
        self.week = week
        self.reasons = reasons
        self.check = check
        self.forceable = forceable
