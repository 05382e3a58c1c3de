"""Changing incidents: the status machine, the audit trail, assets, requests, notes and cross-border.

Every change goes through a function here, so each one leaves an audit entry: who, old → new, when it
took effect and when it was entered (a back-dated change keeps both).  No change takes effect before
the incident was reported (:func:`check_not_before_report`), whether typed by an analyst or imported.
The status machine (DESIGN.md §5)::

    new ─→ triaged ─→ coordinating ─→ resolved | rejected | unresolved
      └──────┴──→ rejected            (a report that is no incident is rejected at triage)

Closed statuses (resolved, rejected, unresolved) are final; anything else is refused with a message
that names the allowed next statuses.
"""

from __future__ import annotations

import ipaddress
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from sitrep.config import Workspace
from sitrep.hosts import normalise, under_any
from sitrep.incidents.errors import IllegalTransition, InactivePartner, IncidentError, WorkflowError
from sitrep.incidents.inputs import country_code, domain_name, optional_text, plain_text
from sitrep.incidents.models import (
    Asset,
    AuditEntry,
    CoordinationRequest,
    EventLink,
    Incident,
    Note,
    Partner,
    utcnow,
)
from sitrep.incidents.sla import Sla
from sitrep.incidents.vocabulary import AssetKind, Grade, Outcome, ReportedVia, Status
from sitrep.taxonomy import TLP, IncidentCategory

TRANSITIONS: dict[Status, tuple[Status, ...]] = {
    Status.NEW: (Status.TRIAGED, Status.REJECTED),
    Status.TRIAGED: (Status.COORDINATING, Status.REJECTED),
    Status.COORDINATING: (Status.RESOLVED, Status.REJECTED, Status.UNRESOLVED),
    Status.RESOLVED: (),
    Status.REJECTED: (),
    Status.UNRESOLVED: (),
}

# The column that records when an incident entered each status.
STATUS_TIME = {
    Status.TRIAGED: "triaged_at",
    Status.COORDINATING: "coordinating_at",
    Status.RESOLVED: "resolved_at",
    Status.REJECTED: "rejected_at",
    Status.UNRESOLVED: "unresolved_at",
}

REQUEST_STAGES = ("sent_at", "acknowledged_at", "actioned_at", "verified_at")
MAX_REF = 100
MAX_NAME = 200
MAX_NOTE = 10_000


@dataclass(frozen=True)
class Home:
    """What counts as domestic for cross-border: the constituency country and its TLDs."""

    country: str
    tlds: tuple[str, ...]

    @classmethod
    def of(cls, workspace: Workspace) -> Home:
        settings = workspace.settings
        return cls(settings.organisation.country, tuple(settings.enrichment.country_tlds))

    def host_is_domestic(self, host: str) -> bool:
        return under_any(normalise(host), self.tlds)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def record(
    session: Session,
    incident: Incident | None,
    field: str,
    old: Any,
    new: Any,
    actor: str,
    *,
    entity: str = "incident",
    entity_id: int | None = None,
    at: datetime | None = None,
) -> None:
    """Append one audit entry (``old`` → ``new`` of ``field``) to the trail.

    ``at`` is when the change took effect (default: now); the entry time is always now.
    """
    entered = utcnow()
    entry = AuditEntry(
        entity=entity,
        entity_id=entity_id,
        field=field,
        old=_text(old),
        new=_text(new),
        actor=check_actor(actor),
        at=at or entered,
        entered_at=entered,
    )
    if incident is not None:
        incident.audit.append(entry)
    else:
        session.add(entry)


def _utc(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def check_not_before_report(incident: Incident, when: datetime | None, what: str) -> None:
    """Refuse a change said to take effect (``when``) before the incident was reported."""
    reported = incident.reported_at
    if when is not None and reported is not None and when < reported:
        raise WorkflowError(
            f"incident {incident.ref}: {what} at {_utc(when)} would be before the incident was reported "
            f"({_utc(reported)})"
        )


def _changes_since(incident: Incident) -> list[tuple[str, datetime]]:
    """The effective times recorded on the incident and its requests (status and request stages)."""
    times = [(name, getattr(incident, name)) for name in STATUS_TIME.values()]
    times += [(f"request {name}", getattr(r, name)) for r in incident.requests for name in REQUEST_STAGES]
    return [(name, when) for name, when in times if when is not None]


def check_actor(actor: str) -> str:
    """The actor of a change, as recorded in the audit trail."""
    return plain_text(actor, "actor", max_length=MAX_NAME)


def create_incident(
    session: Session,
    *,
    ref: str,
    title: str,
    category: IncidentCategory,
    actor: str,
    reported_via: ReportedVia = ReportedVia.MONITORING,
    reporter: str | None = None,
    reporter_country: str | None = None,
    grade: Grade = Grade.GENERAL,
    tlp: TLP = TLP.AMBER,
    reported_at: datetime | None = None,
    owner: str | None = None,
) -> Incident:
    """Add a new incident (status ``new``) and record its creation."""
    if not ref.strip():
        raise WorkflowError("an incident needs a non-empty ref")
    if not title.strip():
        raise WorkflowError("an incident needs a title")
    now = utcnow()
    incident = Incident(
        ref=plain_text(ref, "ref", max_length=MAX_REF),
        title=plain_text(title, "title"),
        category=category.value,
        reported_via=reported_via.value,
        reporter=optional_text(reporter, "reporter", max_length=300),
        reporter_country=country_code(reporter_country, "reporter country"),
        owner=optional_text(owner, "owner", max_length=MAX_NAME),
        grade=grade.value,
        tlp=tlp.value,
        status=Status.NEW.value,
        cross_border=False,
        reported_at=reported_at,
        created_at=now,
        updated_at=now,
    )
    session.add(incident)
    record(session, incident, "created", None, incident.ref, actor, at=now)
    if incident.owner:
        record(session, incident, "owner", None, incident.owner, actor, at=now)
    return incident


def set_field(session: Session, incident: Incident, field: str, value: Any, actor: str) -> bool:
    """Change one plain field (title, category, grade, tlp, reporter, owner…); return whether it changed.

    Text is checked (one line, no control characters); a report time is refused when a recorded
    change would then predate it.
    """
    if field in ("status", "cross_border", "cross_border_override", "cross_border_reason", "id", "ref"):
        raise WorkflowError(f"{field} is changed through its own function, not set_field")
    stored = value.value if hasattr(value, "value") else value
    if field == "title":
        stored = plain_text(stored, "title")
    elif field in ("owner", "reporter") and stored is not None:
        stored = optional_text(stored, field, max_length=MAX_NAME)
    elif field == "reporter_country":
        stored = country_code(stored, "reporter country")
    old = getattr(incident, field)
    if old == stored:
        return False
    if field == "reported_at" and stored is not None:
        earlier = [(name, when) for name, when in _changes_since(incident) if when < stored]
        if earlier:
            name, when = min(earlier, key=lambda item: item[1])
            raise WorkflowError(
                f"incident {incident.ref}: reported_at {_utc(stored)} would be after its {name} ({_utc(when)})"
            )
    setattr(incident, field, stored)
    incident.updated_at = utcnow()
    record(session, incident, field, old, stored, actor)
    return True


def allowed_next(status: Status) -> tuple[Status, ...]:
    """The statuses an incident in ``status`` may move to."""
    return TRANSITIONS[status]


def transition(session: Session, incident: Incident, to: Status, *, actor: str, at: datetime | None = None) -> None:
    """Move the incident to ``to``, stamping the time of the change; refuse illegal moves."""
    current = Status(incident.status)
    if to not in TRANSITIONS[current]:
        raise IllegalTransition(incident.ref, current.value, to.value, tuple(s.value for s in TRANSITIONS[current]))
    when = at or utcnow()
    check_not_before_report(incident, when, f"the change to {to.value}")
    incident.status = to.value
    setattr(incident, STATUS_TIME[to], when)
    incident.updated_at = utcnow()
    record(session, incident, "status", current.value, to.value, actor, at=when)


def close_incident(
    session: Session,
    incident: Incident,
    goal: Status,
    *,
    actor: str,
    at: datetime,
    outcome: Outcome | None = None,
    sla: Sla | None = None,
) -> None:
    """Close the incident as ``goal`` at ``at``; ``outcome`` goes to every request that has none, and
    an effective one (taken down, fixed) also stamps ``actioned_at`` where it is missing."""
    if not goal.closed:
        raise WorkflowError(f"an incident is closed as resolved, rejected or unresolved, not {goal.value}")
    transition(session, incident, goal, actor=actor, at=at)
    if outcome is None:
        return
    for request in incident.requests:
        if request.outcome is None:
            actioned = at if outcome.effective and not request.actioned_at else None
            update_request(session, request, actor=actor, outcome=outcome, actioned_at=actioned, sla=sla)


def path_to(start: Status, goal: Status) -> list[Status]:
    """The shortest legal sequence of statuses after ``start`` that ends at ``goal`` ([] if equal)."""
    if start == goal:
        return []
    previous: dict[Status, Status] = {}
    queue = deque([start])
    while queue:
        status = queue.popleft()
        for nxt in TRANSITIONS[status]:
            if nxt not in previous and nxt != start:
                previous[nxt] = status
                if nxt == goal:
                    steps = [goal]
                    while previous[steps[-1]] != start:
                        steps.append(previous[steps[-1]])
                    return steps[::-1]
                queue.append(nxt)
    raise WorkflowError(f"cannot go from {start.value} to {goal.value}: closed statuses are final")


def advance(
    session: Session,
    incident: Incident,
    goal: Status,
    *,
    actor: str,
    at: datetime | None = None,
    steps_at: datetime | None = None,
) -> None:
    """Walk the legal path to ``goal``: intermediate steps are stamped ``steps_at``, the last ``at``."""
    steps = path_to(Status(incident.status), goal)
    for step in steps:
        transition(session, incident, step, actor=actor, at=at if step == goal else (steps_at or at))


def _host(value: str) -> str:
    host = urlsplit(value).hostname if "://" in value else value
    return (host or "").lower().rstrip(".")


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def normalise_asset(value: str, kind: AssetKind | None = None) -> tuple[AssetKind, str]:
    """Clean an asset for storage and comparison: trimmed, host lower-cased, domains without dots.

    A domain (and the host of a URL that is not an IP) must be a real domain name
    (:func:`sitrep.incidents.inputs.domain_name`); an IP must parse as one.
    """
    text = value.strip()
    if not text:
        raise WorkflowError("empty asset")
    plain_text(text, "asset")
    kind = kind or AssetKind.guess(text)
    if kind is AssetKind.URL:
        try:
            parts = urlsplit(text)
            host = parts.hostname
        except ValueError:
            raise WorkflowError(f"{value!r} is not a URL") from None
        if not parts.scheme or not host:
            raise WorkflowError(f"{value!r} is not a URL with a scheme and host")
        if " " in text:
            raise WorkflowError(f"{value!r} is not a URL (it holds a space)")
        if not _is_ip(host):
            try:
                domain_name(host)
            except IncidentError as exc:
                raise WorkflowError(f"{value!r} is not a URL: its host {exc}") from None
        text = parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower()).geturl()
    elif kind is AssetKind.DOMAIN:
        text = domain_name(text)
    elif not _is_ip(text):
        raise WorkflowError(f"{value!r} is not an IP address")
    return kind, text


def add_asset(
    session: Session,
    incident: Incident,
    value: str,
    *,
    actor: str,
    kind: AssetKind | None = None,
    country: str | None = None,
    home: Home | None = None,
) -> tuple[Asset, bool]:
    """Attach an affected asset (once); return it and whether it was new.

    With ``home`` and no ``country``, a host under the home TLDs is marked domestic.
    """
    kind, text = normalise_asset(value, kind)
    country = country_code(country, "asset country")
    for asset in incident.assets:
        if asset.kind == kind.value and asset.value == text:
            return asset, False
    if country is None and home is not None and kind is not AssetKind.IP and home.host_is_domestic(_host(text)):
        country = home.country
    asset = Asset(kind=kind.value, value=text, country=country)
    incident.assets.append(asset)
    incident.updated_at = utcnow()
    record(session, incident, "asset", None, f"{kind.value} {text}", actor)
    return asset, True


def link_events(session: Session, incident: Incident, event_ids: list[str], *, actor: str) -> int:
    """Link lake events (by ``event_id``) to the incident; return how many were new."""
    known = {link.event_id for link in incident.events}
    fresh = [e for e in dict.fromkeys(event_ids) if e and e not in known]
    for event_id in fresh:
        incident.events.append(EventLink(event_id=event_id))
    if fresh:
        record(session, incident, "events", len(known), len(known) + len(fresh), actor)
    return len(fresh)


def add_request(
    session: Session, incident: Incident, partner: Partner, *, actor: str
) -> tuple[CoordinationRequest, bool]:
    """Open a coordination request to ``partner`` (once per partner); return it and whether it was new.

    A deactivated partner gets no new request.
    """
    for request in incident.requests:
        if request.partner_id == partner.id or request.partner is partner:
            return request, False
    if partner.active is False:
        raise InactivePartner(partner.name)
    request = CoordinationRequest(partner=partner, created_at=utcnow())
    incident.requests.append(request)
    incident.updated_at = utcnow()
    record(session, incident, "request", None, partner.name, actor)
    return request, True


def update_request(
    session: Session,
    request: CoordinationRequest,
    *,
    actor: str,
    sent_at: datetime | None = None,
    acknowledged_at: datetime | None = None,
    actioned_at: datetime | None = None,
    verified_at: datetime | None = None,
    outcome: Outcome | None = None,
    due_at: datetime | None = None,
    reminded_at: datetime | None = None,
    sla: Sla | None = None,
) -> bool:
    """Record progress of a request (only the values given); return whether anything changed.

    A stage's audit entry takes effect at the stage's time; no stage may predate the report time.
    When the request is first sent and has no due date, ``sla`` gives it one.
    """
    changes: dict[str, Any] = {
        "sent_at": sent_at,
        "acknowledged_at": acknowledged_at,
        "actioned_at": actioned_at,
        "verified_at": verified_at,
        "outcome": outcome.value if outcome else None,
        "due_at": due_at,
        "reminded_at": reminded_at,
    }
    if sent_at is not None and due_at is None and request.due_at is None and sla is not None:
        changes["due_at"] = sla.due(request.partner.type, sent_at)
    incident = request.incident
    for field in REQUEST_STAGES:
        if changes[field] is not None and changes[field] != getattr(request, field):
            check_not_before_report(incident, changes[field], f"{request.partner.name}'s request {field}")
    changed = False
    for field, value in changes.items():
        old = getattr(request, field)
        if value is None or old == value:
            continue
        setattr(request, field, value)
        record(
            session,
            incident,
            f"request.{field}",
            old,
            value,
            actor,
            entity="request",
            entity_id=request.id,
            at=value if field in REQUEST_STAGES else None,
        )
        changed = True
    if changed:
        request.incident.updated_at = utcnow()
    return changed


def add_note(session: Session, incident: Incident, text: str, *, author: str, at: datetime | None = None) -> Note:
    """Put an analyst's note on the incident's timeline (at ``at``, default now; not before the report)."""
    body = plain_text(text, "note", max_length=MAX_NOTE, multiline=True)
    entered = utcnow()
    check_not_before_report(incident, at, "the note")
    note = Note(author=check_actor(author), text=body, at=at or entered, entered_at=entered)
    incident.notes.append(note)
    incident.updated_at = entered
    return note


def derive_cross_border(incident: Incident, home: Home) -> bool:
    """Is any involved partner, the reporter or an affected asset foreign (known and not home)?"""
    countries = [incident.reporter_country]
    countries += [r.partner.country for r in incident.requests]
    countries += [a.country for a in incident.assets]
    return any(c and c.upper() != home.country for c in countries)


def refresh_cross_border(session: Session, incident: Incident, home: Home, *, actor: str) -> None:
    """Recompute the effective cross-border flag (the override wins) and audit a change."""
    if incident.cross_border_override is not None:
        value = incident.cross_border_override
    else:
        value = derive_cross_border(incident, home)
    if bool(incident.cross_border) != value:
        record(session, incident, "cross_border", incident.cross_border, value, actor)
        incident.cross_border = value


def override_cross_border(
    session: Session, incident: Incident, value: bool | None, *, reason: str | None, actor: str, home: Home
) -> None:
    """Force cross-border to ``value`` with a recorded reason, or go back to deriving it (``None``)."""
    if value is not None and not (reason and reason.strip()):
        raise WorkflowError("overriding cross-border needs a reason")
    old = (incident.cross_border_override, incident.cross_border_reason)
    new = (value, reason.strip() if value is not None and reason else None)
    if old != new:
        incident.cross_border_override, incident.cross_border_reason = new
        label = "derived" if value is None else f"{'yes' if value else 'no'}: {new[1]}"
        before = "derived" if old[0] is None else f"{'yes' if old[0] else 'no'}: {old[1]}"
        record(session, incident, "cross_border_override", before, label, actor)
    refresh_cross_border(session, incident, home, actor=actor)
