"""The incident use cases: what an analyst does at the CLI or the web desk, as functions that take plain
arguments (text as typed, times as ISO 8601 or ``now``) and return typed values.

Each use case opens its own transaction on the desk's store (:class:`~sitrep.incidents.desk.Desk`):
a write transaction for a change, so it holds the write lock from its start, and a read one for a
question.  Refusals are :class:`~sitrep.incidents.errors.IncidentError` (and ``ValueError`` for a
value that does not parse) whose messages state the fact; the caller adds its hints.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from sitrep.incidents import importer, partners
from sitrep.incidents.desk import Desk
from sitrep.incidents.errors import (
    AlreadyTriaged,
    DuplicateRef,
    IllegalTransition,
    IncidentError,
    KeyReused,
    RequestExists,
    RequestWithoutPartner,
    StaleIncident,
    StaleRequest,
    UnknownIncident,
    UnknownRequest,
)
from sitrep.incidents.importer import parse_time
from sitrep.incidents.inputs import optional_text, plain_text
from sitrep.incidents.models import AuditEntry, CoordinationRequest, EventLink, Incident, utcnow
from sitrep.incidents.notify import Due, NotifyReport, notices_due, send_notifications
from sitrep.incidents.partners import PartnerSpec, get_partner
from sitrep.incidents.records import ImportReport
from sitrep.incidents.refs import PROPOSAL_PREFIX, next_ref, proposal_prefix
from sitrep.incidents.scorecard import Scorecard, score, sent_requests
from sitrep.incidents.sla import is_overdue, overdue_condition
from sitrep.incidents.stats import WeeklyStats, weekly_stats
from sitrep.incidents.views import (
    AuditView,
    IncidentDetail,
    IncidentSummary,
    NoteView,
    OverdueView,
    PartnerView,
    ProposedView,
    RequestView,
    audit_view,
    incident_detail,
    incident_summary,
    note_view,
    partner_view,
    proposed_view,
    request_version,
    request_view,
    version_of,
)
from sitrep.incidents.vocabulary import OPEN_STATUSES, Grade, Outcome, ReportedVia, Status, parse_enum
from sitrep.incidents.workflow import (
    MAX_NAME,
    MAX_NOTE,
    TRANSITIONS,
    add_asset,
    add_note,
    add_request,
    close_incident,
    create_incident,
    link_events,
    override_cross_border,
    refresh_cross_border,
    set_field,
    transition,
    update_request,
)
from sitrep.taxonomy import TLP, IncidentCategory, PartnerType
from sitrep.weeks import Week

if TYPE_CHECKING:
    from sitrep.incidents.complaints import IntakeReport
    from sitrep.incidents.propose import Proposal

MAX_PAGE = 10_000
# The status filter's word for new incidents that were proposed (from the lake's events or a
# complaint mail, refs P-…) rather than recorded by an analyst: the triage queue.
PROPOSED = "proposed"


class _Rollback(Exception):
    """Leaves a write transaction without committing (dry runs)."""


@contextmanager
def _writing(desk: Desk, dry_run: bool = False) -> Iterator[Session]:
    """A write session that commits, or, for a dry run, rolls everything back."""
    try:
        with desk.store.write() as session:
            yield session
            if dry_run:
                raise _Rollback
    except _Rollback:
        pass


# -- parsing what was typed ---------------------------------------------------------------------------


def parse_when(value: str | datetime | None, tz: ZoneInfo, now: datetime | None = None) -> datetime | None:
    """``now``, an ISO 8601 time (local time in ``tz`` when it has no offset), a datetime, or None."""
    if value is None or isinstance(value, datetime):
        return value
    if value.strip().lower() == "now":
        return now or utcnow()
    return parse_time(value, tz)


def week_or_last(text: str | None, tz: ZoneInfo) -> Week:
    """The ISO week ``text`` names (``2025-W01``), or the last complete week."""
    return Week.parse(text) if text and text.strip() else Week.last_complete(tz)


def proposals_week(desk: Desk, now: datetime | None = None) -> Week:
    """The week the proposals queue opens on: the current week when proposals of it (complaint mails
    received this week) await triage, else the last complete week (whose events are proposed)."""
    last = Week.last_complete(desk.tz, now)
    current = last + 1
    prefix = proposal_prefix(current)
    with desk.store.read() as session:
        waiting = session.scalar(
            select(Incident.id)
            .where(Incident.status == Status.NEW.value, Incident.ref.startswith(prefix, autoescape=True))
            .limit(1)
        )
    return current if waiting is not None else last


def _load(session: Session, ref: str, *, lock: bool = False) -> Incident:
    """The incident ``ref`` with everything its detail shows; ``lock`` holds its row until the
    transaction ends (PostgreSQL; a SQLite writer holds the whole database already)."""
    statement = select(Incident).where(Incident.ref == ref.strip())
    incident = session.scalars(
        (statement.with_for_update(of=Incident) if lock else statement).options(
            selectinload(Incident.assets),
            selectinload(Incident.events),
            selectinload(Incident.requests).selectinload(CoordinationRequest.partner),
            selectinload(Incident.notes),
            selectinload(Incident.audit),
            selectinload(Incident.complaints),
        )
    ).first()
    if incident is None:
        raise UnknownIncident(ref.strip())
    return incident


def _detail(desk: Desk, incident: Incident) -> IncidentDetail:
    return incident_detail(incident, desk.tz, utcnow())


# -- incidents ----------------------------------------------------------------------------------------


def add_incident(
    desk: Desk,
    *,
    title: str,
    category: str,
    actor: str,
    ref: str | None = None,
    assets: Sequence[str] = (),
    partner_names: Sequence[str] = (),
    reporter: str | None = None,
    reporter_country: str | None = None,
    reported_via: str = ReportedVia.MONITORING.value,
    reported_at: str | datetime | None = None,
    grade: str = Grade.GENERAL.value,
    tlp: str = TLP.AMBER.value,
    events: Sequence[str] = (),
    owner: str | None = None,
    once: ClientKey | None = None,
) -> IncidentDetail:
    """Record a new incident (status new); without ``ref`` it gets the next ``<prefix>-<date>-<n>``.

    With ``once`` (a client's key for this request and the request's digest) a retry returns the
    incident the first attempt created; the same key with another request is :class:`KeyReused`.
    """
    kind = parse_enum(IncidentCategory, category, "category")
    via = parse_enum(ReportedVia, reported_via, "reported_via")
    when = parse_when(reported_at, desk.tz) or utcnow()
    if once is not None and (earlier := _created_by(desk, once)) is not None:
        return earlier
    with desk.store.write() as session:
        chosen = (ref or "").strip()
        if chosen and session.scalar(select(exists().where(Incident.ref == chosen))):
            raise DuplicateRef(chosen)
        incident = create_incident(
            session,
            ref=chosen or next_ref(session, desk.rules.ref_prefix, desk.tz, utcnow()),
            title=title,
            category=kind,
            actor=actor,
            reported_via=via,
            reporter=reporter,
            reporter_country=reporter_country,
            grade=Grade.parse(grade),
            tlp=TLP.parse(tlp),
            reported_at=when,
            owner=owner,
        )
        if once is not None:
            incident.client_key, incident.client_request = once.key, once.digest
        for value in assets:
            add_asset(session, incident, value, actor=actor, home=desk.home)
        for name in partner_names:
            add_request(session, incident, get_partner(session, name), actor=actor)
        link_events(session, incident, list(events), actor=actor)
        refresh_cross_border(session, incident, desk.home, actor=actor)
        try:
            session.flush()
        except IntegrityError:
            # Another writer took the same ref, or the same client key, between our checks and our
            # insert (PostgreSQL).
            if once is not None and (earlier := _created_by(desk, once)) is not None:
                return earlier
            raise DuplicateRef(incident.ref) from None
        return _detail(desk, incident)


@dataclass(frozen=True)
class ClientKey:
    """A client's key for one creating request (scoped to the client) and the digest of the request."""

    key: str
    digest: str


def _created_by(desk: Desk, once: ClientKey) -> IncidentDetail | None:
    with desk.store.read() as session:
        ref = session.scalar(select(Incident.ref).where(Incident.client_key == once.key))
        if ref is None:
            return None
        incident = _load(session, ref)
        if incident.client_request != once.digest:
            raise KeyReused(once.key.rpartition("\x1f")[2], incident.ref)
        return _detail(desk, incident)


@dataclass(frozen=True)
class IncidentQuery:
    """Which incidents a list (or a bulk change) is about; every given criterion must hold."""

    statuses: Sequence[str] = ()  # Status values, or PROPOSED (new and proposed: refs P-…)
    open_only: bool = False
    category: str | None = None
    owner: str | None = None
    unassigned: bool = False
    partner: str | None = None
    resolved_in: str | None = None  # an ISO week
    search: str | None = None  # in the ref or the title, case-insensitive
    reported_before: str | datetime | None = None
    proposed_in: str | None = None  # an ISO week: the incidents proposed from its events (P-<week>-…)

    def is_empty(self) -> bool:
        return not (
            self.statuses
            or self.open_only
            or self.category
            or self.owner
            or self.unassigned
            or self.partner
            or self.resolved_in
            or self.search
            or self.reported_before
            or self.proposed_in
        )


def _statuses(query: IncidentQuery) -> tuple[list[str], bool]:
    """The statuses asked for, and whether ``proposed`` was among them."""
    chosen, proposed = [], False
    for typed in query.statuses:
        if typed.strip().lower() == PROPOSED:
            proposed = True
            continue
        try:
            chosen.append(parse_enum(Status, typed, "status").value)
        except ValueError:
            allowed = ", ".join(s.value for s in Status)
            raise IncidentError(f"unknown status {typed!r}; use one of {allowed}, or {PROPOSED}") from None
    if query.open_only:
        chosen += [s.value for s in OPEN_STATUSES]
    return chosen, proposed


def _filtered(session: Session, statement: Select[Any], query: IncidentQuery, tz: ZoneInfo) -> Select[Any]:
    statuses, proposed = _statuses(query)
    wanted: list[ColumnElement[bool]] = [Incident.status.in_(statuses)] if statuses else []
    if proposed:
        is_proposal = Incident.ref.startswith(PROPOSAL_PREFIX, autoescape=True)
        wanted.append(and_(Incident.status == Status.NEW.value, is_proposal))
    if wanted:
        statement = statement.where(or_(*wanted))
    if query.category:
        statement = statement.where(Incident.category == parse_enum(IncidentCategory, query.category, "category").value)
    if query.owner:
        statement = statement.where(func.lower(Incident.owner) == query.owner.strip().lower())
    if query.unassigned:
        statement = statement.where(Incident.owner.is_(None))
    if query.partner:
        partner = get_partner(session, query.partner)
        statement = statement.where(
            exists().where(CoordinationRequest.incident_id == Incident.id, CoordinationRequest.partner_id == partner.id)
        )
    if query.resolved_in:
        start, end = Week.parse(query.resolved_in).bounds(tz)
        statement = statement.where(
            Incident.status == Status.RESOLVED.value, Incident.resolved_at >= start, Incident.resolved_at < end
        )
    if query.proposed_in:
        prefix = proposal_prefix(Week.parse(query.proposed_in))
        statement = statement.where(Incident.ref.startswith(prefix, autoescape=True))
    before = parse_when(query.reported_before, tz)
    if before is not None:
        statement = statement.where(Incident.reported_at < before)
    if query.search and query.search.strip():
        text = query.search.strip().lower()
        statement = statement.where(
            or_(
                func.lower(Incident.ref).contains(text, autoescape=True),
                func.lower(Incident.title).contains(text, autoescape=True),
            )
        )
    return statement


@dataclass(frozen=True)
class IncidentPage:
    """One page of a listing, newest first; ``next_after`` continues it (None on the last page)."""

    incidents: list[IncidentSummary]
    next_after: str | None


def list_incidents(
    desk: Desk, query: IncidentQuery | None = None, *, limit: int = 200, after: str | None = None
) -> IncidentPage:
    """Incidents matching ``query``, newest first, ``limit`` at a time.

    Pages are keyed by the last ref of the previous page (``after``), so a page costs the same at the
    first incident and the hundred-thousandth, and an incident added meanwhile shifts nothing.
    """
    with desk.store.read() as session:
        statement = _filtered(session, select(Incident), query or IncidentQuery(), desk.tz)
        rows, more = _page(session, statement, limit, after)
        page = [incident_summary(i, desk.tz) for i in rows]
    return IncidentPage(page, page[-1]["ref"] if more else None)


def _page(session: Session, statement: Select[Any], limit: int, after: str | None) -> tuple[list[Incident], bool]:
    """The ``limit`` incidents of ``statement`` after the ref ``after``, newest first, and whether more
    follow (keyed by id: no OFFSET)."""
    if not 1 <= limit <= MAX_PAGE:
        raise IncidentError(f"limit {limit} is not between 1 and {MAX_PAGE}")
    if after:
        last = session.scalar(select(Incident.id).where(Incident.ref == after.strip()))
        if last is None:
            raise UnknownIncident(after.strip())
        statement = statement.where(Incident.id < last)
    rows = list(session.scalars(statement.order_by(Incident.id.desc()).limit(limit + 1)))
    return rows[:limit], len(rows) > limit


@dataclass(frozen=True)
class ProposedPage:
    """One page of a week's proposed incidents still awaiting triage, newest first."""

    week: Week
    proposals: list[ProposedView]
    next_after: str | None


def list_proposed(desk: Desk, week: str | None, *, limit: int = 50, after: str | None = None) -> ProposedPage:
    """The incidents proposed from ``week``'s events (default: the last complete week) that are still
    new, with their assets, routed partners and linked event counts, ``limit`` at a time."""
    chosen = week_or_last(week, desk.tz)
    query = IncidentQuery(statuses=[Status.NEW.value], proposed_in=str(chosen))
    with desk.store.read() as session:
        statement = _filtered(session, select(Incident), query, desk.tz).options(
            selectinload(Incident.assets),
            selectinload(Incident.requests).selectinload(CoordinationRequest.partner),
        )
        rows, more = _page(session, statement, limit, after)
        counts = _event_counts(session, [i.id for i in rows])
        page = [proposed_view(i, desk.tz, counts.get(i.id, 0)) for i in rows]
    return ProposedPage(chosen, page, page[-1]["ref"] if more else None)


def _event_counts(session: Session, ids: Sequence[int]) -> dict[int, int]:
    if not ids:
        return {}
    statement = select(EventLink.incident_id, func.count()).where(EventLink.incident_id.in_(ids))
    return {incident_id: count for incident_id, count in session.execute(statement.group_by(EventLink.incident_id))}


def incident_summaries(desk: Desk, refs: Sequence[str]) -> list[IncidentSummary]:
    """The incidents of ``refs`` in that order (refs the store does not hold are left out)."""
    wanted = list(dict.fromkeys(r.strip() for r in refs if r.strip()))
    if len(wanted) > MAX_PAGE:
        raise IncidentError(f"{len(wanted)} refs asked for at once; at most {MAX_PAGE}")
    with desk.store.read() as session:
        found = {i.ref: i for i in session.scalars(select(Incident).where(Incident.ref.in_(wanted)))}
        return [incident_summary(found[r], desk.tz) for r in wanted if r in found]


class LinkedIncident(TypedDict):
    """An incident some of the given lake events are linked to, and which of them."""

    ref: str
    title: str
    status: str
    category: str
    tlp: str
    events: list[str]


def incidents_of_events(desk: Desk, event_ids: Sequence[str]) -> list[LinkedIncident]:
    """The incidents the lake events ``event_ids`` are linked to (at most ``MAX_PAGE`` IDs, e.g. one
    explorer page), newest first, each with the given events it holds."""
    wanted = list(dict.fromkeys(e for e in event_ids if e))
    if len(wanted) > MAX_PAGE:
        raise IncidentError(f"{len(wanted)} event IDs asked for at once; at most {MAX_PAGE}")
    if not wanted:
        return []
    with desk.store.read() as session:
        rows = session.execute(
            select(Incident, EventLink.event_id)
            .join(EventLink, EventLink.incident_id == Incident.id)
            .where(EventLink.event_id.in_(wanted))
            .order_by(Incident.id.desc(), EventLink.event_id)
        ).all()
        linked: dict[str, LinkedIncident] = {}
        for incident, event_id in rows:
            entry = linked.setdefault(
                incident.ref,
                {
                    "ref": incident.ref,
                    "title": incident.title,
                    "status": incident.status,
                    "category": incident.category,
                    "tlp": incident.tlp,
                    "events": [],
                },
            )
            entry["events"].append(event_id)
    return list(linked.values())


def show_incident(desk: Desk, ref: str) -> IncidentDetail:
    """One incident with its assets, events, requests, notes and audit trail."""
    with desk.store.read() as session:
        return _detail(desk, _load(session, ref))


def complaint_mail(desk: Desk, ref: str, sha256: str) -> Path:
    """The ``.eml`` file of the complaint mail ``sha256`` of incident ``ref``, as the record names it."""
    with desk.store.read() as session:
        incident = _load(session, ref)
        found = next((c for c in incident.complaints if c.sha256 == sha256.strip().lower() and c.path), None)
    if found is None or found.path is None:
        raise IncidentError(f"incident {incident.ref} has no complaint mail {sha256!r}")
    path = desk.workspace.root / found.path
    if not path.is_file():
        raise IncidentError(f"the mail {found.path} of incident {incident.ref} is no longer in the workspace")
    return path


@dataclass(frozen=True)
class IncidentChanges:
    """What ``update`` changes; None (or empty) leaves a field as it is.

    Request times and ``outcome`` apply to the request to ``partner`` (opened when there is none);
    ``cross_border`` is ``yes``/``no`` (with a ``reason``) or ``derive``; ``owner`` ``""`` unassigns.
    """

    status: str | None = None
    at: str | datetime | None = None
    title: str | None = None
    category: str | None = None
    grade: str | None = None
    tlp: str | None = None
    owner: str | None = None
    add_assets: Sequence[str] = ()
    events: Sequence[str] = ()
    cross_border: str | None = None
    reason: str | None = None
    partner: str | None = None
    sent: str | datetime | None = None
    acknowledged: str | datetime | None = None
    actioned: str | datetime | None = None
    verified: str | datetime | None = None
    outcome: str | None = None
    due: str | datetime | None = None


def update_incident(
    desk: Desk, ref: str, changes: IncidentChanges, *, actor: str, if_version: str | None = None
) -> IncidentDetail:
    """Apply ``changes`` in one transaction, every one audited: fields, assets, events, the partner's
    request, cross-border, and last the status (so an illegal status change refuses everything).

    With ``if_version`` (the ``version`` of a detail read before) the change is made only if the
    incident is still at that version; else :class:`StaleIncident`.
    """
    tz, now = desk.tz, utcnow()
    fields: dict[str, Any] = {
        "title": changes.title,
        "grade": Grade.parse(changes.grade) if changes.grade else None,
        "tlp": TLP.parse(changes.tlp) if changes.tlp else None,
        "category": parse_enum(IncidentCategory, changes.category, "category") if changes.category else None,
    }
    stages = RequestChanges(
        sent=changes.sent,
        acknowledged=changes.acknowledged,
        actioned=changes.actioned,
        verified=changes.verified,
        outcome=changes.outcome,
        due=changes.due,
    ).parsed(tz, now)
    if not changes.partner and any(v is not None for v in stages.values()):
        raise RequestWithoutPartner
    status = parse_enum(Status, changes.status, "status") if changes.status else None
    when = parse_when(changes.at, tz, now)
    with desk.store.write() as session:
        incident = _load(session, ref, lock=if_version is not None)
        if if_version is not None and (current := version_of(incident)) != if_version.strip():
            raise StaleIncident(incident.ref, if_version.strip(), current)
        for name, value in fields.items():
            if value is not None:
                set_field(session, incident, name, value, actor)
        if changes.owner is not None:
            set_field(session, incident, "owner", changes.owner.strip() or None, actor)
        for value in changes.add_assets:
            add_asset(session, incident, value, actor=actor, home=desk.home)
        link_events(session, incident, list(changes.events), actor=actor)
        if changes.partner:
            request, _ = add_request(session, incident, get_partner(session, changes.partner), actor=actor)
            session.flush()
            update_request(session, request, actor=actor, sla=desk.sla, **stages)
        if changes.cross_border is not None:
            choice = changes.cross_border.strip().lower()
            if choice not in ("yes", "no", "derive"):
                raise IncidentError(f"cross-border {changes.cross_border!r} is not yes, no or derive")
            value = None if choice == "derive" else choice == "yes"
            override_cross_border(session, incident, value, reason=changes.reason, actor=actor, home=desk.home)
        else:
            refresh_cross_border(session, incident, desk.home, actor=actor)
        if status is not None:
            transition(session, incident, status, actor=actor, at=when)
        session.flush()
        return _detail(desk, incident)


def assign_incident(desk: Desk, ref: str, owner: str | None, *, actor: str) -> IncidentDetail:
    """Give the incident an owner (None or empty: nobody)."""
    return update_incident(desk, ref, IncidentChanges(owner=owner or ""), actor=actor)


def note_incident(desk: Desk, ref: str, text: str, *, actor: str, at: str | datetime | None = None) -> NoteView:
    """Put a note on the incident's timeline (effective at ``at``, default now)."""
    when = parse_when(at, desk.tz)
    with desk.store.write() as session:
        incident = _load(session, ref)
        note = add_note(session, incident, text, author=actor, at=when)
        session.flush()
        return note_view(note, desk.tz)


@dataclass(frozen=True)
class Refused:
    """An incident a bulk change left as it was, and why: ``reason`` as the core states it, and for the
    refusals an interface words in its own language, their ``kind`` and the values it names."""

    ref: str
    reason: str
    kind: str = ""
    values: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, ref: str, exc: IncidentError) -> Refused:
        """The refusal ``exc`` of the incident ``ref``."""
        kind, names = REFUSAL_KINDS.get(type(exc), ("", ()))
        return cls(ref, str(exc), kind, {name: str(getattr(exc, name)) for name in names})


# The refusals of the bulk changes an interface words itself: their kind and the attributes they name.
REFUSAL_KINDS: dict[type[IncidentError], tuple[str, tuple[str, ...]]] = {
    UnknownIncident: ("unknown_incident", ()),
    AlreadyTriaged: ("already_triaged", ("status",)),
    IllegalTransition: ("illegal_transition", ("current", "goal")),
}


@dataclass
class CloseReport:
    """What a (bulk) resolve did."""

    status: str
    dry_run: bool
    closed: list[str] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)


def resolve_incidents(
    desk: Desk,
    refs: Sequence[str] = (),
    query: IncidentQuery | None = None,
    *,
    actor: str,
    as_status: str = Status.RESOLVED.value,
    outcome: str | None = None,
    at: str | datetime | None = None,
    dry_run: bool = False,
) -> CloseReport:
    """Close the incidents named by ``refs``, or all those ``query`` matches that can be closed as
    ``as_status``; ``outcome`` goes to their requests that have none (see
    :func:`~sitrep.incidents.workflow.close_incident`).

    Each incident is closed in its own savepoint: one that is refused is reported and the others are
    closed.  A bulk close needs at least one criterion, so that nothing is closed by accident.
    """
    goal = parse_enum(Status, as_status, "status")
    if not goal.closed:
        raise IncidentError(f"an incident is closed as resolved, rejected or unresolved, not {goal.value}")
    result = parse_enum(Outcome, outcome, "outcome") if outcome else None
    when = parse_when(at, desk.tz) or utcnow()
    names = [r.strip() for r in refs if r.strip()]
    chosen = query or IncidentQuery()
    if names and not chosen.is_empty():
        raise IncidentError("name the incidents by ref or by criteria, not both")
    if not names and chosen.is_empty():
        raise IncidentError("a bulk close needs refs or at least one criterion")
    report = CloseReport(goal.value, dry_run)
    with _writing(desk, dry_run) as session:
        if names:
            incidents = [_load(session, ref) for ref in dict.fromkeys(names)]
        else:
            closable = [s.value for s, nexts in TRANSITIONS.items() if goal in nexts]
            statement = _filtered(session, select(Incident), chosen, desk.tz).where(Incident.status.in_(closable))
            statement = statement.options(selectinload(Incident.requests).selectinload(CoordinationRequest.partner))
            incidents = list(session.scalars(statement.order_by(Incident.id)))
        for incident in incidents:
            try:
                with session.begin_nested():
                    close_incident(session, incident, goal, actor=actor, at=when, outcome=result, sla=desk.sla)
            except IncidentError as exc:
                session.expire(incident)
                report.refused.append(Refused.of(incident.ref, exc))
                continue
            report.closed.append(incident.ref)
    return report


@dataclass
class TriageReport:
    """What a (bulk) accept or reject of new incidents did: ``status`` is where they went."""

    status: str
    decided: list[str] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)


def triage_incidents(
    desk: Desk,
    refs: Sequence[str],
    as_status: str,
    *,
    actor: str,
    reason: str | None = None,
    at: str | datetime | None = None,
) -> TriageReport:
    """Accept (``triaged``) or reject (``rejected``, with a ``reason``) each new incident of ``refs`` —
    the proposals of the desk, typically — each in its own savepoint: one that is refused (unknown, or
    no longer new because it was decided meanwhile) is reported and the others are decided.

    The reason of a rejection goes on the incident's timeline as a note, beside the audited status
    change.  Accepting is what lets :func:`notify_partners` mail the routed partner.
    """
    goal = parse_enum(Status, as_status, "status")
    if goal not in TRANSITIONS[Status.NEW]:
        allowed = " or ".join(s.value for s in TRANSITIONS[Status.NEW])
        raise IncidentError(f"a new incident is accepted or rejected ({allowed}), not {goal.value}")
    why = plain_text(reason or "", "reason", max_length=MAX_NOTE, multiline=True) if goal is Status.REJECTED else None
    names = list(dict.fromkeys(r.strip() for r in refs if r.strip()))
    if not names:
        raise IncidentError("accepting or rejecting needs at least one ref")
    when = parse_when(at, desk.tz) or utcnow()
    report = TriageReport(goal.value)
    with desk.store.write() as session:
        for ref in names:
            try:
                with session.begin_nested():
                    incident = _load(session, ref, lock=True)
                    if incident.status != Status.NEW.value:
                        raise AlreadyTriaged(incident.ref, incident.status)
                    transition(session, incident, goal, actor=actor, at=when)
                    if why is not None:
                        add_note(session, incident, why, author=actor, at=when)
            except IncidentError as exc:
                report.refused.append(Refused.of(ref, exc))
                continue
            report.decided.append(ref)
    return report


@dataclass
class AssignReport:
    """What a bulk assign did (``owner`` None: the incidents were unassigned)."""

    owner: str | None
    assigned: list[str] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)


def assign_incidents(desk: Desk, refs: Sequence[str], owner: str | None, *, actor: str) -> AssignReport:
    """Give each incident of ``refs`` the owner (None or empty: nobody), each in its own savepoint:
    one that is refused (an unknown ref) is reported and the others are assigned."""
    names = list(dict.fromkeys(r.strip() for r in refs if r.strip()))
    if not names:
        raise IncidentError("a bulk assign needs at least one ref")
    report = AssignReport(optional_text(owner, "owner", max_length=MAX_NAME))
    with desk.store.write() as session:
        for ref in names:
            try:
                with session.begin_nested():
                    set_field(session, _load(session, ref), "owner", report.owner, actor)
            except IncidentError as exc:
                report.refused.append(Refused.of(ref, exc))
                continue
            report.assigned.append(ref)
    return report


def _overdue(session: Session, moment: datetime, owner: str | None, partner: str | None) -> Select[Any]:
    """Requests overdue at ``moment`` (of ``owner``'s incidents, to ``partner``), the longest overdue first."""
    statement = (
        select(CoordinationRequest)
        .join(CoordinationRequest.incident)
        .where(overdue_condition(moment))
        .options(selectinload(CoordinationRequest.partner), selectinload(CoordinationRequest.incident))
        .order_by(CoordinationRequest.due_at, CoordinationRequest.id)
    )
    if owner:
        statement = statement.where(func.lower(Incident.owner) == owner.strip().lower())
    if partner:
        statement = statement.where(CoordinationRequest.partner_id == get_partner(session, partner).id)
    return statement


def _overdue_view(r: CoordinationRequest, moment: datetime, tz: ZoneInfo) -> OverdueView:
    return {
        "ref": r.incident.ref,
        "title": r.incident.title,
        "status": r.incident.status,
        "owner": r.incident.owner,
        "tlp": r.incident.tlp,
        "partner": r.partner.name,
        "partner_type": r.partner.type,
        "sent_at": r.sent_at.astimezone(tz).isoformat() if r.sent_at else None,
        "due_at": r.due_at.astimezone(tz).isoformat() if r.due_at else None,
        "hours_overdue": round((moment - r.due_at).total_seconds() / 3600, 1) if r.due_at else 0.0,
        "reminded_at": r.reminded_at.astimezone(tz).isoformat() if r.reminded_at else None,
    }


def overdue_requests(
    desk: Desk,
    *,
    owner: str | None = None,
    partner: str | None = None,
    now: datetime | None = None,
    limit: int | None = None,
) -> list[OverdueView]:
    """Requests past their due date (:mod:`sitrep.incidents.sla`), the longest overdue first (the
    first ``limit`` of them when given)."""
    moment = now or utcnow()
    with desk.store.read() as session:
        requests = list(session.scalars(_overdue(session, moment, owner, partner).limit(limit)))
    return [_overdue_view(r, moment, desk.tz) for r in requests]


def count_overdue(desk: Desk, *, now: datetime | None = None) -> int:
    """How many requests are past their due date (what :func:`overdue_requests` would list)."""
    with desk.store.read() as session:
        statement = select(func.count()).select_from(CoordinationRequest).join(CoordinationRequest.incident)
        return session.scalar(statement.where(overdue_condition(now or utcnow()))) or 0


def import_incidents(desk: Desk, path: Path, *, actor: str, fmt: str | None = None) -> ImportReport:
    """Import an incident file (CSV or JSON), one transaction for the file, a savepoint per row."""
    with desk.store.write() as session:
        return importer.import_rows(
            session,
            importer.read_records(path, fmt),
            home=desk.home,
            tz=desk.tz,
            actor=actor,
            file=str(path),
            sla=desk.sla,
        )


@dataclass(frozen=True)
class ProposeResult:
    """The proposals of a week (with ``dry_run`` nothing was written)."""

    week: Week
    dry_run: bool
    proposals: list[Proposal]


def propose_incidents(desk: Desk, week: str | None, *, actor: str, dry_run: bool = False) -> ProposeResult:
    """Turn the week's lake events into proposed incidents by the ``[[incidents.propose]]`` rules."""
    # Proposals read the lake (Ibis, DuckDB, Arrow: half a second to import); only this use case needs them.
    from sitrep.incidents.propose import propose

    chosen = week_or_last(week, desk.tz)
    # A dry run writes nothing, so it reads without the write lock (a preview on the web desk holds
    # up no analyst); the proposals' partners stay readable after its session, which a rollback
    # would expire.
    with desk.store.read() if dry_run else desk.store.write() as session:
        proposals = propose(session, desk.workspace, chosen, actor=actor, dry_run=dry_run)
    return ProposeResult(chosen, dry_run, proposals)


def intake_complaints(
    desk: Desk, paths: Sequence[Path], *, actor: str, source: str = "intake", auto_reply: bool | None = None
) -> IntakeReport:
    """Turn saved complaint mails into proposed incidents, or attach them to the open incident that has
    their assets (:mod:`sitrep.incidents.complaints`); ``auto_reply`` overrides
    ``[incidents.complaints] auto_reply``."""
    # Complaint intake reads mail and may send it; only this use case needs those modules.
    from sitrep.incidents.complaints import intake_files

    return intake_files(desk, paths, actor=actor, source=source, auto_reply=auto_reply)


def notify_partners(
    desk: Desk,
    *,
    actor: str,
    dry_run: bool = False,
    out_dir: Path | None = None,
    reminders: bool = True,
    partner: str | None = None,
) -> NotifyReport:
    """Mail partners (or the one named ``partner``) their pending requests and reminders of overdue ones
    (:mod:`sitrep.incidents.notify`)."""
    return send_notifications(desk, actor=actor, dry_run=dry_run, out_dir=out_dir, reminders=reminders, partner=partner)


def notifications_due(desk: Desk) -> dict[str, Due]:
    """By partner name, the requests and reminders :func:`notify_partners` would send now."""
    return notices_due(desk)


def incident_stats(desk: Desk, week: str | None = None) -> WeeklyStats:
    """The week's handling numbers, breakdowns and scorecard (default: the last complete week)."""
    chosen = week_or_last(week, desk.tz)
    with desk.store.read() as session:
        return weekly_stats(session, chosen, tz=desk.tz, no_response_hours=desk.rules.no_response_hours)


# -- partners -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartnerSaved:
    """A partner after ``add``: ``outcome`` is created, updated or unchanged."""

    partner: PartnerView
    outcome: str


def add_partner(
    desk: Desk,
    name: str,
    type: str,
    *,
    actor: str,
    country: str | None = None,
    email: str | None = None,
    language: str | None = None,
    suffixes: Sequence[str] = (),
    asns: Sequence[str | int] = (),
    regions: Sequence[str] = (),
) -> PartnerSaved:
    """Add a partner, or replace the details of the partner with that name (reactivating it)."""
    spec = PartnerSpec.build(
        name=name,
        type=type,
        country=country,
        email=email,
        language=language,
        suffixes=suffixes,
        asns=asns,
        regions=regions,
    )
    with desk.store.write() as session:
        partner, outcome = partners.upsert_partner(session, spec, actor=actor)
        return PartnerSaved(partner_view(partner), outcome)


def list_partners(desk: Desk, type: str | None = None, *, inactive: bool = False) -> list[PartnerView]:
    """The directory in the report's type order (deactivated partners only with ``inactive``)."""
    kind = parse_enum(PartnerType, type, "partner type") if type else None
    with desk.store.read() as session:
        return [partner_view(p) for p in partners.list_partners(session, kind, inactive=inactive)]


class PartnerRequestView(TypedDict):
    """A request to the partner, for ``partners show``."""

    ref: str
    title: str
    status: str
    sent_at: str | None
    acknowledged_at: str | None
    actioned_at: str | None
    outcome: str | None
    due_at: str | None
    overdue: bool


class PartnerDetail(TypedDict):
    """A partner with its requests (the newest ``recent``), how many are open and overdue, and the
    changes of its entry."""

    partner: PartnerView
    requests: int
    open_requests: int
    overdue_requests: int
    recent: list[PartnerRequestView]
    audit: list[AuditView]


def show_partner(desk: Desk, name: str, *, recent: int = 20) -> PartnerDetail:
    """One partner of the directory with its coordination requests."""
    tz, now = desk.tz, utcnow()

    def when(moment: datetime | None) -> str | None:
        return moment.astimezone(tz).isoformat() if moment else None

    with desk.store.read() as session:
        partner = get_partner(session, name)
        mine = select(func.count()).select_from(CoordinationRequest).join(CoordinationRequest.incident)
        mine = mine.where(CoordinationRequest.partner_id == partner.id)
        total = session.scalar(mine) or 0
        opened = session.scalar(mine.where(Incident.status.in_([s.value for s in OPEN_STATUSES]))) or 0
        overdue = session.scalar(mine.where(overdue_condition(now))) or 0
        latest = session.scalars(
            select(CoordinationRequest)
            .where(CoordinationRequest.partner_id == partner.id)
            .options(selectinload(CoordinationRequest.incident))
            .order_by(CoordinationRequest.id.desc())
            .limit(recent)
        ).all()
        audit = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity == "partner", AuditEntry.entity_id == partner.id)
            .order_by(AuditEntry.id)
        ).all()
        return {
            "partner": partner_view(partner),
            "requests": total,
            "open_requests": opened,
            "overdue_requests": overdue,
            "recent": [
                {
                    "ref": r.incident.ref,
                    "title": r.incident.title,
                    "status": r.incident.status,
                    "sent_at": when(r.sent_at),
                    "acknowledged_at": when(r.acknowledged_at),
                    "actioned_at": when(r.actioned_at),
                    "outcome": r.outcome,
                    "due_at": when(r.due_at),
                    "overdue": is_overdue(r, now),
                }
                for r in latest
            ],
            "audit": [audit_view(e, tz) for e in audit],
        }


def remove_partner(desk: Desk, name: str, *, actor: str, deactivate: bool = False) -> str:
    """Delete a partner no request names, or with ``deactivate`` keep it and stop new requests to it.

    Returns ``removed``, ``deactivated`` or ``already deactivated``; removing a partner that requests
    name raises :class:`~sitrep.incidents.errors.PartnerInUse`.
    """
    with desk.store.write() as session:
        partner = get_partner(session, name)
        if deactivate:
            return (
                "deactivated" if partners.deactivate_partner(session, partner, actor=actor) else "already deactivated"
            )
        partners.remove_partner(session, partner, actor=actor)
        return "removed"


def import_partners(desk: Desk, path: Path, *, actor: str, fmt: str | None = None) -> ImportReport:
    """Import a partner list (CSV or JSON), upserting by name; bad rows are reported with their line."""
    with desk.store.write() as session:
        return partners.import_partners(session, path, actor=actor, fmt=fmt)


class PartnerScorecard(TypedDict):
    """``partners scorecard``: the requests sent in ``weeks`` weeks ending with ``last_week``."""

    weeks: int
    first_week: str
    last_week: str
    start: str
    end: str
    scorecard: Scorecard


def partner_scorecard(desk: Desk, *, weeks: int = 4, week: str | None = None) -> PartnerScorecard:
    """Per partner and per type: requests sent, answers, median hours to acknowledge and to take down,
    and the share with no response, over the ``weeks`` weeks ending with ``week`` (default the last
    complete one), by the definition the weekly scorecard uses (:mod:`sitrep.incidents.scorecard`)."""
    if not 1 <= weeks <= 520:
        raise IncidentError(f"weeks {weeks} is not between 1 and 520")
    last = week_or_last(week, desk.tz)
    first = last - (weeks - 1)
    start, end = first.bounds(desk.tz)[0], last.bounds(desk.tz)[1]
    with desk.store.read() as session:
        card = score(sent_requests(session, start, end), as_of=end, no_response_hours=desk.rules.no_response_hours)
    return {
        "weeks": weeks,
        "first_week": str(first),
        "last_week": str(last),
        "start": start.astimezone(desk.tz).isoformat(),
        "end": end.astimezone(desk.tz).isoformat(),
        "scorecard": card,
    }


# -- coordination requests and notes of one incident ---------------------------------------------------


@dataclass(frozen=True)
class RequestChanges:
    """Progress of a coordination request: stage times (ISO 8601 or ``now``), the outcome and the due
    date; None leaves a value as it is (a recorded stage is corrected, never erased)."""

    sent: str | datetime | None = None
    acknowledged: str | datetime | None = None
    actioned: str | datetime | None = None
    verified: str | datetime | None = None
    outcome: str | None = None
    due: str | datetime | None = None

    def parsed(self, tz: ZoneInfo, now: datetime) -> dict[str, Any]:
        """The changes as :func:`~sitrep.incidents.workflow.update_request` takes them."""
        return {
            "sent_at": parse_when(self.sent, tz, now),
            "acknowledged_at": parse_when(self.acknowledged, tz, now),
            "actioned_at": parse_when(self.actioned, tz, now),
            "verified_at": parse_when(self.verified, tz, now),
            "due_at": parse_when(self.due, tz, now),
            "outcome": parse_enum(Outcome, self.outcome, "outcome") if self.outcome else None,
        }


def _request_of(session: Session, incident: Incident, partner: str) -> CoordinationRequest:
    chosen = get_partner(session, partner)
    for request in incident.requests:
        if request.partner_id == chosen.id:
            return request
    raise UnknownRequest(incident.ref, chosen.name)


def _request(desk: Desk, request: CoordinationRequest) -> RequestView:
    return request_view(request, desk.tz, overdue=is_overdue(request, utcnow()))


def list_requests(desk: Desk, ref: str) -> list[RequestView]:
    """The coordination requests of incident ``ref``, in the order they were opened."""
    with desk.store.read() as session:
        return [_request(desk, r) for r in _load(session, ref).requests]


def show_request(desk: Desk, ref: str, partner: str) -> RequestView:
    """The request of incident ``ref`` to ``partner``."""
    with desk.store.read() as session:
        return _request(desk, _request_of(session, _load(session, ref), partner))


def open_request(
    desk: Desk,
    ref: str,
    partner: str,
    *,
    actor: str,
    sent: str | datetime | None = None,
    due: str | datetime | None = None,
    note: str | None = None,
) -> RequestView:
    """Open the coordination request of incident ``ref`` to ``partner``, sent at ``sent`` (or not yet)
    and due at ``due`` or, once sent, by the SLA of the partner's type; ``note`` goes on the
    incident's timeline.  One request per partner: a second is :class:`RequestExists`."""
    stages = RequestChanges(sent=sent, due=due).parsed(desk.tz, utcnow())
    with desk.store.write() as session:
        incident = _load(session, ref, lock=True)
        request, new = add_request(session, incident, get_partner(session, partner), actor=actor)
        if not new:
            raise RequestExists(incident.ref, request.partner.name)
        session.flush()  # the request's id names it in the audit trail
        update_request(session, request, actor=actor, sla=desk.sla, **stages)
        if note is not None:
            add_note(session, incident, note, author=actor)
        refresh_cross_border(session, incident, desk.home, actor=actor)
        session.flush()
        return _request(desk, request)


def change_request(
    desk: Desk, ref: str, partner: str, changes: RequestChanges, *, actor: str, if_version: str | None = None
) -> RequestView:
    """Record the progress of the request of incident ``ref`` to ``partner``, every change audited.

    With ``if_version`` (the ``version`` of the request read before) the change is made only if the
    request is still at that version, else :class:`StaleRequest`: a note or another partner's request
    meanwhile does not stop it.
    """
    stages = changes.parsed(desk.tz, utcnow())
    with desk.store.write() as session:
        incident = _load(session, ref, lock=if_version is not None)
        request = _request_of(session, incident, partner)
        current = request_version(request)
        if if_version is not None and current != if_version.strip():
            raise StaleRequest(incident.ref, request.partner.name, if_version.strip(), current)
        update_request(session, request, actor=actor, sla=desk.sla, **stages)
        session.flush()
        return _request(desk, request)


def list_notes(desk: Desk, ref: str) -> list[NoteView]:
    """The notes of incident ``ref``, in the order they were entered."""
    with desk.store.read() as session:
        return [note_view(n, desk.tz) for n in _load(session, ref).notes]


@dataclass(frozen=True)
class OverduePage:
    """One page of the overdue requests, the longest overdue first; ``next_after`` continues it."""

    requests: list[OverdueView]
    next_after: str | None


def overdue_page(
    desk: Desk,
    *,
    owner: str | None = None,
    partner: str | None = None,
    limit: int = 200,
    after: str | None = None,
    now: datetime | None = None,
) -> OverduePage:
    """:func:`overdue_requests`, ``limit`` at a time: pages are keyed by the last request of the
    previous page (``after``), so a request that becomes overdue meanwhile comes last, not twice."""
    if not 1 <= limit <= MAX_PAGE:
        raise IncidentError(f"limit {limit} is not between 1 and {MAX_PAGE}")
    moment = now or utcnow()
    with desk.store.read() as session:
        statement = _overdue(session, moment, owner, partner)
        if after:
            last = session.get(CoordinationRequest, _cursor_id(after))
            if last is None or last.due_at is None:
                raise IncidentError(f"cursor {after!r} is not one this listing gave")
            statement = statement.where(
                or_(
                    CoordinationRequest.due_at > last.due_at,
                    and_(CoordinationRequest.due_at == last.due_at, CoordinationRequest.id > last.id),
                )
            )
        rows = list(session.scalars(statement.limit(limit + 1)))
    shown = rows[:limit]
    return OverduePage(
        [_overdue_view(r, moment, desk.tz) for r in shown], str(shown[-1].id) if len(rows) > limit else None
    )


def _cursor_id(cursor: str) -> int:
    """The request id a cursor of :func:`overdue_page` names (0, no request, for anything else)."""
    text = cursor.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else 0
