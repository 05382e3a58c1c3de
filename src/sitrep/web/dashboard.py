"""What the dashboard shows for one week, gathered from the core: the report model of the week (its
indicators, trend, rating and explanation: :func:`sitrep.report.publish.editions`), the pre-publication
check (the feeds that arrived: :func:`sitrep.report.check.check_week`), the incident-handling numbers
of the report, open incidents by status and overdue coordination requests (:mod:`sitrep.incidents`).  No query here."""

from __future__ import annotations

from dataclasses import dataclass

from sitrep.config import Workspace
from sitrep.incidents.counts import open_by_status
from sitrep.incidents.desk import Desk
from sitrep.incidents.service import overdue_requests
from sitrep.incidents.views import OverdueView
from sitrep.incidents.vocabulary import Status
from sitrep.report.check import check_week
from sitrep.report.check_model import CheckResult, FeedRows
from sitrep.report.facts_model import INCIDENT_NUMBERS
from sitrep.report.model import IndicatorRow, Report
from sitrep.report.publish import editions
from sitrep.weeks import Week

# The trend line of an indicator, drawn in a box of this size (SVG user units).
SPARK_WIDTH, SPARK_HEIGHT = 120, 28


@dataclass(frozen=True)
class IndicatorLine:
    """One key indicator: its row of the report's table and its values over the trend's weeks."""

    row: IndicatorRow
    trend: tuple[int, ...]

    @property
    def points(self) -> str:
        """The trend as the ``points`` of an SVG polyline, from its lowest value (bottom) to its highest."""
        if not self.trend:
            return ""
        low, spread = min(self.trend), (max(self.trend) - min(self.trend)) or 1
        step = SPARK_WIDTH / max(len(self.trend) - 1, 1)
        return " ".join(
            f"{i * step:.1f},{SPARK_HEIGHT - 2 - (v - low) / spread * (SPARK_HEIGHT - 4):.1f}"
            for i, v in enumerate(self.trend)
        )


@dataclass(frozen=True)
class Dashboard:
    """Everything the dashboard page shows for ``week``."""

    week: Week
    report: Report
    indicators: list[IndicatorLine]
    trend_weeks: list[str]
    open_incidents: dict[Status, int]
    overdue: list[OverdueView]
    check: CheckResult

    @property
    def feeds(self) -> list[FeedRows]:
        """The feeds with rows this week, the largest first."""
        return sorted((f for f in self.check.feeds if f.rows), key=lambda f: -f.rows)

    @property
    def rating_basis(self) -> list[str]:
        """The explanation of the rating (the report's notes under its overview)."""
        return self.report.section("overview").notes

    @property
    def summary(self) -> list[str]:
        return self.report.section("overview").paragraphs

    @property
    def incident_numbers(self) -> list[tuple[str, int]]:
        """The incident-handling numbers of section 5 (key, value) as the report prints them."""
        numbers = self.report.data["incidents"]
        return [(key, int(numbers[key]["value"])) for key in INCIDENT_NUMBERS]


def dashboard(workspace: Workspace, desk: Desk, week: Week, lang: str) -> Dashboard:
    """The dashboard of ``week`` in ``lang`` (the published issue's numbers when it is published)."""
    (report,) = editions(workspace, week, [lang])
    trend = report.data.get("trend") or []
    rows = report.section("overview").table
    lines = [IndicatorLine(row, tuple(int(w.get(row.key, 0)) for w in trend)) for row in rows]
    return Dashboard(
        week=week,
        report=report,
        indicators=lines,
        trend_weeks=[str(w.get("week", "")) for w in trend],
        open_incidents=open_by_status(desk),
        overdue=overdue_requests(desk),
        check=check_week(workspace, week),
    )
