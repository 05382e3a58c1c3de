"""The report model: every number, sentence and chart of one issue in one language.

:mod:`sitrep.report.compose` builds it; the renderers (HTML, PDF, Markdown, JSON, WeChat) only format
it.  All strings are plain text (renderers escape them); numbers are kept beside their printed form.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

ChartKind = Literal["trend", "bar", "barh", "stacked", "donut", "grouped"]
Direction = Literal["up", "down", "flat", "new", "none"]


@dataclass(frozen=True)
class Series:
    """One named row of values of a chart (one value per category)."""

    name: str
    values: Sequence[float]


@dataclass(frozen=True)
class Chart:
    """Chart data: ``categories`` along one axis, one or more ``series``; drawn by :mod:`charts`, which
    writes its numbers as the edition's language does (``lang``: ``3.2万`` in zh, ``32,452`` in en)."""

    key: str
    title: str
    kind: ChartKind
    categories: list[str]
    series: list[Series]
    unit: str = ""
    lang: str = field(kw_only=True)


@dataclass(frozen=True)
class IndicatorRow:
    """A row of the key-indicator table (``previous`` None: no earlier data, printed ``—``)."""

    key: str
    label: str
    value: int
    previous: int | None
    change_pct: float | None
    value_text: str
    previous_text: str
    change_text: str
    direction: Direction
    sub: bool


@dataclass(frozen=True)
class Table:
    """A table of plain-text cells beside the indicator table (section 4's vulnerability list);
    ``numeric`` marks the columns aligned as numbers."""

    key: str
    title: str
    columns: list[str]
    rows: list[list[str]]
    numeric: list[bool]


@dataclass(frozen=True)
class Link:
    """A link to another issue (近期回顾)."""

    text: str
    href: str
    week: str


@dataclass(frozen=True)
class Section:
    """One of the six sections, in order."""

    key: str
    number: int
    heading: str
    paragraphs: list[str]
    table: list[IndicatorRow] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    # The analyst's narrative (overview only): plain text beside the computed sentences.
    summary: str = ""
    highlights: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Report:
    """One issue in one language."""

    lang: str
    week: str
    year: int
    number: int
    title: str
    issue: str
    dates: str
    organisation: str
    rating: str | None  # None: not enough data to rate the week
    rating_word: str
    score: float | None
    sections: list[Section]
    labels: dict[str, str]
    published_at: str | None
    revision: int
    other_lang_href: str
    data: dict[str, Any]

    def section(self, key: str) -> Section:
        """The section ``key``: overview, malware, websites, vulns, incidents or review."""
        return next(s for s in self.sections if s.key == key)
