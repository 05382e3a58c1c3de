"""The incident desk: the list (filters, cursor pages, bulk resolve and assign), an incident's page
(fields, assets, events, coordination requests, notes, the timeline) and the forms that change it.

Each route parses the request, calls one use case of :mod:`sitrep.incidents.service` and renders.  A
refusal of the core is shown on the page, in the user's language and naming the value
(:func:`refusal`), never as a 500.  The forms that change an incident carry the version it was read
at, so a change made against a stale page is refused rather than overwriting someone else's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import FileResponse, RedirectResponse

from sitrep.accounts import service as accounts
from sitrep.accounts.roles import Action, may
from sitrep.config import Workspace
from sitrep.incidents import service
from sitrep.incidents.errors import (
    DuplicateRef,
    IllegalTransition,
    InactivePartner,
    StaleIncident,
    UnknownIncident,
    UnknownPartner,
)
from sitrep.incidents.models import utcnow
from sitrep.incidents.views import IncidentDetail, timeline
from sitrep.incidents.vocabulary import Grade, Outcome, ReportedVia, Status
from sitrep.incidents.workflow import allowed_next
from sitrep.metrics.explore import days_around
from sitrep.taxonomy import TLP, IncidentCategory, PartnerType
from sitrep.web.auth import needs, visitor
from sitrep.web.errors import NotFound
from sitrep.web.i18n import text
from sitrep.web.render import page

router = APIRouter()
PAGE_SIZE = 50
SHORT = 300  # the longest one-line field a form takes (titles, names, times)
LONG = 10_000  # notes and asset lists
# What a form that worked says on the page it leads to (?done=...).
DONE = frozenset({"created", "saved", "assigned", "noted", "request", "resolved"})

ShortField = Annotated[str, Form(max_length=SHORT)]
LongField = Annotated[str, Form(max_length=LONG)]


def incident_url(ref: str, **query: str) -> str:
    """The page of incident ``ref`` (any character of a ref is safe in it)."""
    return f"/incidents/{quote(ref, safe='')}" + (f"?{urlencode(query)}" if query else "")


def event_finder(workspace: Workspace, reported_at: str | None) -> Callable[[str], str]:
    """The explorer's link to each event of an incident reported at ``reported_at``: a search for the
    event ID over the longest window a search may cover, around the report (every lake query is
    bounded in time)."""
    moment = datetime.fromisoformat(reported_at) if reported_at else utcnow()
    first, last = days_around(workspace, moment)
    return lambda event_id: "/events?" + urlencode({"event": event_id, "start": str(first), "end": str(last)})


class Labels:
    """The words the desk shows for the stored values, in one language: from the taxonomy and the
    vocabularies where they have them, else from :mod:`sitrep.web.i18n`."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def status(self, value: str) -> str:
        return text(self.lang, f"status_{value}") if value in Status.__members__.values() else value

    def category(self, value: str) -> str:
        try:
            kind = IncidentCategory(value)
        except ValueError:
            return value
        return kind.zh if self.lang == "zh" else kind.en

    def grade(self, value: str) -> str:
        try:
            grade = Grade(value)
        except ValueError:
            return value
        return grade.value if self.lang == "zh" else grade.en

    def via(self, value: str) -> str:
        return text(self.lang, f"via_{value}") if value in ReportedVia.__members__.values() else value

    def outcome(self, value: str | None) -> str:
        if not value:
            return ""
        return text(self.lang, f"outcome_{value}") if value in Outcome.__members__.values() else value

    def partner_type(self, value: str) -> str:
        try:
            kind = PartnerType(value)
        except ValueError:
            return value
        return kind.zh if self.lang == "zh" else kind.en


def when(stamp: str | None) -> str:
    """An ISO time of a view as the desk shows it: local time to the minute."""
    return (stamp or "")[:16].replace("T", " ")


def refusal(lang: str, exc: ValueError) -> str:
    """What the core refused, in ``lang``, naming the value (the core's own words where no
    translation says more)."""
    labels = Labels(lang)
    if isinstance(exc, StaleIncident):
        return text(lang, "err_stale", ref=exc.ref)
    if isinstance(exc, IllegalTransition):
        allowed = "、".join(labels.status(s) for s in exc.allowed) if lang == "zh" else ", ".join(exc.allowed)
        return text(
            lang,
            "err_transition",
            ref=exc.ref,
            current=labels.status(exc.current),
            goal=labels.status(exc.goal),
            allowed=allowed or text(lang, "desk_none"),
        )
    if isinstance(exc, UnknownPartner):
        return text(lang, "err_unknown_partner", name=exc.name)
    if isinstance(exc, InactivePartner):
        return text(lang, "err_inactive_partner", name=exc.name)
    if isinstance(exc, DuplicateRef):
        return text(lang, "err_duplicate_ref", ref=exc.ref)
    if isinstance(exc, UnknownIncident):
        return text(lang, "err_unknown_incident", ref=exc.ref)
    return text(lang, "err_refused", reason=str(exc))


def _status_of(exc: ValueError) -> int:
    return 409 if isinstance(exc, StaleIncident | IllegalTransition) else 400


def user_name(request: Request) -> str:
    """The logged-in user's name, for the audit trail."""
    user = visitor(request).user
    assert user is not None  # every route here needs a logged-in user
    return user.name


def can_edit(request: Request) -> bool:
    """May the visitor change incidents (analyst and up)?"""
    user = visitor(request).user
    return user is not None and may(user.role, Action.EDIT_INCIDENTS)


def _choices(request: Request) -> dict[str, Any]:
    """What the forms offer: the vocabularies, the active partners and the users (as owners)."""
    desk = request.app.state.desk
    return {
        "statuses": list(Status),
        "categories": [c.value for c in IncidentCategory],
        "grades": [g.value for g in Grade],
        "tlps": [t.value for t in TLP],
        "vias": [v.value for v in ReportedVia],
        "outcomes": [o.value for o in Outcome],
        "partners": [p["name"] for p in service.list_partners(desk)],
        "owners": [u.name for u in accounts.list_users(request.app.state.store, inactive=False)],
    }


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


def _multiline(value: str) -> str:
    """A textarea's text with the line breaks the core keeps: browsers send each one as CRLF."""
    return value.replace("\r\n", "\n")


# -- the list -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """The list's filters as the form sent them (echoed back into it and into the page links)."""

    status: list[str] = field(default_factory=list)
    open: bool = False
    category: str = ""
    owner: str = ""
    unassigned: bool = False
    partner: str = ""
    resolved_in: str = ""
    q: str = ""

    def query(self) -> service.IncidentQuery:
        return service.IncidentQuery(
            statuses=[s for s in self.status if s],
            open_only=self.open,
            category=self.category or None,
            owner=self.owner.strip() or None,
            unassigned=self.unassigned,
            partner=self.partner or None,
            resolved_in=self.resolved_in.strip() or None,
            search=self.q.strip() or None,
        )

    def link(self, after: str | None = None) -> str:
        """The list's URL with these filters (and the page after ``after``)."""
        pairs: list[tuple[str, str]] = [("status", s) for s in self.status if s]
        pairs += [(name, "1") for name in ("open", "unassigned") if getattr(self, name)]
        pairs += [
            (name, getattr(self, name))
            for name in ("category", "owner", "partner", "resolved_in", "q")
            if getattr(self, name)
        ]
        if after:
            pairs.append(("after", after))
        return "/incidents" + (f"?{urlencode(pairs)}" if pairs else "")


@router.get("/incidents", dependencies=[needs(Action.VIEW)], include_in_schema=False)
def incident_list(
    request: Request,
    status: Annotated[list[str], Query(max_length=20)] = [],  # noqa: B006 (FastAPI copies it)
    open: bool = False,
    category: Annotated[str, Query(max_length=40)] = "",
    owner: Annotated[str, Query(max_length=SHORT)] = "",
    unassigned: bool = False,
    partner: Annotated[str, Query(max_length=SHORT)] = "",
    resolved_in: Annotated[str, Query(max_length=20)] = "",
    q: Annotated[str, Query(max_length=SHORT)] = "",
    after: Annotated[str | None, Query(max_length=SHORT)] = None,
) -> Response:
    """Incidents matching the filters, newest first, a page at a time (keyed by the last ref shown)."""
    filters = Filters(status, open, category, owner, unassigned, partner, resolved_in, q)
    lang = visitor(request).lang
    error, found = None, service.IncidentPage([], None)
    try:
        found = service.list_incidents(request.app.state.desk, filters.query(), limit=PAGE_SIZE, after=after)
    except ValueError as exc:
        error = refusal(lang, exc)
    return page(
        request,
        "desk/list.html",
        status=400 if error else 200,
        f=filters,
        incidents=found.incidents,
        next_link=filters.link(found.next_after) if found.next_after else None,
        first_link=filters.link() if after else None,
        error=error,
        can_edit=can_edit(request),
        page_size=PAGE_SIZE,
        **_common(request),
    )


def _common(request: Request) -> dict[str, Any]:
    return {"L": Labels(visitor(request).lang), "when": when, "incident_url": incident_url, **_choices(request)}


@router.post("/incidents/bulk", dependencies=[needs(Action.EDIT_INCIDENTS)], include_in_schema=False)
def bulk_change(
    request: Request,
    action: Annotated[str, Form(max_length=20)],
    ref: Annotated[list[str], Form(max_length=1000)] = [],  # noqa: B006 (FastAPI copies it)
    owner: ShortField = "",
    outcome: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Resolve or assign the incidents selected in the list; the page says what was refused."""
    desk, actor, lang = request.app.state.desk, user_name(request), visitor(request).lang
    refs = [r for r in ref if r.strip()]
    result: service.CloseReport | service.AssignReport | None = None
    error = None if refs else text(lang, "desk_bulk_none")
    try:
        if refs and action == "resolve":
            result = service.resolve_incidents(desk, refs, actor=actor, outcome=outcome or None)
        elif refs and action == "assign":
            result = service.assign_incidents(desk, refs, owner, actor=actor)
        elif refs:
            error = text(lang, "bad_request", reason=f"action {action!r}")
    except ValueError as exc:
        error = refusal(lang, exc)
    return page(
        request,
        "desk/bulk.html",
        status=400 if error else 200,
        result=result,
        resolved=isinstance(result, service.CloseReport),
        error=error,
        **_common(request),
    )


# -- creating -------------------------------------------------------------------------------------------


@router.get("/incidents/new", dependencies=[needs(Action.EDIT_INCIDENTS)], include_in_schema=False)
def new_incident_form(request: Request) -> Response:
    """The form for a new incident."""
    return page(request, "desk/new.html", form={}, error=None, **_common(request))


@router.post("/incidents", dependencies=[needs(Action.EDIT_INCIDENTS)], include_in_schema=False)
def create_incident(
    request: Request,
    title: ShortField = "",
    category: ShortField = "",
    ref: ShortField = "",
    tlp: ShortField = TLP.AMBER.value,
    grade: ShortField = Grade.GENERAL.value,
    reported_via: ShortField = ReportedVia.MONITORING.value,
    reported_at: ShortField = "",
    reporter: ShortField = "",
    reporter_country: ShortField = "",
    owner: ShortField = "",
    assets: LongField = "",
    partner: Annotated[list[str], Form(max_length=SHORT)] = [],  # noqa: B006 (FastAPI copies it)
) -> Response:
    """Record a new incident and go to its page; a refusal shows the form again with what was typed."""
    try:
        detail = service.add_incident(
            request.app.state.desk,
            title=title,
            category=category,
            actor=user_name(request),
            ref=ref.strip() or None,
            assets=_lines(assets),
            partner_names=[p for p in partner if p],
            reporter=reporter or None,
            reporter_country=reporter_country or None,
            reported_via=reported_via,
            reported_at=reported_at.strip() or None,
            grade=grade,
            tlp=tlp,
            owner=owner or None,
        )
    except ValueError as exc:
        typed = {
            "title": title,
            "category": category,
            "ref": ref,
            "tlp": tlp,
            "grade": grade,
            "reported_via": reported_via,
            "reported_at": reported_at,
            "reporter": reporter,
            "reporter_country": reporter_country,
            "owner": owner,
            "assets": assets,
            "partner": partner,
        }
        lang = visitor(request).lang
        return page(request, "desk/new.html", status=400, form=typed, error=refusal(lang, exc), **_common(request))
    return RedirectResponse(incident_url(detail["ref"], done="created"), status_code=303)


# -- one incident ---------------------------------------------------------------------------------------


def _incident_page(
    request: Request,
    ref: str,
    *,
    status: int = 200,
    error: str | None = None,
    done: str | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    try:
        detail: IncidentDetail = service.show_incident(request.app.state.desk, ref)
    except UnknownIncident:
        raise NotFound() from None
    current = Status(detail["status"])
    return page(
        request,
        "desk/incident.html",
        status=status,
        d=detail,
        entries=timeline(detail),
        next_statuses=allowed_next(current),
        may_resolve=Status.RESOLVED in allowed_next(current),
        cross_border_choice=(
            "derive" if detail["cross_border_override"] is None else "yes" if detail["cross_border_override"] else "no"
        ),
        error=error,
        done=done if done in DONE else None,
        form=form or {},
        can_edit=can_edit(request),
        event_url=event_finder(request.app.state.workspace, detail["reported_at"]),
        **_common(request),
    )


@router.get("/incidents/{ref:path}/mail/{sha256}.eml", dependencies=[needs(Action.VIEW)], include_in_schema=False)
def complaint_mail(request: Request, ref: str, sha256: str) -> Response:
    """A complaint mail of the incident as it arrived, to download (never shown inline: it is hostile)."""
    try:
        path = service.complaint_mail(request.app.state.desk, ref, sha256)
    except ValueError:
        raise NotFound() from None
    return FileResponse(path, media_type="message/rfc822", filename=f"{sha256}.eml")


@router.get("/incidents/{ref:path}", dependencies=[needs(Action.VIEW)], include_in_schema=False)
def incident_page(request: Request, ref: str, done: Annotated[str | None, Query(max_length=20)] = None) -> Response:
    """One incident: its fields, assets, events, coordination requests, notes and timeline."""
    return _incident_page(request, ref, done=done)


def _change(request: Request, ref: str, done: str, change: Any, form: dict[str, str] | None = None) -> Response:
    """Run ``change`` (a call of the core); on success go back to the page, else show why on it.

    A stale change shows the incident as it is now, without what was typed, so that the other
    analyst's change is seen before anything is submitted again.
    """
    try:
        change()
    except ValueError as exc:
        if isinstance(exc, UnknownIncident) and exc.ref == ref.strip():
            raise NotFound() from None
        kept = None if isinstance(exc, StaleIncident) else form
        lang = visitor(request).lang
        return _incident_page(request, ref, status=_status_of(exc), error=refusal(lang, exc), form=kept)
    return RedirectResponse(incident_url(ref, done=done), status_code=303)


@router.post("/incidents/{ref:path}/edit", dependencies=[needs(Action.EDIT_INCIDENTS)], include_in_schema=False)
def edit_incident(
    request: Request,
    ref: str,
    version: ShortField,
    title: ShortField = "",
    category: ShortField = "",
    grade: ShortField = "",
    tlp: ShortField = "",
    status: ShortField = "",
    at: ShortField = "",
    add_assets: LongField = "",
    cross_border: ShortField = "",
    reason: ShortField = "",
) -> Response:
    """Change the incident's fields, assets, cross-border and status, against the version shown."""
    changes = service.IncidentChanges(
        title=title or None,
        category=category or None,
        grade=grade or None,
        tlp=tlp or None,
        status=status or None,
        at=at.strip() or None,
        add_assets=_lines(add_assets),
        cross_border=cross_border or None,
        reason=reason or None,
    )
    typed = {"title": title, "at": at, "add_assets": add_assets, "reason": reason}
    desk, actor = request.app.state.desk, user_name(request)
    return _change(
        request,
        ref,
        "saved",
        lambda: service.update_incident(desk, ref, changes, actor=actor, if_version=version),
        typed,
    )


@router.post("/incidents/{ref:path}/assign", dependencies=[needs(Action.EDIT_INCIDENTS)], include_in_schema=False)
def assign_incident(request: Request, ref: str, version: ShortField, owner: ShortField = "") -> Response:
    """Give the incident an owner (empty: nobody), against the version shown."""
    desk, actor = request.app.state.desk, user_name(request)
    changes = service.IncidentChanges(owner=owner)
    return _change(
        request,
        ref,
        "assigned",
        lambda: service.update_incident(desk, ref, changes, actor=actor, if_version=version),
        {"owner": owner},
    )


@router.post("/incidents/{ref:path}/note", dependencies=[needs(Action.EDIT_INCIDENTS)], include_in_schema=False)
def add_note(request: Request, ref: str, note: LongField = "", at: ShortField = "") -> Response:
    """Put a note on the incident's timeline (a note overwrites nothing: no version needed)."""
    desk, actor = request.app.state.desk, user_name(request)
    return _change(
        request,
        ref,
        "noted",
        lambda: service.note_incident(desk, ref, _multiline(note), actor=actor, at=at.strip() or None),
        {"note": note, "note_at": at},
    )


@router.post("/incidents/{ref:path}/request", dependencies=[needs(Action.EDIT_INCIDENTS)], include_in_schema=False)
def save_request(
    request: Request,
    ref: str,
    version: ShortField,
    partner: ShortField = "",
    sent: ShortField = "",
    acknowledged: ShortField = "",
    actioned: ShortField = "",
    verified: ShortField = "",
    outcome: ShortField = "",
    due: ShortField = "",
) -> Response:
    """Open the coordination request to a partner, or record its progress, against the version shown."""
    typed = {
        "partner": partner,
        "sent": sent,
        "acknowledged": acknowledged,
        "actioned": actioned,
        "verified": verified,
        "outcome": outcome,
        "due": due,
    }
    changes = service.IncidentChanges(
        partner=partner or None,
        sent=sent.strip() or None,
        acknowledged=acknowledged.strip() or None,
        actioned=actioned.strip() or None,
        verified=verified.strip() or None,
        outcome=outcome or None,
        due=due.strip() or None,
    )
    desk, actor = request.app.state.desk, user_name(request)
    return _change(
        request,
        ref,
        "request",
        lambda: service.update_incident(desk, ref, changes, actor=actor, if_version=version),
        typed,
    )


@router.post("/incidents/{ref:path}/resolve", dependencies=[needs(Action.EDIT_INCIDENTS)], include_in_schema=False)
def resolve_incident(request: Request, ref: str, outcome: ShortField = "", at: ShortField = "") -> Response:
    """Resolve the incident (``outcome`` goes to its requests that have none)."""
    desk, actor = request.app.state.desk, user_name(request)

    def resolve() -> None:
        report = service.resolve_incidents(desk, [ref], actor=actor, outcome=outcome or None, at=at.strip() or None)
        for refused in report.refused:
            raise _Refused(refused.reason)

    return _change(request, ref, "resolved", resolve, {"resolve_at": at})


class _Refused(ValueError):
    """A bulk use case refused the one incident it was given (its reason, as the core stated it)."""
