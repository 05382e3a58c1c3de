"""The endpoints of ``/api/v1``: each parses its parameters, calls one core function and returns its
typed result.  Listings are paged by cursor: ``limit`` and ``cursor`` in, ``items`` and a ``next``
link out."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from sitrep.accounts.service import UserView
from sitrep.incidents import service
from sitrep.incidents.views import IncidentDetail, IncidentSummary, NoteView, PartnerView
from sitrep.metrics.explore import search_events
from sitrep.metrics.explore_model import EventQuery
from sitrep.metrics.weekly import compute
from sitrep.report.publish import editions
from sitrep.web.api.caller import desk_of
from sitrep.web.api.params import (
    LONG,
    SHORT,
    Cursor,
    Editor,
    IfMatch,
    Limit,
    Ref,
    Viewer,
    etag,
    next_link,
    required_version,
    with_headers,
)
from sitrep.web.api.problems import answers

router = APIRouter()
Text = Annotated[str, Field(max_length=SHORT)]
EventId = Annotated[str, Field(max_length=128)]


class IncidentPage(BaseModel):
    """A page of incidents, newest first; ``next`` is the link to the following page (null on the last)."""

    items: list[IncidentSummary]
    next: str | None


class EventsPage(BaseModel):
    """A page of events, newest first, in the searched window ``[start, end)``."""

    start: str
    end: str
    items: list[dict[str, Any]]
    next: str | None


class NewIncident(BaseModel):
    """An incident to record (status new); without ``ref`` it gets the next ``<prefix>-<date>-<n>``."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=500, examples=["仿冒工商银行网站"])
    category: Text = Field(examples=["phishing"])
    ref: str | None = Field(None, max_length=100)
    assets: list[Annotated[str, Field(max_length=LONG)]] = Field([], max_length=1000)
    partners: list[Text] = Field([], max_length=100)
    reporter: str | None = Field(None, max_length=300)
    reporter_country: Text | None = None
    reported_via: Text = "monitoring"
    reported_at: Text | None = Field(None, description="ISO 8601; without an offset, the workspace time zone.")
    grade: Text = "一般"
    tlp: Text = "AMBER"
    events: list[EventId] = Field([], max_length=10_000)
    owner: Text | None = None


@router.get("/incidents", tags=["incidents"], responses=answers(400, 404))
def list_incidents(
    request: Request,
    _: Viewer,
    status: Annotated[
        list[str] | None,
        Query(
            max_length=7,
            description="Only these statuses (repeatable); `proposed`: the new incidents proposed from the lake "
            "or from complaint mails (refs P-…).",
        ),
    ] = None,
    open: Annotated[bool, Query(description="Only open incidents.")] = False,
    category: Annotated[str | None, Query(max_length=SHORT)] = None,
    owner: Annotated[str | None, Query(max_length=SHORT)] = None,
    partner: Annotated[
        str | None, Query(max_length=SHORT, description="With a coordination request to this partner.")
    ] = None,
    week: Annotated[str | None, Query(max_length=20, description="Resolved in this ISO week.")] = None,
    search: Annotated[str | None, Query(max_length=SHORT, description="In the ref or the title.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> IncidentPage:
    """Incidents matching every given filter, newest first."""
    query = service.IncidentQuery(
        statuses=status or [],
        open_only=open,
        category=category,
        owner=owner,
        partner=partner,
        resolved_in=week,
        search=search,
    )
    page = service.list_incidents(desk_of(request), query, limit=limit, after=cursor)
    return IncidentPage(items=page.incidents, next=next_link(request, page.next_after))


class IncidentPatch(BaseModel):
    """What to change; a field left out is not changed.  Request times and ``outcome`` apply to the
    request to ``partner`` (opened when there is none); times are ISO 8601 or ``now``."""

    model_config = ConfigDict(extra="forbid")

    status: Text | None = None
    at: Text | None = Field(None, description="When the status change took effect (default now).")
    title: str | None = Field(None, max_length=500)
    category: Text | None = None
    grade: Text | None = None
    tlp: Text | None = None
    owner: Text | None = Field(None, description='The analyst who handles it ("" for nobody).')
    add_assets: list[Annotated[str, Field(max_length=LONG)]] = Field([], max_length=1000)
    events: list[EventId] = Field([], max_length=10_000)
    cross_border: Text | None = Field(None, description="yes, no or derive (yes/no need a reason).")
    reason: str | None = Field(None, max_length=LONG)
    partner: Text | None = None
    sent: Text | None = None
    acknowledged: Text | None = None
    actioned: Text | None = None
    verified: Text | None = None
    outcome: Text | None = None
    due: Text | None = None


@router.get("/incidents/{ref}", tags=["incidents"], responses={**answers(400, 404), **with_headers(200, "ETag")})
def show_incident(request: Request, response: Response, ref: Ref, _: Viewer) -> IncidentDetail:
    """One incident with its assets, events, coordination requests, notes and audit trail; its
    ``ETag`` is what a change sends back as ``If-Match``."""
    detail = service.show_incident(desk_of(request), ref)
    response.headers["ETag"] = etag(detail["version"])
    return detail


@router.patch(
    "/incidents/{ref}",
    tags=["incidents"],
    responses={**answers(400, 403, 404, 409, 412, 428), **with_headers(200, "ETag")},
)
def change_incident(
    request: Request, response: Response, ref: Ref, body: IncidentPatch, user: Editor, if_match: IfMatch = None
) -> IncidentDetail:
    """Change an incident made against the version its ``ETag`` names: 428 without ``If-Match``, 412
    when the incident changed since.  Every change is audited with the caller."""
    version = required_version(if_match, "incident")
    detail = service.update_incident(
        desk_of(request), ref, service.IncidentChanges(**body.model_dump()), actor=user.name, if_version=version
    )
    response.headers["ETag"] = etag(detail["version"])
    return detail


class NewNote(BaseModel):
    """A note on the incident's timeline; its author is the token's user."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=LONG, description="Line breaks are kept.", examples=["已电话联系注册商"])
    at: Text | None = Field(None, description="When it took effect (default now; not before the report).")


@router.get("/incidents/{ref}/notes", tags=["notes"], responses=answers(400, 404))
def list_notes(request: Request, ref: Ref, _: Viewer) -> list[NoteView]:
    """The notes of an incident, in the order they were entered."""
    return service.list_notes(desk_of(request), ref)


@router.post("/incidents/{ref}/notes", status_code=201, tags=["notes"], responses=answers(400, 403, 404, 409))
def add_note(request: Request, ref: Ref, body: NewNote, user: Editor) -> NoteView:
    """Put a note on an incident's timeline.  A note overwrites nothing, so it needs no ``If-Match``;
    it moves the incident's version.  A retried request adds the note again."""
    return service.note_incident(desk_of(request), ref, body.text, actor=user.name, at=body.at)


def _client_key(user: UserView, key: str | None, body: BaseModel) -> service.ClientKey | None:
    if key is None:
        return None
    if not 1 <= len(key) <= 200 or not key.isprintable():
        raise HTTPException(400, "Idempotency-Key must be 1 to 200 printable characters")
    digest = hashlib.sha256(json.dumps(body.model_dump(), sort_keys=True).encode()).hexdigest()
    return service.ClientKey(f"{user.name}\x1f{key}", digest)  # keys are the client's: one per user


@router.post(
    "/incidents",
    status_code=201,
    tags=["incidents"],
    responses={**answers(400, 403, 404, 409), **with_headers(201, "Location")},
)
def add_incident(
    request: Request,
    response: Response,
    body: NewIncident,
    user: Editor,
    idempotency_key: Annotated[
        str | None,
        Header(
            max_length=200,
            description="Send the same key when retrying: the retry returns the incident the first created.",
        ),
    ] = None,
) -> IncidentDetail:
    """Record a new incident; the caller is its author in the audit trail.  With ``Idempotency-Key``
    a retried request creates one incident (the same key with a different body: 422)."""
    detail = service.add_incident(
        desk_of(request),
        title=body.title,
        category=body.category,
        actor=user.name,
        ref=body.ref,
        assets=body.assets,
        partner_names=body.partners,
        reporter=body.reporter,
        reporter_country=body.reporter_country,
        reported_via=body.reported_via,
        reported_at=body.reported_at,
        grade=body.grade,
        tlp=body.tlp,
        events=body.events,
        owner=body.owner,
        once=_client_key(user, idempotency_key, body),
    )
    response.headers["Location"] = str(request.url_for("show_incident", ref=detail["ref"]))
    return detail


@router.get("/partners", tags=["partners"], responses=answers(400))
def list_partners(
    request: Request,
    _: Viewer,
    type: Annotated[str | None, Query(max_length=SHORT, description="Only partners of this type.")] = None,
    inactive: Annotated[bool, Query(description="Include deactivated partners.")] = False,
) -> list[PartnerView]:
    """The partner directory."""
    return service.list_partners(desk_of(request), type, inactive=inactive)


@router.get("/metrics/{week}", tags=["metrics"], responses=answers(400))
def week_metrics(request: Request, week: str, _: Viewer) -> dict[str, Any]:
    """A week's 8 key indicators with last week's values and the breakdowns (``sitrep.metrics/1``)."""
    desk = desk_of(request)
    return compute(desk.workspace, service.week_or_last(week, desk.tz)).as_dict()


@router.get("/events", tags=["events"], responses=answers(400))
def search(
    request: Request,
    _: Viewer,
    week: Annotated[
        str | None, Query(max_length=SHORT, description="ISO week (default: the last complete week).")
    ] = None,
    start: Annotated[str | None, Query(max_length=SHORT, description="Window start, with end instead of week.")] = None,
    end: Annotated[str | None, Query(max_length=SHORT, description="Window end (exclusive).")] = None,
    ip: Annotated[str | None, Query(max_length=SHORT, description="An address or a CIDR network.")] = None,
    domain: Annotated[str | None, Query(max_length=253, description="The site is the host or under it.")] = None,
    url: Annotated[str | None, Query(max_length=LONG, description="Exact, or a prefix ending in *.")] = None,
    feed: Annotated[str | None, Query(max_length=SHORT)] = None,
    classification: Annotated[str | None, Query(max_length=SHORT, description="taxonomy[/type[/identifier]]")] = None,
    tlp: Annotated[str | None, Query(max_length=SHORT)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    cursor: Cursor = None,
) -> EventsPage:
    """Lake events in a bounded time window, newest first."""
    query = EventQuery(
        ip=ip,
        domain=domain,
        url=url,
        feed=feed,
        classification=classification,
        tlp=tlp,
        week=week,
        start=start,
        end=end,
        limit=limit,
        after=cursor,
    )
    page = search_events(desk_of(request).workspace, query)
    return EventsPage(
        start=page.start,
        end=page.end,
        items=[e.as_dict() for e in page.events],
        next=next_link(request, page.next_cursor),
    )


@router.get("/reports/{week}", tags=["reports"], responses=answers(400))
def report(request: Request, week: str, _: Viewer) -> dict[str, Any]:
    """The numbers of a week's report as its public JSON (``sitrep.report/2``): the published issue's
    frozen numbers, else a draft's; restricted details redacted."""
    desk = desk_of(request)
    return editions(desk.workspace, service.week_or_last(week, desk.tz), ["en"])[0].data
