"""How fast outside parties acted: the median time from a coordination request to the takedown, by
partner type, in a week against the weeks before it (the report's partner-response figure).

A request counts in the week its partner acted (``actioned_at``) when its outcome is effective
(``taken-down`` or ``fixed``) and it was sent; its time is ``actioned_at − sent_at``, as the scorecard's
hours to take down (:mod:`sitrep.incidents.scorecard`).  Only requests of incidents whose TLP label is
among ``labels`` count (the public-data policy's ``counts``: RED data feeds no public number).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from sitrep.incidents.models import CoordinationRequest, Incident, Partner
from sitrep.incidents.response_model import PartnerResponse, TypeResponse
from sitrep.incidents.scorecard import hours, median
from sitrep.incidents.vocabulary import Outcome
from sitrep.taxonomy import PARTNER_ORDER
from sitrep.weeks import Week

EFFECTIVE = tuple(o.value for o in Outcome if o.effective)


def _acted(
    session: Session, start: datetime, end: datetime, labels: Sequence[str]
) -> list[tuple[str, datetime, float]]:
    """(partner type, acted at, hours) of the effective requests acted on in ``[start, end)``."""
    labelled = or_(Incident.tlp.is_(None), func.upper(Incident.tlp).in_(list(labels)))
    query = (
        select(Partner.type, CoordinationRequest.sent_at, CoordinationRequest.actioned_at)
        .join(CoordinationRequest.partner)
        .join(CoordinationRequest.incident)
        .where(
            CoordinationRequest.outcome.in_(EFFECTIVE),
            CoordinationRequest.sent_at.is_not(None),
            CoordinationRequest.actioned_at >= start,
            CoordinationRequest.actioned_at < end,
            labelled,
        )
    )
    return [
        (kind, acted, hours(acted - sent))
        for kind, sent, acted in session.execute(query)
        # Never NULL here (the conditions above).  A request acted on before it was sent is a data error, not a speed.
        if sent is not None and acted is not None and acted >= sent
    ]


def partner_response(
    session: Session, week: Week, tz: ZoneInfo, *, labels: Sequence[str], previous_weeks: int = 8
) -> PartnerResponse:
    """The partner-response figure of ``week`` against the ``previous_weeks`` weeks before it."""
    start, end = week.bounds(tz)
    first, _ = (week - previous_weeks).bounds(tz)
    acted = _acted(session, first, end, labels)
    this = [(kind, h) for kind, at, h in acted if at >= start]
    before = [(kind, h) for kind, at, h in acted if at < start]
    order = [t.value for t in PARTNER_ORDER]
    kinds = sorted({kind for kind, _ in this + before}, key=lambda k: (order.index(k) if k in order else len(order), k))

    def of(rows: list[tuple[str, float]], kind: str) -> list[float]:
        return [h for k, h in rows if k == kind]

    return PartnerResponse(
        previous_weeks=previous_weeks,
        taken_down=len(this),
        median_hours=median([h for _, h in this]),
        previous_taken_down=len(before),
        previous_median_hours=median([h for _, h in before]),
        by_type=tuple(
            TypeResponse(
                type=kind,
                taken_down=len(of(this, kind)),
                median_hours=median(of(this, kind)),
                previous_taken_down=len(of(before, kind)),
                previous_median_hours=median(of(before, kind)),
            )
            for kind in kinds
        ),
    )
