"""One week's numbers: the eight key indicators with last week's values, and the breakdowns.

:func:`compute` returns them as a :class:`~sitrep.metrics.model.WeekMetrics`, whose JSON form is the
documented, stable structure of ``sitrep metrics --json`` (``docs/indicators.md``); :func:`evidence`
returns the event IDs behind each indicator.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir

from sitrep.config import Workspace
from sitrep.metrics import breakdowns, vulnerabilities
from sitrep.metrics.indicators import EVENT_INDICATORS, Context
from sitrep.metrics.model import Breakdowns, IndicatorValue, WebsiteShares, WeekMetrics
from sitrep.metrics.source import backend, events_table, in_window, local_table
from sitrep.taxonomy import INDICATORS
from sitrep.weeks import Week

SCHEMA = "sitrep.metrics/1"


def change_pct(value: int, previous: int | None) -> float | None:
    """``(this − last) / last × 100`` to one decimal; ``None`` when last week was 0 or there is no
    earlier data (``previous`` None)."""
    if not previous:
        return None
    return round((value - previous) * 100.0 / previous, 1)


def has_earlier_data(events: ir.Table, start: datetime) -> bool:
    """Does ``events`` hold any event before ``start``?  Without one, last week's values are not 0 but
    unknown (the first week of a lake)."""
    earlier = events.filter(events.time_source < start).limit(1)
    return bool(earlier.count().to_pyarrow().as_py())


def values_by_week(
    events: ir.Table, ctx: Context, weeks: list[Week], tz: ZoneInfo, *, new_vulnerabilities: ir.Table | None = None
) -> dict[str, dict[str, int]]:
    """The eight indicator values of each of ``weeks``, in one scan per indicator however many weeks.

    Each indicator contributes its ``(week, indicator, key)`` rows; one DISTINCT and one GROUP BY count
    them all.  (Six COUNT(DISTINCT … FILTER …) aggregates cost about twice as much on DuckDB.)
    ``new_vulnerabilities`` may pass :func:`vulnerabilities.first_published` for the whole span, already
    computed; by default it is computed here.
    """
    windows = [(str(w), *w.bounds(tz)) for w in weeks]
    start, end = windows[0][1], windows[-1][2]

    def bucket(column: ir.TimestampValue) -> ir.StringValue:
        return ibis.cases(*(((column >= s) & (column < e), name) for name, s, e in windows), else_=None)

    rows = events.filter(in_window(events, start, end))
    keyed = ibis.union(
        *(
            rows.filter(i.where(rows, ctx)).select(
                bucket=bucket(rows.time_source), indicator=ibis.literal(i.key), k=i.distinct(rows)
            )
            for i in EVENT_INDICATORS
        ),
        distinct=False,
    )
    counted = keyed.filter(keyed.k.notnull()).distinct().group_by(["bucket", "indicator"]).aggregate(n=ibis._.count())
    new = new_vulnerabilities
    if new is None:
        new = vulnerabilities.first_published(events, start, end)
    new = new.mutate(bucket=bucket(new["first"]))
    vulns = new.group_by("bucket").aggregate(
        new_vulnerabilities=new.vkey.count(), new_high_vulnerabilities=new.high.sum()
    )
    found: dict[str, dict[str, int]] = {name: {key: 0 for key, _, _ in INDICATORS} for name, _, _ in windows}
    for row in counted.to_pyarrow().to_pylist():
        if row["bucket"] is not None:
            found[row["bucket"]][row["indicator"]] = int(row["n"])
    for row in vulns.to_pyarrow().to_pylist():
        if row["bucket"] is not None:
            found[row.pop("bucket")].update({k: int(v or 0) for k, v in row.items()})
    return found


def compute(workspace: Workspace, week: Week, *, events: ir.Table | None = None, top: int = 10) -> WeekMetrics:
    """Everything ``sitrep metrics`` reports for ``week`` (see ``docs/indicators.md`` for the schema)."""
    ctx = Context.from_settings(workspace.settings)
    tz = workspace.timezone
    start, end = week.bounds(tz)
    previous_week = week - 1
    p_start = previous_week.bounds(tz)[0]
    if events is None:
        on = backend(workspace)
        history = events_table(workspace, on, end=end)  # first publications need all earlier records
        events = events_table(workspace, on, start=p_start, end=end)
    else:
        history = events
    # The new vulnerabilities of both weeks are few: fetch them once, reuse them for counts and breakdown.
    new_both = local_table(events, vulnerabilities.first_published(history, p_start, end).to_pyarrow())
    values = values_by_week(events, ctx, [previous_week, week], tz, new_vulnerabilities=new_both)
    this = values[str(week)]
    last: dict[str, int | None] = (
        dict(values[str(previous_week)]) if has_earlier_data(history, start) else dict.fromkeys(this)
    )
    indicators = {
        key: IndicatorValue(this[key], last[key], change_pct(this[key], last[key]), zh, en)
        for key, zh, en in INDICATORS
    }
    current = events.filter(in_window(events, start, end))
    new_vulns = new_both.filter((new_both["first"] >= start) & (new_both["first"] < end))
    return WeekMetrics(
        schema=SCHEMA,
        week=str(week),
        start=week.monday.isoformat(),
        end=week.sunday.isoformat(),
        timezone=workspace.settings.organisation.timezone,
        previous_week=str(previous_week),
        indicators=indicators,
        breakdowns=Breakdowns(
            malware_families=breakdowns.malware_families(current, ctx, top),
            regions=breakdowns.regions(current, ctx, top),
            malware_hosting=breakdowns.malware_hosting(current, ctx),
            websites=WebsiteShares(
                defaced_gov_pct=_share(this["defaced_gov_sites"], this["defaced_sites"]),
                backdoored_gov_pct=_share(this["backdoored_gov_sites"], this["backdoored_sites"]),
            ),
            phishing=breakdowns.phishing_hosts(current, ctx),
            vulnerabilities=breakdowns.vulnerabilities(new_vulns),
        ),
    )


def _share(part: int, whole: int) -> float | None:
    return round(part * 100.0 / whole, 1) if whole else None


# The numbers whose events :func:`behind` lists: the eight indicators and the malware-hosting breakdown.
BEHIND_KEYS = (*(key for key, _, _ in INDICATORS), "malware_hosting")
VULNERABILITY_KEYS = ("new_vulnerabilities", "new_high_vulnerabilities")


def _behind(events: ir.Table, ctx: Context, start: datetime, end: datetime, key: str) -> ir.Table:
    if key in VULNERABILITY_KEYS:
        return vulnerabilities.behind(events, start, end, high_only=key == "new_high_vulnerabilities")
    current = events.filter(in_window(events, start, end))
    if key == "malware_hosting":
        return current.filter(breakdowns.hosting(current))
    indicator = next(i for i in EVENT_INDICATORS if i.key == key)
    return current.filter(indicator.where(current, ctx))


def evidence(workspace: Workspace, week: Week, *, events: ir.Table | None = None) -> dict[str, list[str]]:
    """For each indicator, the sorted IDs of the week's events behind its value."""
    events = events if events is not None else events_table(workspace)
    ctx = Context.from_settings(workspace.settings)
    start, end = week.bounds(workspace.timezone)
    return {key: _ids(_behind(events, ctx, start, end, key)) for key, _, _ in INDICATORS}


def behind(workspace: Workspace, week: Week, key: str, *, on: ibis.BaseBackend | None = None) -> ir.Table:
    """The week's events behind the number ``key`` (one of :data:`BEHIND_KEYS`): for an indicator the
    rows :func:`evidence` lists, for ``malware_hosting`` the rows that breakdown counts.  Only the files
    that can hold them are read (all earlier ones for the vulnerabilities' first publication)."""
    if key not in BEHIND_KEYS:
        raise ValueError(f"no number {key!r}; the numbers are {', '.join(BEHIND_KEYS)}")
    start, end = week.bounds(workspace.timezone)
    history = key in VULNERABILITY_KEYS
    events = events_table(workspace, on, start=None if history else start, end=end)
    return _behind(events, Context.from_settings(workspace.settings), start, end, key)


def _ids(rows: ir.Table) -> list[str]:
    ids = rows.select("event_id").distinct().order_by("event_id")
    return [r["event_id"] for r in ids.to_pyarrow().to_pylist()]
