"""Incidents and partners as plain dicts (JSON output of the CLI, and later the web app)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sitrep.incidents.models import Incident, Partner


def _time(value: datetime | None, tz: ZoneInfo) -> str | None:
    return value.astimezone(tz).isoformat() if value else None


def partner_dict(partner: Partner) -> dict[str, Any]:
    """A partner of the directory."""
    return {
        "name": partner.name,
        "type": partner.type,
        "country": partner.country,
        "email": partner.email,
        "language": partner.language,
        "suffixes": list(partner.suffixes or []),
        "asns": list(partner.asns or []),
        "regions": list(partner.regions or []),
    }


def incident_summary(incident: Incident, tz: ZoneInfo) -> dict[str, Any]:
    """One line of ``incidents list``: the fields an analyst scans."""
    return {
        "ref": incident.ref,
        "title": incident.title,
        "category": incident.category,
        "status": incident.status,
        "grade": incident.grade,
        "tlp": incident.tlp,
        "cross_border": incident.cross_border,
        "reported_at": _time(incident.reported_at, tz),
        "resolved_at": _time(incident.resolved_at, tz),
    }


def incident_detail(incident: Incident, tz: ZoneInfo) -> dict[str, Any]:
    """Everything about one incident: assets, events, requests and the audit trail."""
    data = incident_summary(incident, tz)
    data.update(
        {
            "reported_via": incident.reported_via,
            "reporter": incident.reporter,
            "reporter_country": incident.reporter_country,
            "cross_border_override": incident.cross_border_override,
            "cross_border_reason": incident.cross_border_reason,
            "timestamps": {
                name: _time(getattr(incident, f"{name}_at"), tz)
                for name in (
                    "created",
                    "reported",
                    "triaged",
                    "coordinating",
                    "resolved",
                    "rejected",
                    "unresolved",
                    "updated",
                )
            },
            "assets": [{"kind": a.kind, "value": a.value, "country": a.country} for a in incident.assets],
            "events": [link.event_id for link in incident.events],
            "requests": [
                {
                    "partner": r.partner.name,
                    "partner_type": r.partner.type,
                    "partner_country": r.partner.country,
                    "sent_at": _time(r.sent_at, tz),
                    "acknowledged_at": _time(r.acknowledged_at, tz),
                    "actioned_at": _time(r.actioned_at, tz),
                    "verified_at": _time(r.verified_at, tz),
                    "outcome": r.outcome,
                }
                for r in incident.requests
            ],
            "audit": [
                {"at": _time(e.at, tz), "actor": e.actor, "field": e.field, "old": e.old, "new": e.new}
                for e in incident.audit
            ],
        }
    )
    return data
