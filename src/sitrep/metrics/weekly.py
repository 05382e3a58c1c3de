"""One week's numbers: the eight key indicators with last week's values, and the breakdowns.

:func:`compute` returns the documented, stable JSON structure of ``sitrep metrics --json``
(``docs/indicators.md``); :func:`evidence` returns the event IDs behind each indicator.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import ibis.expr.types as ir

from sitrep.config import Workspace
from sitrep.metrics import breakdowns, vulnerabilities
from sitrep.metrics.indicators import EVENT_INDICATORS, ORDER, Context
from sitrep.metrics.source import events_table, in_window
from sitrep.weeks import Week

SCHEMA = "sitrep.metrics/1"


def change_pct(value: int, previous: int) -> float | None:
    """``(this − last) / last × 100`` to one decimal; ``None`` when last week was 0."""
    if not previous:
        return None
    return round((value - previous) * 100.0 / previous, 1)


def indicator_values(events: ir.Table, ctx: Context, start: datetime, end: datetime) -> dict[str, int]:
    """The eight indicator values for ``[start, end)``: one aggregate pass plus the vulnerability count."""
    week = events.filter(in_window(events, start, end))
    aggregate = week.aggregate(
        **{i.key: i.distinct(week).nunique(where=i.where(week, ctx)) for i in EVENT_INDICATORS}
    )
    values = {k: int(v or 0) for k, v in aggregate.to_pyarrow().to_pylist()[0].items()}
    new = vulnerabilities.first_published(events, start, end)
    counts = new.aggregate(total=new.vkey.count(), high=new.high.sum()).to_pyarrow().to_pylist()[0]
    values["new_vulnerabilities"] = int(counts["total"] or 0)
    values["new_high_vulnerabilities"] = int(counts["high"] or 0)
    return values


def compute(
    workspace: Workspace, week: Week, *, events: ir.Table | None = None, top: int = 10
) -> dict[str, Any]:
    """Everything ``sitrep metrics`` reports for ``week`` (see ``docs/indicators.md`` for the schema)."""
    events = events if events is not None else events_table(workspace)
    ctx = Context.from_settings(workspace.settings)
    tz = workspace.timezone
    start, end = week.bounds(tz)
    previous_week = week - 1
    p_start, p_end = previous_week.bounds(tz)
    this = indicator_values(events, ctx, start, end)
    last = indicator_values(events, ctx, p_start, p_end)
    indicators = {
        key: {
            "value": this[key],
            "previous": last[key],
            "change_pct": change_pct(this[key], last[key]),
            "zh": zh,
            "en": en,
        }
        for key, zh, en in ORDER
    }
    current = events.filter(in_window(events, start, end))
    new_vulns = vulnerabilities.first_published(events, start, end)
    return {
        "schema": SCHEMA,
        "week": str(week),
        "start": week.monday.isoformat(),
        "end": week.sunday.isoformat(),
        "timezone": workspace.settings.organisation.timezone,
        "previous_week": str(previous_week),
        "indicators": indicators,
        "breakdowns": {
            "malware_families": breakdowns.malware_families(current, ctx, top),
            "regions": breakdowns.regions(current, ctx, top),
            "malware_hosting": breakdowns.malware_hosting(current, ctx),
            "websites": {
                "defaced_gov_pct": _share(this["defaced_gov_sites"], this["defaced_sites"]),
                "backdoored_gov_pct": _share(this["backdoored_gov_sites"], this["backdoored_sites"]),
            },
            "phishing": breakdowns.phishing_hosts(current, ctx),
            "vulnerabilities": breakdowns.vulnerabilities(new_vulns),
        },
    }


def _share(part: int, whole: int) -> float | None:
    return round(part * 100.0 / whole, 1) if whole else None


def evidence(workspace: Workspace, week: Week, *, events: ir.Table | None = None) -> dict[str, list[str]]:
    """For each indicator, the sorted IDs of the week's events behind its value."""
    events = events if events is not None else events_table(workspace)
    ctx = Context.from_settings(workspace.settings)
    start, end = week.bounds(workspace.timezone)
    current = events.filter(in_window(events, start, end))
    found: dict[str, list[str]] = {}
    for indicator in EVENT_INDICATORS:
        rows = current.filter(indicator.where(current, ctx))
        found[indicator.key] = _ids(rows)
    found["new_vulnerabilities"] = _ids(vulnerabilities.behind(events, start, end))
    found["new_high_vulnerabilities"] = _ids(vulnerabilities.behind(events, start, end, high_only=True))
    return found


def _ids(rows: ir.Table) -> list[str]:
    ids = rows.select("event_id").distinct().order_by("event_id")
    return [r["event_id"] for r in ids.to_pyarrow().to_pylist()]


def series(workspace: Workspace, last: Week, count: int = 8) -> list[dict[str, Any]]:
    """Indicator values for the ``count`` weeks ending with ``last``, oldest first (trend charts)."""
    events = events_table(workspace)
    ctx = Context.from_settings(workspace.settings)
    weeks = [last - i for i in range(count - 1, -1, -1)]
    return [{"week": str(w), **indicator_values(events, ctx, *w.bounds(workspace.timezone))} for w in weeks]
