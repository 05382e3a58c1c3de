"""What the dashboard shows for one week, gathered from the core: the report model of the week (its
indicators, trend, rating and explanation: :func:`sitrep.report.publish.editions`), the pre-publication
check (the feeds that arrived: :func:`sitrep.report.check.check_week`), the incident-handling numbers
of the report, open incidents by status and overdue coordination requests (:mod:`sitrep.incidents`).
No query here.

The report model and the check take seconds on a large lake, so the app keeps them
(:class:`DashboardCache`) under everything they are computed from
(:func:`sitrep.report.publish.report_inputs`): an ingest, a publication or an incident change makes a
new key, and the next dashboard computes afresh.  The incident counts and overdue requests are cheap
and read live."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from starlette.concurrency import run_in_threadpool

from sitrep.config import Workspace
from sitrep.incidents.counts import open_by_status
from sitrep.incidents.desk import Desk
from sitrep.incidents.service import count_overdue, overdue_requests
from sitrep.incidents.views import OverdueView
from sitrep.incidents.vocabulary import Status
from sitrep.memo import Memo
from sitrep.report.check import check_week
from sitrep.report.check_model import CheckResult, FeedRows
from sitrep.report.facts_model import INCIDENT_NUMBERS
from sitrep.report.model import IndicatorRow, Report
from sitrep.report.publish import editions, report_inputs
from sitrep.weeks import Week

# The trend line of an indicator, drawn in a box of this size (SVG user units).
SPARK_WIDTH, SPARK_HEIGHT = 120, 28
# The longest overdue requests the dashboard lists (the ledger has them all).
OVERDUE_SHOWN = 20


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
    overdue: list[OverdueView]  # the longest overdue, at most OVERDUE_SHOWN
    overdue_total: int
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


@dataclass(frozen=True)
class WeekReport:
    """The report model of a week in one language, and the week's check."""

    report: Report
    check: CheckResult


class DashboardCache:
    """The week reports the dashboard showed last (``size`` weeks and languages), by their inputs.

    While one is computed (seconds, after an ingest), the page's other requests for it wait in the
    event loop (:meth:`week_report_async`), not in a worker thread each: a queue of dashboards must
    not take every thread of the server from the other pages.
    """

    def __init__(self, size: int = 16) -> None:
        self._memo: Memo[WeekReport] = Memo(size)
        self._pending: dict[tuple[str, ...], asyncio.Future[WeekReport]] = {}

    def _key(self, workspace: Workspace, week: Week, lang: str, now: datetime) -> tuple[str, ...]:
        return (*report_inputs(workspace, week, now=now), lang)

    def week_report(self, workspace: Workspace, week: Week, lang: str) -> WeekReport:
        """The report of ``week`` in ``lang`` and its check: kept, or computed when an input changed."""
        now = datetime.now(UTC)
        key = self._key(workspace, week, lang, now)
        return self._memo.get(key, lambda: _week_report(workspace, week, lang, now))

    async def week_report_async(self, workspace: Workspace, week: Week, lang: str) -> WeekReport:
        """:meth:`week_report` for the event loop: the work runs in a worker thread, and the requests
        that come while it runs wait for the same result without holding a thread."""
        now = datetime.now(UTC)
        key = await run_in_threadpool(self._key, workspace, week, lang, now)
        kept = self._memo.peek(key)
        if kept is not None:
            return kept
        pending = self._pending.get(key)
        if pending is None:
            pending = asyncio.ensure_future(
                run_in_threadpool(self._memo.get, key, lambda: _week_report(workspace, week, lang, now))
            )
            self._pending[key] = pending
            pending.add_done_callback(lambda _: self._pending.pop(key, None))
        return await asyncio.shield(pending)


def _week_report(workspace: Workspace, week: Week, lang: str, now: datetime) -> WeekReport:
    (report,) = editions(workspace, week, [lang])
    # Of the public data only the trend and the incident-handling numbers are shown; the IDs behind
    # every indicator (millions of events in a large week) are not kept.
    kept = {"trend": report.data.get("trend") or [], "incidents": report.data.get("incidents") or {}}
    shown = replace(report, data=kept)
    return WeekReport(shown, check_week(workspace, week, now=now))


def assemble(desk: Desk, week: Week, found: WeekReport) -> Dashboard:
    """The dashboard of ``week`` from its report and check, with the live incident counts."""
    report = found.report
    trend = report.data.get("trend") or []
    rows = report.section("overview").table
    lines = [IndicatorLine(row, tuple(int(w.get(row.key, 0)) for w in trend)) for row in rows]
    return Dashboard(
        week=week,
        report=report,
        indicators=lines,
        trend_weeks=[str(w.get("week", "")) for w in trend],
        open_incidents=open_by_status(desk),
        overdue=overdue_requests(desk, limit=OVERDUE_SHOWN),
        overdue_total=count_overdue(desk),
        check=found.check,
    )


def dashboard(
    workspace: Workspace, desk: Desk, week: Week, lang: str, cache: DashboardCache | None = None
) -> Dashboard:
    """The dashboard of ``week`` in ``lang`` (the published issue's numbers when it is published), its
    report and check from ``cache`` when given."""
    return assemble(desk, week, (cache or DashboardCache(size=1)).week_report(workspace, week, lang))
