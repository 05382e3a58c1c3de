"""ISO weeks in the workspace time zone: the unit every indicator and report is counted in.

``2025-W01`` runs from Monday 2024-12-30 00:00 to Sunday 2025-01-05 24:00 local time (DESIGN.md §4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_WEEK_RE = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class Week:
    """One ISO week (year, number)."""

    year: int
    number: int

    def __post_init__(self) -> None:
        last = date(self.year, 12, 28).isocalendar().week
        if not 1 <= self.number <= last:
            raise ValueError(f"{self.year} has ISO weeks 1 to {last}, not {self.number}")

    @classmethod
    def parse(cls, text: str) -> Week:
        """Parse ``2025-W01`` (also ``2025W1``); raise ``ValueError`` with the expected form."""
        match = _WEEK_RE.match(text.strip())
        if not match:
            raise ValueError(f"{text!r} is not an ISO week; expected the form 2025-W01")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: date) -> Week:
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    @classmethod
    def last_complete(cls, tz: ZoneInfo, now: datetime | None = None) -> Week:
        """The most recent week that has fully ended in ``tz``."""
        current = (now or datetime.now(UTC)).astimezone(tz).date()
        return cls.of(current) - 1

    def __str__(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    def __sub__(self, weeks: int) -> Week:
        return Week.of(self.monday - timedelta(weeks=weeks))

    def __add__(self, weeks: int) -> Week:
        return Week.of(self.monday + timedelta(weeks=weeks))

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """``[start, end)`` of the week as aware UTC datetimes, from local midnight to midnight."""
        start = datetime.combine(self.monday, time(0), tzinfo=tz)
        end = datetime.combine(self.monday + timedelta(days=7), time(0), tzinfo=tz)
        return start.astimezone(UTC), end.astimezone(UTC)

    def previous(self, count: int) -> list[Week]:
        """The ``count`` weeks before this one, newest first."""
        return [self - i for i in range(1, count + 1)]
