"""Is a week ready to be published?  ``sitrep check`` and the first step of ``sitrep publish``.

The check looks at what the report would be built from and says what looks wrong, as *errors* (the
week cannot be published as it is) and *warnings* (worth a look, publishing goes ahead):

- the week itself: one that has not started is an error; one that has not ended is a warning here
  (its numbers are not final — ``publish`` refuses it unless forced);
- no data at all (no event in the lake and no incident handled in the week) is an error;
- every feed seen this week or in the previous weeks, with its rows per week: a feed seen before but
  silent this week is a warning (a source went missing), and so is one whose rows moved more than
  :data:`MOVE_FACTOR` times against its median of the previous weeks;
- every source of ``[[sources]]`` (``sitrep collect``) with the files it delivered in the week: one
  that delivered no file is a warning (it stayed silent), and so is one whose files failed;
- every key indicator against last week: one that fell to 0, or moved more than :data:`MOVE_FACTOR`
  times (a rise from 0 included), is a warning;
- files in ``reports/published/`` that are not issues (they are ignored) are warnings.

"The previous weeks" are the rating's baseline weeks (``[rating] baseline_weeks``) that lie inside the
lake's history.  Feeds are counted by ``feed.name`` over events whose source time is in the week — the
same events the indicators count.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import ibis
from sqlalchemy.orm import Session

from sitrep.collect.records import Delivered, delivered_between
from sitrep.config import Workspace, settings_key
from sitrep.incidents.db import open_store
from sitrep.incidents.stats import handled_incidents
from sitrep.lake.store import Lake
from sitrep.memo import Memo
from sitrep.metrics.indicators import Context
from sitrep.metrics.source import backend, events_table, in_window
from sitrep.metrics.weekly import values_by_week
from sitrep.report.archive import archive
from sitrep.report.check_model import CheckResult, FeedRows, Finding, IndicatorMove, SourceDelivery, WeekState
from sitrep.report.facts import history_start
from sitrep.taxonomy import INDICATORS
from sitrep.weeks import Week

# A count that moves by more than this factor (up or down) against its reference is flagged.
MOVE_FACTOR = 3.0
UNNAMED_FEED = "(no feed name)"

_EN_LABEL = {key: en for key, _, en in INDICATORS}


def _moved(value: float, reference: float) -> float | None:
    """The factor by which ``value`` moved against ``reference`` when it is more than MOVE_FACTOR."""
    if reference <= 0 or value <= 0:
        return None
    factor = max(value / reference, reference / value)
    return factor if factor > MOVE_FACTOR else None


def _feed_rows(workspace: Workspace, on: ibis.BaseBackend, weeks: list[Week]) -> list[FeedRows]:
    """Rows per feed in each of ``weeks`` (the last is the checked week), busiest feed first."""
    tz = workspace.timezone
    windows = [(str(w), *w.bounds(tz)) for w in weeks]
    lo, hi = windows[0][1], windows[-1][2]
    events = events_table(workspace, on, start=lo, end=hi)
    rows = events.filter(in_window(events, lo, hi))
    bucket = ibis.cases(*(((rows.time_source >= s) & (rows.time_source < e), name) for name, s, e in windows))
    keyed = rows.mutate(bucket=bucket)
    counted = keyed.group_by(["feed_name", "bucket"]).aggregate(n=keyed.count(), provider=keyed.feed_provider.max())
    per_feed: dict[str, dict[str, Any]] = {}
    for row in counted.to_pyarrow().to_pylist():
        name = row["feed_name"] or UNNAMED_FEED
        entry = per_feed.setdefault(name, {"provider": None, "weeks": {}})
        entry["provider"] = entry["provider"] or row["provider"]
        entry["weeks"][row["bucket"]] = int(row["n"])
    found = []
    for name, entry in per_feed.items():
        counts = [entry["weeks"].get(label, 0) for label, _, _ in windows]
        previous = counts[:-1]
        median = round(float(statistics.median(previous)), 1) if previous else None
        found.append(FeedRows(name, entry["provider"], counts[-1], previous, median))
    return sorted(found, key=lambda f: (-f.rows, f.feed))


def _week_findings(week: Week, state: WeekState, workspace: Workspace) -> list[Finding]:
    zone = workspace.settings.organisation.timezone
    span = f"{week.monday} – {week.sunday} ({zone})"
    if state == "future":
        return [Finding("error", "future", f"{week} has not started yet (it runs {span}): there is nothing to report")]
    if state == "open":
        return [Finding("warning", "open", f"{week} has not ended (it runs {span}): its numbers are not final")]
    return []


def _feed_findings(feeds: list[FeedRows], weeks: int) -> list[Finding]:
    findings = []
    for f in feeds:
        seen = sum(1 for n in f.previous if n)
        if not f.rows and seen:
            findings.append(
                Finding(
                    "warning",
                    "feed_missing",
                    f"feed {f.feed}: no rows this week, though seen in {seen} of the previous {weeks} weeks "
                    f"(median {f.median:,g} rows)",
                    f.feed,
                )
            )
        elif f.rows and f.median and (factor := _moved(f.rows, f.median)):
            direction = "more" if f.rows > f.median else "fewer"
            findings.append(
                Finding(
                    "warning",
                    "feed_moved",
                    f"feed {f.feed}: {f.rows:,} rows this week, {factor:.1f}× {direction} than its median of "
                    f"{f.median:,g} over the previous {weeks} weeks",
                    f.feed,
                )
            )
    return findings


def _source_deliveries(workspace: Workspace, session: Session, start: datetime, end: datetime) -> list[SourceDelivery]:
    """What each configured source delivered in the week (collected in it)."""
    found = delivered_between(session, start, end)
    nothing = Delivered(0, 0, 0, None)
    return [
        SourceDelivery(
            s.name,
            s.kind,
            (d := found.get(s.name, nothing)).files,
            d.failed,
            d.accepted,
            d.last.isoformat(timespec="seconds") if d.last else None,
        )
        for s in workspace.settings.sources
    ]


def _source_findings(sources: list[SourceDelivery]) -> list[Finding]:
    findings = []
    for s in sources:
        if not s.files:
            failed = f" ({s.failed} failed: see its failed/ folder)" if s.failed else ""
            findings.append(
                Finding("warning", "source_silent", f"source {s.source}: no file ingested this week{failed}", s.source)
            )
        elif s.failed:
            findings.append(
                Finding(
                    "warning",
                    "source_failed",
                    f"source {s.source}: {s.failed} file{'s' * (s.failed != 1)} failed this week",
                    s.source,
                )
            )
    return findings


def _indicator_findings(moves: list[IndicatorMove]) -> list[Finding]:
    findings = []
    for m in moves:
        if m.previous is None:
            continue
        name = f"indicator {m.key}"
        if m.previous and not m.value:
            findings.append(Finding("warning", "indicator_zero", f"{name} fell to 0 (last week {m.previous:,})", m.key))
        elif m.value and not m.previous:
            findings.append(
                Finding("warning", "indicator_moved", f"{name} rose from 0 last week to {m.value:,}", m.key)
            )
        elif factor := _moved(m.value, m.previous):
            direction = "up" if m.value > m.previous else "down"
            findings.append(
                Finding(
                    "warning",
                    "indicator_moved",
                    f"{name} moved {factor:.1f}× {direction} against last week ({m.previous:,} → {m.value:,})",
                    m.key,
                )
            )
    return findings


def _stray_findings(workspace: Workspace) -> list[Finding]:
    return [
        Finding("warning", "stray_issue_file", f"{s.path}: {s.problem}; ignored", str(s.path))
        for s in archive(workspace).strays
    ]


def week_state(workspace: Workspace, week: Week, now: datetime | None = None) -> WeekState:
    """Whether ``week`` is ``future`` (not started), ``open`` (not ended) or ``ended`` at ``now``."""
    moment = now or datetime.now(UTC)
    start, end = week.bounds(workspace.timezone)
    return "future" if start > moment else "open" if end > moment else "ended"


@dataclass(frozen=True)
class _LakePart:
    """What the check reads from the lake: the history's first week, the feeds' rows of the week and
    the baseline weeks before it, and the indicator moves against last week."""

    first: Week | None
    previous: tuple[Week, ...]
    feeds: tuple[FeedRows, ...]
    moves: tuple[IndicatorMove, ...]


# By the lake's commit state, as the report's event facts (:mod:`sitrep.report.facts`).
_LAKE_PARTS: Memo[_LakePart] = Memo(size=8)


def _lake_part(workspace: Workspace, week: Week) -> _LakePart:
    key = (str(workspace.lake_dir), Lake.of(workspace).commit_state(), settings_key(workspace), str(week))
    return _LAKE_PARTS.get(key, lambda: _computed_lake_part(workspace, week))


def _computed_lake_part(workspace: Workspace, week: Week) -> _LakePart:
    tz = workspace.timezone
    end = week.bounds(tz)[1]
    on = backend(workspace)  # one connection for every query of the check
    first = history_start(events_table(workspace, on), workspace)
    depth = workspace.settings.rating.baseline_weeks
    previous = [week - i for i in range(depth, 0, -1) if first is not None and week - i >= first]
    feeds = _feed_rows(workspace, on, [*previous, week])
    in_history = first is not None and week - 1 >= first
    # The indicator values only (no breakdowns): one scan of this week and last, with the earlier
    # records the new vulnerabilities' first publication needs.
    values = values_by_week(
        events_table(workspace, on, end=end), Context.from_settings(workspace.settings), [week - 1, week], tz
    )
    this, last = values[str(week)], values[str(week - 1)]
    moves = [
        IndicatorMove(key, _EN_LABEL[key], this[key], last[key] if in_history else None) for key, _, _ in INDICATORS
    ]
    return _LakePart(first, tuple(previous), tuple(feeds), tuple(moves))


def check_week(workspace: Workspace, week: Week, *, now: datetime | None = None) -> CheckResult:
    """Check ``week`` before it is published (see the module docstring for the rules)."""
    start, end = week.bounds(workspace.timezone)
    state = week_state(workspace, week, now)
    lake = _lake_part(workspace, week)
    first, previous, feeds, moves = lake.first, list(lake.previous), list(lake.feeds), list(lake.moves)
    with open_store(workspace).read() as session:
        handled = len(handled_incidents(session, start, end))
        sources = _source_deliveries(workspace, session, start, end)
    events = sum(f.rows for f in feeds)
    findings = _week_findings(week, state, workspace)
    if state != "future":
        if not events and not handled:
            findings.append(
                Finding(
                    "error",
                    "no_data",
                    f"no event in the lake and no incident handled in {week}: nothing to report "
                    "(were the week's feeds ingested?)",
                )
            )
        findings += _feed_findings(feeds, len(previous))
        findings += _source_findings(sources)
        findings += _indicator_findings(moves)
    findings += _stray_findings(workspace)
    return CheckResult(
        week=str(week),
        start=week.monday.isoformat(),
        end=week.sunday.isoformat(),
        timezone=workspace.settings.organisation.timezone,
        state=state,
        history_start=str(first) if first else None,
        previous_weeks=[str(w) for w in previous],
        events=events,
        incidents_handled=handled,
        feeds=feeds,
        sources=sources,
        indicators=moves,
        findings=findings,
    )
