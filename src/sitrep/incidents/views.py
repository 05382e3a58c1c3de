"""Incidents, requests and partners as typed, JSON-ready values: what the use cases return to the CLI
and the web desk (times in the workspace time zone, ISO 8601)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from zoneinfo import ZoneInfo

from typing_extensions import TypedDict  # pydantic reads these (API schemas) only from typing_extensions on 3.11

from sitrep.incidents.models import AuditEntry, Complaint, CoordinationRequest, Incident, Note, Partner
from sitrep.incidents.sla import is_overdue


def _time(value: datetime | None, tz: ZoneInfo) -> str | None:
    return value.astimezone(tz).isoformat() if value else None


class PartnerView(TypedDict):
    """A partner of the directory."""

    name: str
    type: str
    country: str | None
    email: str | None
    language: str
    suffixes: list[str]
    asns: list[int]
    regions: list[str]
    active: bool


class IncidentSummary(TypedDict):
    """One line of ``incidents list``: the fields an analyst scans."""

    ref: str
    title: str
    category: str
    status: str
    owner: str | None
    grade: str
    tlp: str
    cross_border: bool
    reported_at: str | None
    resolved_at: str | None


class ProposedView(IncidentSummary):
    """A new incident proposed from the lake's events, as the desk's proposals list shows it: its
    assets, the partners it has a request to (the routed one) and how many events are linked."""

    assets: list[str]
    partners: list[str]
    events: int


class RequestView(TypedDict):
    """A coordination request and how far it got."""

    partner: str
    partner_type: str
    partner_country: str | None
    sent_at: str | None
    acknowledged_at: str | None
    actioned_at: str | None
    verified_at: str | None
    outcome: str | None
    due_at: str | None
    reminded_at: str | None
    overdue: bool
    version: str  # changes with every change of this request (the API's ETag of the request)


class AuditView(TypedDict):
    """One audit entry: ``at`` is when the change took effect, ``entered_at`` when it was recorded."""

    at: str | None
    entered_at: str | None
    actor: str
    field: str
    old: str | None
    new: str | None


class NoteView(TypedDict):
    """A note on the incident's timeline."""

    at: str | None
    entered_at: str | None
    author: str
    text: str


class ComplaintView(TypedDict):
    """A complaint mail that proposed the incident or was attached to it; ``file`` is its ``.eml``
    (relative to the workspace), ``reply`` what became of the acknowledgement."""

    received_at: str | None
    source: str
    action: str
    reporter: str | None
    subject: str | None
    message_id: str | None
    file: str | None
    size: int
    sha256: str
    attachments: list[dict[str, str | int]]
    warnings: list[str]
    reply: str | None


class IncidentDetail(IncidentSummary):
    """Everything about one incident: assets, events, requests, complaint mails, notes and the audit
    trail."""

    reported_via: str
    reporter: str | None
    reporter_country: str | None
    cross_border_override: bool | None
    cross_border_reason: str | None
    timestamps: dict[str, str | None]
    assets: list[dict[str, str | None]]
    events: list[str]
    requests: list[RequestView]
    complaints: list[ComplaintView]
    notes: list[NoteView]
    audit: list[AuditView]
    version: str  # changes with every change and note (the API's ETag)


class OverdueView(TypedDict):
    """A request past its due date (``incidents overdue``)."""

    ref: str
    title: str
    status: str
    owner: str | None
    tlp: str
    partner: str
    partner_type: str
    sent_at: str | None
    due_at: str | None
    hours_overdue: float
    reminded_at: str | None


def partner_view(partner: Partner) -> PartnerView:
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
        "active": partner.active is not False,
    }


def incident_summary(incident: Incident, tz: ZoneInfo) -> IncidentSummary:
    """One line of ``incidents list``."""
    return {
        "ref": incident.ref,
        "title": incident.title,
        "category": incident.category,
        "status": incident.status,
        "owner": incident.owner,
        "grade": incident.grade,
        "tlp": incident.tlp,
        "cross_border": incident.cross_border,
        "reported_at": _time(incident.reported_at, tz),
        "resolved_at": _time(incident.resolved_at, tz),
    }


def proposed_view(incident: Incident, tz: ZoneInfo, events: int) -> ProposedView:
    """A proposed incident (its assets and requests loaded) with its count of linked ``events``."""
    return {
        **incident_summary(incident, tz),
        "assets": [a.value for a in incident.assets],
        "partners": [r.partner.name for r in incident.requests],
        "events": events,
    }


def request_view(request: CoordinationRequest, tz: ZoneInfo, *, overdue: bool) -> RequestView:
    """A request of an incident (``overdue`` as judged by :func:`sitrep.incidents.sla.is_overdue`)."""
    return {
        "partner": request.partner.name,
        "partner_type": request.partner.type,
        "partner_country": request.partner.country,
        "sent_at": _time(request.sent_at, tz),
        "acknowledged_at": _time(request.acknowledged_at, tz),
        "actioned_at": _time(request.actioned_at, tz),
        "verified_at": _time(request.verified_at, tz),
        "outcome": request.outcome,
        "due_at": _time(request.due_at, tz),
        "reminded_at": _time(request.reminded_at, tz),
        "overdue": overdue,
        "version": request_version(request),
    }


def request_version(request: CoordinationRequest) -> str:
    """A tag that changes whenever the request does: each change of it is an audit entry of the
    request (a note or another partner's request leaves it as it is)."""
    entries = [e.id for e in request.incident.audit if e.entity == "request" and e.entity_id == request.id]
    marks = (request.id, max(entries, default=0), len(entries))
    return hashlib.sha256(repr(marks).encode()).hexdigest()[:20]


def audit_view(entry: AuditEntry, tz: ZoneInfo) -> AuditView:
    """One audit entry."""
    return {
        "at": _time(entry.at, tz),
        "entered_at": _time(entry.entered_at, tz),
        "actor": entry.actor,
        "field": entry.field,
        "old": entry.old,
        "new": entry.new,
    }


def note_view(note: Note, tz: ZoneInfo) -> NoteView:
    """One note."""
    return {
        "at": _time(note.at, tz),
        "entered_at": _time(note.entered_at, tz),
        "author": note.author,
        "text": note.text,
    }


def complaint_view(complaint: Complaint, tz: ZoneInfo) -> ComplaintView:
    """One complaint mail of an incident."""
    return {
        "received_at": _time(complaint.received_at, tz),
        "source": complaint.source,
        "action": complaint.action,
        "reporter": complaint.reporter,
        "subject": complaint.subject,
        "message_id": complaint.message_id,
        "file": complaint.path,
        "size": complaint.size,
        "sha256": complaint.sha256,
        "attachments": list(complaint.attachments or []),
        "warnings": list(complaint.warnings or []),
        "reply": complaint.reply,
    }


def incident_detail(incident: Incident, tz: ZoneInfo, now: datetime) -> IncidentDetail:
    """Everything about one incident (requests judged overdue as of ``now``)."""
    summary = incident_summary(incident, tz)
    return {
        **summary,
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
        "requests": [request_view(r, tz, overdue=is_overdue(r, now)) for r in incident.requests],
        "complaints": [complaint_view(c, tz) for c in incident.complaints],
        "notes": [note_view(n, tz) for n in incident.notes],
        "audit": [audit_view(e, tz) for e in incident.audit],
        "version": version_of(incident),
    }


def version_of(incident: Incident) -> str:
    """A tag that changes whenever the incident does: every change is an audit entry, and notes are
    counted too (entries are only ever added, so their last id and count say it all)."""
    marks = (
        incident.id,
        max((e.id for e in incident.audit), default=0),
        len(incident.audit),
        max((n.id for n in incident.notes), default=0),
        len(incident.notes),
    )
    return hashlib.sha256(repr(marks).encode()).hexdigest()[:20]


class TimelineEntry(TypedDict):
    """One line of an incident's timeline: a change of the audit trail or a note."""

    at: str | None
    entered_at: str | None
    back_dated: bool  # entered later than it took effect (by more than a minute)
    actor: str
    text: str


def _minutes(stamp: str | None) -> str:
    return (stamp or "")[:16]


def timeline(detail: IncidentDetail) -> list[TimelineEntry]:
    """The audit trail and the notes of an incident, in the order they took effect."""
    entries: list[TimelineEntry] = [
        {
            "at": e["at"],
            "entered_at": e["entered_at"],
            "back_dated": _minutes(e["entered_at"]) > _minutes(e["at"]),
            "actor": e["actor"],
            "text": f"{e['field']}: {e['old'] or ''} → {e['new'] or ''}",
        }
        for e in detail["audit"]
    ]
    entries += [
        {
            "at": n["at"],
            "entered_at": n["entered_at"],
            "back_dated": _minutes(n["entered_at"]) > _minutes(n["at"]),
            "actor": n["author"],
            "text": "note: " + n["text"].replace("\n", "\n      "),
        }
        for n in detail["notes"]
    ]
    return sorted(entries, key=lambda e: e["at"] or "")
