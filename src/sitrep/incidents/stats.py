"""The weekly handling numbers of DESIGN.md §3.5 and §5, plus breakdowns and a partner scorecard.

*Handled in the week* means status resolved with ``resolved_at`` in ``[start, end)`` of the ISO week
in the workspace time zone (:meth:`sitrep.weeks.Week.bounds`).  Every number is computed from those
incidents:

- ``handled``: how many; ``cross_border``: how many are cross-border; ``phishing``: how many are
  phishing;
- ``mobile_malware_urls``: distinct URL assets of the mobile-malware incidents;
- ``mobile_malware_platforms``: distinct app-store partners those incidents were coordinated with;
- ``partner_types``: the partner types involved, in the canonical order of ``taxonomy.PARTNER_ORDER``.

The scorecard covers the week's coordination: requests sent in the week or belonging to an incident
handled in the week.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from sitrep.incidents.models import CoordinationRequest, Incident
from sitrep.incidents.vocabulary import AssetKind, Outcome, Status
from sitrep.taxonomy import PARTNER_ORDER, IncidentCategory, PartnerType
from sitrep.weeks import Week


def _hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def handled_incidents(session: Session, start: datetime, end: datetime) -> list[Incident]:
    """Incidents resolved in ``[start, end)``, with assets and requests (and their partners) loaded."""
    query = (
        select(Incident)
        .where(
            Incident.status == Status.RESOLVED.value,
            Incident.resolved_at >= start,
            Incident.resolved_at < end,
        )
        .options(
            selectinload(Incident.assets),
            selectinload(Incident.requests).selectinload(CoordinationRequest.partner),
        )
        .order_by(Incident.resolved_at, Incident.ref)
    )
    return list(session.scalars(query))


def _scorecard(
    session: Session, start: datetime, end: datetime, handled_ids: set[int], no_response_hours: int
) -> dict[str, Any]:
    query = (
        select(CoordinationRequest)
        .where(
            or_(
                and_(CoordinationRequest.sent_at >= start, CoordinationRequest.sent_at < end),
                CoordinationRequest.incident_id.in_(handled_ids or {-1}),
            )
        )
        .options(selectinload(CoordinationRequest.partner))
    )
    rows: dict[int, dict[str, Any]] = {}
    takedown_hours: dict[int, list[float]] = defaultdict(list)
    silent_cutoff = end - timedelta(hours=no_response_hours)
    silent: set[str] = set()
    for request in session.scalars(query):
        partner = request.partner
        row = rows.setdefault(
            partner.id,
            {
                "partner": partner.name,
                "type": partner.type,
                "country": partner.country,
                "requests": 0,
                "sent": 0,
                "acknowledged": 0,
                "actioned": 0,
                "taken_down": 0,
                "refused": 0,
                "no_response": 0,
                "median_hours_to_takedown": None,
            },
        )
        row["requests"] += 1
        sent = request.sent_at is not None and request.sent_at < end
        acknowledged = request.acknowledged_at is not None and request.acknowledged_at < end
        row["sent"] += sent
        row["acknowledged"] += acknowledged
        row["actioned"] += request.actioned_at is not None and request.actioned_at < end
        outcome = Outcome(request.outcome) if request.outcome else None
        row["taken_down"] += bool(outcome and outcome.effective)
        row["refused"] += outcome is Outcome.REFUSED
        unanswered = outcome is Outcome.NO_RESPONSE or (
            sent and not acknowledged and outcome is None and request.sent_at <= silent_cutoff
        )
        row["no_response"] += unanswered
        if unanswered:
            silent.add(partner.name)
        if outcome and outcome.effective and request.sent_at and request.actioned_at:
            takedown_hours[partner.id].append(_hours(request.actioned_at - request.sent_at))
    for partner_id, hours in takedown_hours.items():
        rows[partner_id]["median_hours_to_takedown"] = _median(hours)
    order = {t.value: i for i, t in enumerate(PARTNER_ORDER)}
    partners = sorted(rows.values(), key=lambda r: (order.get(r["type"], 99), r["partner"]))
    all_hours = [h for hours in takedown_hours.values() for h in hours]
    return {
        "partners": partners,
        "requests": sum(r["requests"] for r in partners),
        "acknowledged": sum(r["acknowledged"] for r in partners),
        "median_hours_to_takedown": _median(all_hours),
        "no_response": sorted(silent),
    }


def weekly_stats(session: Session, week: Week, *, tz: ZoneInfo, no_response_hours: int = 72) -> dict[str, Any]:
    """The handling numbers of ``week`` as a JSON-ready dict (schema in ``docs/incidents.md``)."""
    start, end = week.bounds(tz)
    incidents = handled_incidents(session, start, end)
    mobile = [i for i in incidents if i.category == IncidentCategory.MOBILE_MALWARE.value]
    mobile_urls = {a.value for i in mobile for a in i.assets if a.kind == AssetKind.URL.value}
    platforms = {r.partner.id for i in mobile for r in i.requests if r.partner.type == PartnerType.APP_STORE.value}
    by_category = {c.value: 0 for c in IncidentCategory}
    by_partner_type = {t.value: 0 for t in PARTNER_ORDER}
    for incident in incidents:
        by_category[incident.category] = by_category.get(incident.category, 0) + 1
        for kind in {r.partner.type for r in incident.requests}:
            by_partner_type[kind] = by_partner_type.get(kind, 0) + 1
    resolve_hours = [
        _hours(i.resolved_at - i.reported_at)
        for i in incidents
        if i.reported_at is not None and i.resolved_at is not None
    ]
    return {
        "week": str(week),
        "start": start.astimezone(tz).isoformat(),
        "end": end.astimezone(tz).isoformat(),
        "handled": len(incidents),
        "cross_border": sum(1 for i in incidents if i.cross_border),
        "phishing": by_category[IncidentCategory.PHISHING.value],
        "mobile_malware_urls": len(mobile_urls),
        "mobile_malware_platforms": len(platforms),
        "partner_types": [t.value for t in PARTNER_ORDER if by_partner_type[t.value]],
        "by_category": by_category,
        "by_partner_type": by_partner_type,
        "median_hours_to_resolve": _median(resolve_hours),
        "scorecard": _scorecard(session, start, end, {i.id for i in incidents}, no_response_hours),
        "incidents": [i.ref for i in incidents],
    }
