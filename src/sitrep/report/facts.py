"""The facts of one issue: every number the report prints and the IDs of the events and incidents
behind each, gathered from the lake and the incident store.

Facts are language-independent typed values (:mod:`sitrep.report.facts_model`), stored as JSON.
``sitrep publish`` freezes them (:mod:`sitrep.report.publish`) so that re-rendering a published week
prints the same numbers whatever was ingested or edited since.
They hold internal references (incident refs and their TLP); public outputs go through
:mod:`sitrep.report.render.json` and :mod:`sitrep.report.compose`, which redact restricted details.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import ibis.expr.types as ir
from sqlalchemy import and_, func, or_, select

from sitrep.config import PublicData, Workspace, settings_key
from sitrep.incidents.db import open_store
from sitrep.incidents.models import Incident
from sitrep.incidents.response import partner_response
from sitrep.incidents.stats import handling_numbers
from sitrep.incidents.vocabulary import Grade, Status
from sitrep.lake.store import Lake
from sitrep.memo import Memo
from sitrep.metrics import breakdowns, vulnerabilities
from sitrep.metrics.indicators import Context
from sitrep.metrics.model import SectorCount, VulnerabilityItem, WeekMetrics
from sitrep.metrics.source import events_table, in_window
from sitrep.metrics.weekly import compute, evidence, values_by_week
from sitrep.report.facts_model import Facts, IncidentFacts, SeriesWeek
from sitrep.report.rating import rate
from sitrep.taxonomy import IncidentCategory
from sitrep.weeks import Week

TREND_WEEKS = 8
MAJOR_GRADES = (Grade.MAJOR.value, Grade.ESPECIALLY_MAJOR.value)
# The vulnerability list of section 4: the highest-scored of the week's high-severity ones.
VULNERABILITY_LIST = 10
TOP_SECTORS = 10


def _week_of(moment: datetime | None, workspace: Workspace) -> Week | None:
    return None if moment is None else Week.of(moment.astimezone(workspace.timezone).date())


def history_start(events: ir.Table, workspace: Workspace) -> Week | None:
    """The week of the lake's earliest event (baselines never reach before it)."""
    first = events.aggregate(first=events.time_source.min()).to_pyarrow().to_pylist()[0]["first"]
    return _week_of(first, workspace)


def labelled(events: ir.Table, labels: Sequence[str]) -> ir.BooleanValue:
    """Events whose TLP label is among ``labels`` (unlabelled events count as CLEAR)."""
    return events.tlp.isnull() | events.tlp.upper().isin(list(labels))


def _public_names(
    events: ir.Table,
    value: Callable[[ir.Table], ir.StringValue],
    names: list[str],
    end: datetime,
    policy: PublicData,
) -> list[str]:
    """Those of ``names`` (malware families, regions, sectors, counted from ``events``) that data the
    policy's ``names`` allows carried up to ``end``: a name seen only in data it keeps names from is
    never printed; one also seen in data it allows is not a detail of the restricted data."""
    labels = policy.labels("names")
    if not names or set(labels) >= set(policy.labels("counts")):
        return sorted(names)  # counted from data whose names may all be printed: nothing to look up
    rows = events.filter((events.time_source < end) & labelled(events, labels))
    rows = rows.select(name=value(rows))
    found = rows.filter(rows.name.isin(names)).distinct().to_pyarrow().column(0).to_pylist()
    return sorted(found)


def _public_events(current: ir.Table, ids: dict[str, list[str]], labels: Sequence[str]) -> list[str]:
    """Those of the IDs behind the week's numbers that belong to events whose identifiers the policy lets
    a public output show; any other event ID is shown only as an opaque ID."""
    public = current.filter(labelled(current, labels))
    found = set(public.select("event_id").distinct().to_pyarrow().column(0).to_pylist())
    return sorted(found & set().union(*ids.values()))


def _hosting_events(current: ir.Table) -> list[str]:
    rows = current.filter(breakdowns.hosting(current))
    ids = rows.select("event_id").distinct().order_by("event_id")
    return ids.to_pyarrow().column(0).to_pylist()


@dataclass(frozen=True, slots=True)
class _EventPart:
    metrics: WeekMetrics
    evidence: dict[str, tuple[str, ...]]
    series: tuple[SeriesWeek, ...]
    history_start: str | None
    public_families: tuple[str, ...]
    public_events: tuple[str, ...]
    public_regions: tuple[str, ...]
    sectors: tuple[SectorCount, ...]
    public_sectors: tuple[str, ...]
    vulnerability_list: tuple[VulnerabilityItem, ...]


# The event part of the last few weeks asked for, by the lake's commit state (an ingest changes it):
# the web desk's dashboard and draft previews ask again and again, and a week of 2M events takes
# seconds.  Two weeks only: one holds the IDs behind every number (~150 MB at 2M events).
_EVENT_PARTS: Memo[_EventPart] = Memo(size=2)


def _event_part(workspace: Workspace, week: Week) -> _EventPart:
    """Indicators, breakdowns, the event IDs behind them, and the series for trend and baseline."""
    key = (str(workspace.lake_dir), Lake.of(workspace).commit_state(), settings_key(workspace), str(week))
    return _EVENT_PARTS.get(key, lambda: _computed_event_part(workspace, week))


def _computed_event_part(workspace: Workspace, week: Week) -> _EventPart:
    policy = workspace.settings.public
    everything = events_table(workspace)
    # Only data the public-data policy lets feed public numbers is counted at all (RED never is).
    events = everything.filter(labelled(everything, policy.labels("counts")))
    ctx = Context.from_settings(workspace.settings)
    start, end = week.bounds(workspace.timezone)
    metrics = compute(workspace, week, events=events)
    ids = evidence(workspace, week, events=events)
    current = events.filter(in_window(events, start, end))
    ids["malware_hosting"] = _hosting_events(current)
    first = history_start(events, workspace)
    depth = max(TREND_WEEKS - 1, workspace.settings.rating.baseline_weeks)
    weeks = [week - i for i in range(depth, 0, -1)] + [week]
    values = values_by_week(events, ctx, weeks, workspace.timezone)
    sectors = breakdowns.sectors(current, ctx, TOP_SECTORS)
    return _EventPart(
        metrics=metrics,
        evidence={key: tuple(found) for key, found in ids.items()},
        series=tuple(SeriesWeek(str(w), first is not None and w >= first, values[str(w)]) for w in weeks),
        history_start=str(first) if first else None,
        public_families=tuple(
            _public_names(
                events, lambda t: t.malware_name, [f.name for f in metrics.breakdowns.malware_families], end, policy
            )
        ),
        public_events=tuple(_public_events(current, ids, policy.labels("identifiers"))),
        public_regions=tuple(
            _public_names(events, lambda t: t.region, [r.code for r in metrics.breakdowns.regions], end, policy)
        ),
        sectors=sectors,
        public_sectors=tuple(_public_names(events, breakdowns.sector, [s.name for s in sectors], end, policy)),
        vulnerability_list=tuple(
            vulnerabilities.important(events, start, end, labels=policy.labels("identifiers"), top=VULNERABILITY_LIST)
        ),
    )


def _major_infrastructure(session: Any, start: datetime, end: datetime, labels: Sequence[str]) -> list[Incident]:
    """Major (重大/特别重大) infrastructure incidents reported or resolved in the week, not rejected, whose
    TLP label lets them feed public numbers (the rating's floor and the overview's sentence are public)."""
    reported = or_(
        and_(Incident.reported_at >= start, Incident.reported_at < end),
        and_(Incident.reported_at.is_(None), Incident.created_at >= start, Incident.created_at < end),
        and_(Incident.resolved_at >= start, Incident.resolved_at < end),
    )
    query = select(Incident).where(
        Incident.category == IncidentCategory.INFRASTRUCTURE.value,
        Incident.grade.in_(MAJOR_GRADES),
        Incident.status != Status.REJECTED.value,
        func.upper(Incident.tlp).in_(list(labels)),
        reported,
    )
    return list(session.scalars(query.order_by(Incident.ref)))


def incident_facts(workspace: Workspace, week: Week) -> IncidentFacts:
    """Section 5 numbers and the incidents behind each, both from
    :func:`sitrep.incidents.stats.handling_numbers`."""
    start, end = week.bounds(workspace.timezone)
    counts = workspace.settings.public.labels("counts")
    with open_store(workspace).read() as session:
        numbers = handling_numbers(session, week, workspace.timezone, labels=counts)
        majors = _major_infrastructure(session, start, end, counts)
        tlp: dict[str, str | None] = {**numbers.tlp, **{i.ref: i.tlp for i in majors}}
        response = partner_response(
            session, week, workspace.timezone, labels=counts, previous_weeks=workspace.settings.rating.baseline_weeks
        )
    return IncidentFacts(
        handled=numbers.handled,
        cross_border=numbers.cross_border,
        phishing=numbers.phishing,
        mobile_malware_urls=numbers.mobile_malware_urls,
        mobile_malware_platforms=numbers.mobile_malware_platforms,
        partner_types=tuple(numbers.partner_types),
        by_category=numbers.by_category,
        by_partner_type=numbers.by_partner_type,
        major_infrastructure=tuple(i.ref for i in majors),
        tlp=tlp,
        partner_response=response,
    )


def gather(workspace: Workspace, week: Week, *, now: datetime | None = None) -> Facts:
    """All facts of ``week``'s issue, rated (what :mod:`sitrep.report.publish` freezes)."""
    events = _event_part(workspace, week)
    incidents = incident_facts(workspace, week)
    this = {key: item.value for key, item in events.metrics.indicators.items()}
    history = [s.as_dict() for s in events.series[:-1] if s.in_history]
    rating = rate(this, history, workspace.settings.rating, major_infrastructure=list(incidents.major_infrastructure))
    return Facts(
        week=str(week),
        start=week.monday.isoformat(),
        end=week.sunday.isoformat(),
        computed_at=(now or datetime.now(UTC)).isoformat(timespec="seconds"),
        metrics=events.metrics,
        evidence=events.evidence,
        series=events.series,
        history_start=events.history_start,
        public_families=events.public_families,
        public_events=events.public_events,
        public_regions=events.public_regions,
        sectors=events.sectors,
        public_sectors=events.public_sectors,
        vulnerability_list=events.vulnerability_list,
        incidents=incidents,
        rating=rating,
    )
