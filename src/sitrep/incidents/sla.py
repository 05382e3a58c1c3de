"""Service levels of coordination requests: when a partner should have acted, and which requests are
overdue.

A request is due ``[incidents.sla_hours]`` of its partner's type after it was sent (two days for a
registrar's takedown by default); the due date is fixed when the request is sent, or set by hand, so a
later change of the table does not move promises already made.  A request is **overdue** while its
incident is open, its due date has passed and the partner has neither acted nor been given an
outcome.  ``incidents overdue``, the reminders of ``notify`` and ``partners show`` all use
:func:`overdue_condition`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_

from sitrep.config import DEFAULT_SLA_HOURS, IncidentRules
from sitrep.incidents.models import CoordinationRequest, Incident
from sitrep.incidents.vocabulary import OPEN_STATUSES
from sitrep.taxonomy import PartnerType


@dataclass(frozen=True)
class Sla:
    """Hours each partner type has to act on a request, from ``[incidents.sla_hours]``."""

    hours: Mapping[str, int]

    @classmethod
    def of(cls, rules: IncidentRules) -> Sla:
        return cls({kind.value: hours for kind, hours in rules.sla_hours.items()})

    @classmethod
    def default(cls) -> Sla:
        """The built-in table (for callers without a workspace, such as the demo)."""
        return cls({kind.value: hours for kind, hours in DEFAULT_SLA_HOURS.items()})

    def due(self, partner_type: str, sent_at: datetime) -> datetime:
        """When a request of ``partner_type`` sent at ``sent_at`` should have been acted on."""
        return sent_at + timedelta(hours=self.hours.get(partner_type, DEFAULT_SLA_HOURS[PartnerType.OTHER]))


def overdue_condition(now: datetime) -> Any:
    """SQL condition on requests joined to their incident: overdue at ``now`` (see module docstring)."""
    return and_(
        CoordinationRequest.due_at.is_not(None),
        CoordinationRequest.due_at < now,
        CoordinationRequest.actioned_at.is_(None),
        CoordinationRequest.outcome.is_(None),
        Incident.status.in_([s.value for s in OPEN_STATUSES]),
    )


def is_overdue(request: CoordinationRequest, now: datetime) -> bool:
    """:func:`overdue_condition` for one loaded request (the same rule, in Python)."""
    return (
        request.due_at is not None
        and request.due_at < now
        and request.actioned_at is None
        and request.outcome is None
        and request.incident.status in {s.value for s in OPEN_STATUSES}
    )
