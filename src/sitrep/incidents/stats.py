"""The weekly handling numbers of DESIGN.md §3.5 and §5, each with the refs behind it, plus breakdowns
and a partner scorecard.

*Handled in the week* means status resolved with ``resolved_at`` in ``[start, end)`` of the ISO week
in the workspace time zone (:meth:`sitrep.weeks.Week.bounds`).  Every number is computed from those
incidents, and :func:`handling_numbers` returns each one together with the incidents it counts, so the
report's numbers and their evidence cannot disagree:

- ``handled``: how many; ``cross_border``: how many are cross-border; ``phishing``: how many are
  phishing;
- ``mobile_malware_urls``: distinct URL assets of the mobile-malware incidents (the refs: those
  incidents with a URL asset);
- ``mobile_malware_platforms``: distinct app-store partners those incidents were coordinated with
  (the refs: those incidents with an app-store request);
- ``partner_types``: the partner types involved, in the canonical order of ``taxonomy.PARTNER_ORDER``.

The scorecard (:mod:`sitrep.incidents.scorecard`) covers the week's coordination: requests sent in the
week or belonging to an incident handled in the week.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from sitrep.incidents.models import CoordinationRequest, Incident
from sitrep.incidents.scorecard import Scorecard, hours, median, score, week_requests
from sitrep.incidents.vocabulary import AssetKind, Status
from sitrep.results import Counted
from sitrep.taxonomy import PARTNER_ORDER, IncidentCategory, PartnerType
from sitrep.weeks import Week


@dataclass(frozen=True)
class HandlingNumbers:
    """The week's incident numbers, each with its refs."""

    week: Week
    start: datetime
    end: datetime
    handled: Counted
    cross_border: Counted
    phishing: Counted
    mobile_malware_urls: Counted
    mobile_malware_platforms: Counted
    by_category: dict[str, Counted]
    by_partner_type: dict[str, Counted]
    median_hours_to_resolve: float | None
    tlp: dict[str, str]  # ref → TLP label of every handled incident
    handled_ids: tuple[int, ...]

    @property
    def partner_types(self) -> list[str]:
        """The partner types involved, in the canonical order."""
        return [kind for kind, counted in self.by_partner_type.items() if counted.value]

    def headline(self) -> dict[str, Counted]:
        """The five numbers of section 5, in report order."""
        return {
            "handled": self.handled,
            "cross_border": self.cross_border,
            "phishing": self.phishing,
            "mobile_malware_urls": self.mobile_malware_urls,
            "mobile_malware_platforms": self.mobile_malware_platforms,
        }


def handled_incidents(
    session: Session, start: datetime, end: datetime, *, labels: Sequence[str] | None = None
) -> list[Incident]:
    """Incidents resolved in ``[start, end)``, with assets and requests (and their partners) loaded;
    with ``labels``, only those whose TLP label is among them (the public report's numbers)."""
    conditions = [
        Incident.status == Status.RESOLVED.value,
        Incident.resolved_at >= start,
        Incident.resolved_at < end,
    ]
    if labels is not None:
        conditions.append(func.upper(Incident.tlp).in_(list(labels)))
    query = (
        select(Incident)
        .where(*conditions)
        .options(
            selectinload(Incident.assets),
            selectinload(Incident.requests).selectinload(CoordinationRequest.partner),
        )
        .order_by(Incident.resolved_at, Incident.ref)
    )
    return list(session.scalars(query))


def _counted(incidents: list[Incident], value: int | None = None) -> Counted:
    refs = tuple(i.ref for i in incidents)
    return Counted(len(refs) if value is None else value, refs)


def handling_numbers(
    session: Session, week: Week, tz: ZoneInfo, *, labels: Sequence[str] | None = None
) -> HandlingNumbers:
    """The numbers of ``week`` and the incidents behind each (see the module docstring); with
    ``labels``, of the incidents whose TLP label is among them only."""
    start, end = week.bounds(tz)
    incidents = handled_incidents(session, start, end, labels=labels)
    mobile = [i for i in incidents if i.category == IncidentCategory.MOBILE_MALWARE.value]
    with_urls = [i for i in mobile if any(a.kind == AssetKind.URL.value for a in i.assets)]
    with_stores = [i for i in mobile if any(r.partner.type == PartnerType.APP_STORE.value for r in i.requests)]
    urls = {a.value for i in with_urls for a in i.assets if a.kind == AssetKind.URL.value}
    stores = {r.partner.id for i in with_stores for r in i.requests if r.partner.type == PartnerType.APP_STORE.value}
    categories = [c.value for c in IncidentCategory]
    categories += sorted({i.category for i in incidents} - set(categories))
    kinds = [t.value for t in PARTNER_ORDER]
    resolve_hours = [
        hours(i.resolved_at - i.reported_at) for i in incidents if i.reported_at is not None and i.resolved_at
    ]
    return HandlingNumbers(
        week=week,
        start=start,
        end=end,
        handled=_counted(incidents),
        cross_border=_counted([i for i in incidents if i.cross_border]),
        phishing=_counted([i for i in incidents if i.category == IncidentCategory.PHISHING.value]),
        mobile_malware_urls=_counted(with_urls, len(urls)),
        mobile_malware_platforms=_counted(with_stores, len(stores)),
        by_category={c: _counted([i for i in incidents if i.category == c]) for c in categories},
        by_partner_type={
            t: _counted([i for i in incidents if any(r.partner.type == t for r in i.requests)]) for t in kinds
        },
        median_hours_to_resolve=median(resolve_hours),
        tlp={i.ref: i.tlp for i in incidents},
        handled_ids=tuple(i.id for i in incidents),
    )


class WeeklyStats(TypedDict):
    """``sitrep incidents stats --json`` (schema in ``docs/incidents.md``)."""

    week: str
    start: str
    end: str
    handled: int
    cross_border: int
    phishing: int
    mobile_malware_urls: int
    mobile_malware_platforms: int
    partner_types: list[str]
    by_category: dict[str, int]
    by_partner_type: dict[str, int]
    median_hours_to_resolve: float | None
    scorecard: Scorecard
    incidents: list[str]


def weekly_stats(session: Session, week: Week, *, tz: ZoneInfo, no_response_hours: int = 72) -> WeeklyStats:
    """The handling numbers of ``week``, the breakdowns and the week's scorecard."""
    numbers = handling_numbers(session, week, tz)
    requests = week_requests(session, numbers.start, numbers.end, numbers.handled_ids)
    return {
        "week": str(week),
        "start": numbers.start.astimezone(tz).isoformat(),
        "end": numbers.end.astimezone(tz).isoformat(),
        "handled": numbers.handled.value,
        "cross_border": numbers.cross_border.value,
        "phishing": numbers.phishing.value,
        "mobile_malware_urls": numbers.mobile_malware_urls.value,
        "mobile_malware_platforms": numbers.mobile_malware_platforms.value,
        "partner_types": numbers.partner_types,
        "by_category": {key: counted.value for key, counted in numbers.by_category.items()},
        "by_partner_type": {key: counted.value for key, counted in numbers.by_partner_type.items()},
        "median_hours_to_resolve": numbers.median_hours_to_resolve,
        "scorecard": score(requests, as_of=numbers.end, no_response_hours=no_response_hours),
        "incidents": list(numbers.handled.refs),
    }
