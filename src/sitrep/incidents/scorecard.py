"""Partner scorecards: how partners answered coordination requests.  One definition, used by the weekly
numbers (``incidents stats``) and by ``partners scorecard``; only the requests they look at differ.

Each request is judged as of a moment (the end of the period):

- *sent*, *acknowledged*, *actioned*: that time is set and before the moment;
- *taken down*: outcome ``taken-down`` or ``fixed``; *refused*: outcome ``refused``;
- *no response*: outcome ``no-response``, or sent at least ``[incidents] no_response_hours`` before the
  moment and, by then, neither acknowledged nor given an outcome;
- hours to acknowledge: ``acknowledged_at − sent_at``; hours to take down: ``actioned_at − sent_at``
  of a taken-down or fixed request.

A row (per partner, and per partner type) counts its requests, takes the medians of those hours, and
gives the share of sent requests with no response (None when none was sent).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypedDict

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session, selectinload

from sitrep.incidents.models import CoordinationRequest
from sitrep.incidents.vocabulary import Outcome
from sitrep.taxonomy import PARTNER_ORDER


class _Counts(TypedDict):
    requests: int
    sent: int
    acknowledged: int
    actioned: int
    taken_down: int
    refused: int
    no_response: int
    no_response_share: float | None
    median_hours_to_acknowledge: float | None
    median_hours_to_takedown: float | None


class PartnerScore(_Counts):
    """One partner's row."""

    partner: str
    type: str
    country: str | None


class TypeScore(_Counts):
    """One partner type's row (all its partners' requests together)."""

    type: str
    partners: int


class Scorecard(TypedDict):
    """Rows per partner (in the report's type order, then by name) and per type, with totals."""

    partners: list[PartnerScore]
    types: list[TypeScore]
    requests: int
    sent: int
    acknowledged: int
    median_hours_to_acknowledge: float | None
    median_hours_to_takedown: float | None
    no_response: list[str]  # partners with at least one request that got no response


def hours(delta: timedelta) -> float:
    """A duration in hours."""
    return delta.total_seconds() / 3600


def median(values: list[float]) -> float | None:
    """The median to one decimal, None for no values."""
    return round(statistics.median(values), 1) if values else None


@dataclass
class _Tally:
    requests: int = 0
    sent: int = 0
    acknowledged: int = 0
    actioned: int = 0
    taken_down: int = 0
    refused: int = 0
    no_response: int = 0
    to_acknowledge: list[float] = field(default_factory=list)
    to_takedown: list[float] = field(default_factory=list)
    partners: set[int] = field(default_factory=set)

    def add(self, request: CoordinationRequest, as_of: datetime, silent_before: datetime) -> bool:
        """Count one request; return whether it got no response."""
        sent = request.sent_at is not None and request.sent_at < as_of
        acknowledged = request.acknowledged_at is not None and request.acknowledged_at < as_of
        outcome = Outcome(request.outcome) if request.outcome else None
        unanswered = outcome is Outcome.NO_RESPONSE or (
            sent
            and not acknowledged
            and outcome is None
            and request.sent_at is not None  # implied by sent; for the type checker
            and request.sent_at <= silent_before
        )
        self.requests += 1
        self.sent += sent
        self.acknowledged += acknowledged
        self.actioned += request.actioned_at is not None and request.actioned_at < as_of
        self.taken_down += bool(outcome and outcome.effective)
        self.refused += outcome is Outcome.REFUSED
        self.no_response += unanswered
        self.partners.add(request.partner_id)
        if acknowledged and request.acknowledged_at is not None and request.sent_at is not None:
            self.to_acknowledge.append(hours(request.acknowledged_at - request.sent_at))
        if outcome and outcome.effective and request.sent_at and request.actioned_at:
            self.to_takedown.append(hours(request.actioned_at - request.sent_at))
        return unanswered

    def counts(self) -> _Counts:
        return {
            "requests": self.requests,
            "sent": self.sent,
            "acknowledged": self.acknowledged,
            "actioned": self.actioned,
            "taken_down": self.taken_down,
            "refused": self.refused,
            "no_response": self.no_response,
            "no_response_share": round(self.no_response / self.sent, 3) if self.sent else None,
            "median_hours_to_acknowledge": median(self.to_acknowledge),
            "median_hours_to_takedown": median(self.to_takedown),
        }


def score(requests: Iterable[CoordinationRequest], *, as_of: datetime, no_response_hours: int) -> Scorecard:
    """The scorecard of ``requests`` (their partners loaded), judged as of ``as_of``."""
    silent_before = as_of - timedelta(hours=no_response_hours)
    by_partner: dict[int, _Tally] = {}
    by_type: dict[str, _Tally] = {}
    total = _Tally()
    partners = {}
    silent: set[str] = set()
    for request in requests:
        partner = request.partner
        partners[partner.id] = partner
        by_type.setdefault(partner.type, _Tally()).add(request, as_of, silent_before)
        total.add(request, as_of, silent_before)
        if by_partner.setdefault(partner.id, _Tally()).add(request, as_of, silent_before):
            silent.add(partner.name)
    order = {t.value: i for i, t in enumerate(PARTNER_ORDER)}
    partner_rows: list[PartnerScore] = [
        {"partner": partners[pid].name, "type": partners[pid].type, "country": partners[pid].country, **tally.counts()}
        for pid, tally in by_partner.items()
    ]
    partner_rows.sort(key=lambda r: (order.get(r["type"], len(order)), r["partner"]))
    type_rows: list[TypeScore] = [
        {"type": kind, "partners": len(tally.partners), **tally.counts()} for kind, tally in by_type.items()
    ]
    type_rows.sort(key=lambda r: order.get(r["type"], len(order)))
    return {
        "partners": partner_rows,
        "types": type_rows,
        "requests": total.requests,
        "sent": total.sent,
        "acknowledged": total.acknowledged,
        "median_hours_to_acknowledge": median(total.to_acknowledge),
        "median_hours_to_takedown": median(total.to_takedown),
        "no_response": sorted(silent),
    }


def _requests(session: Session, condition: ColumnElement[bool]) -> list[CoordinationRequest]:
    query = select(CoordinationRequest).where(condition).options(selectinload(CoordinationRequest.partner))
    return list(session.scalars(query.order_by(CoordinationRequest.id)))


def week_requests(
    session: Session, start: datetime, end: datetime, handled_ids: Iterable[int]
) -> list[CoordinationRequest]:
    """The week's coordination: requests sent in ``[start, end)`` or belonging to a handled incident."""
    sent_in_week = and_(CoordinationRequest.sent_at >= start, CoordinationRequest.sent_at < end)
    ids = list(handled_ids)
    return _requests(session, or_(sent_in_week, CoordinationRequest.incident_id.in_(ids)) if ids else sent_in_week)


def sent_requests(session: Session, start: datetime, end: datetime) -> list[CoordinationRequest]:
    """Requests sent in ``[start, end)``."""
    return _requests(session, and_(CoordinationRequest.sent_at >= start, CoordinationRequest.sent_at < end))
