"""The endpoints of ``/api/v1``: each parses its parameters, calls one core function and returns its
typed result.  Listings are paged by cursor: ``limit`` and ``cursor`` in, ``items`` and a ``next``
link out."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from sitrep.accounts.roles import Action
from sitrep.accounts.service import UserView
from sitrep.incidents import service
from sitrep.incidents.views import IncidentDetail, IncidentSummary, PartnerView
from sitrep.metrics.explore import search_events
from sitrep.metrics.explore_model import EventQuery
from sitrep.metrics.weekly import compute
from sitrep.report.publish import editions
from sitrep.web.api.caller import allowed, desk_of

router = APIRouter()
Viewer = Annotated[UserView, Depends(allowed(Action.VIEW))]
Editor = Annotated[UserView, Depends(allowed(Action.EDIT_INCIDENTS))]
Limit = Annotated[int, Query(ge=1, le=service.MAX_PAGE, description="Items per page.")]
Cursor = Annotated[str | None, Query(description="The `next` cursor of the previous page.")]


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

    title: str = Field(min_length=1, max_length=500)
    category: str
    ref: str | None = None
    assets: list[str] = []
    partners: list[str] = []
    reporter: str | None = None
    reporter_country: str | None = None
    reported_via: str = "monitoring"
    reported_at: str | None = Field(None, description="ISO 8601; without an offset, the workspace time zone.")
    grade: str = "一般"
    tlp: str = "AMBER"
    events: list[str] = []
    owner: str | None = None


def _next(request: Request, cursor: str | None) -> str | None:
    return str(request.url.include_query_params(cursor=cursor)) if cursor else None


@router.get("/incidents", tags=["incidents"])
def list_incidents(
    request: Request,
    _: Viewer,
    status: Annotated[list[str] | None, Query(description="Only these statuses (repeatable).")] = None,
    open: Annotated[bool, Query(description="Only open incidents.")] = False,
    category: str | None = None,
    owner: str | None = None,
    partner: Annotated[str | None, Query(description="With a coordination request to this partner.")] = None,
    week: Annotated[str | None, Query(description="Resolved in this ISO week.")] = None,
    search: Annotated[str | None, Query(description="In the ref or the title.")] = None,
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
    return IncidentPage(items=page.incidents, next=_next(request, page.next_after))


class IncidentPatch(BaseModel):
    """What to change; a field left out is not changed.  Request times and ``outcome`` apply to the
    request to ``partner`` (opened when there is none); times are ISO 8601 or ``now``."""

    model_config = ConfigDict(extra="forbid")

    status: str | None = None
    at: str | None = Field(None, description="When the status change took effect (default now).")
    title: str | None = None
    category: str | None = None
    grade: str | None = None
    tlp: str | None = None
    owner: str | None = Field(None, description='The analyst who handles it ("" for nobody).')
    add_assets: list[str] = []
    events: list[str] = []
    cross_border: str | None = Field(None, description="yes, no or derive (yes/no need a reason).")
    reason: str | None = None
    partner: str | None = None
    sent: str | None = None
    acknowledged: str | None = None
    actioned: str | None = None
    verified: str | None = None
    outcome: str | None = None
    due: str | None = None


def _etag(detail: IncidentDetail) -> str:
    return f'"{detail["version"]}"'


@router.get("/incidents/{ref}", tags=["incidents"])
def show_incident(request: Request, response: Response, ref: str, _: Viewer) -> IncidentDetail:
    """One incident with its assets, events, coordination requests, notes and audit trail; its
    ``ETag`` is what a change sends back as ``If-Match``."""
    detail = service.show_incident(desk_of(request), ref)
    response.headers["ETag"] = _etag(detail)
    return detail


@router.patch("/incidents/{ref}", tags=["incidents"])
def change_incident(
    request: Request,
    response: Response,
    ref: str,
    body: IncidentPatch,
    user: Editor,
    if_match: Annotated[str | None, Header(description="The ETag of the version the change is made against.")] = None,
) -> IncidentDetail:
    """Change an incident made against the version its ``ETag`` names: 428 without ``If-Match``, 412
    when the incident changed since.  Every change is audited with the caller."""
    if not if_match:
        raise HTTPException(428, "send If-Match with the ETag of the incident as you read it")
    detail = service.update_incident(
        desk_of(request),
        ref,
        service.IncidentChanges(**body.model_dump()),
        actor=user.name,
        if_version=if_match.removeprefix("W/").strip('"'),
    )
    response.headers["ETag"] = _etag(detail)
    return detail


def _client_key(user: UserView, key: str | None, body: BaseModel) -> service.ClientKey | None:
    if key is None:
        return None
    if not 1 <= len(key) <= 200 or not key.isprintable():
        raise HTTPException(400, "Idempotency-Key must be 1 to 200 printable characters")
    digest = hashlib.sha256(json.dumps(body.model_dump(), sort_keys=True).encode()).hexdigest()
    return service.ClientKey(f"{user.name}\x1f{key}", digest)  # keys are the client's: one per user


@router.post("/incidents", status_code=201, tags=["incidents"])
def add_incident(
    request: Request,
    response: Response,
    body: NewIncident,
    user: Editor,
    idempotency_key: Annotated[
        str | None,
        Header(description="Send the same key when retrying: the retry returns the incident the first created."),
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


@router.get("/partners", tags=["partners"])
def list_partners(
    request: Request,
    _: Viewer,
    type: Annotated[str | None, Query(description="Only partners of this type.")] = None,
    inactive: Annotated[bool, Query(description="Include deactivated partners.")] = False,
) -> list[PartnerView]:
    """The partner directory."""
    return service.list_partners(desk_of(request), type, inactive=inactive)


@router.get("/metrics/{week}", tags=["metrics"])
def week_metrics(request: Request, week: str, _: Viewer) -> dict[str, Any]:
    """A week's 8 key indicators with last week's values and the breakdowns (``sitrep.metrics/1``)."""
    desk = desk_of(request)
    return compute(desk.workspace, service.week_or_last(week, desk.tz)).as_dict()


@router.get("/events", tags=["events"])
def search(
    request: Request,
    _: Viewer,
    week: Annotated[str | None, Query(description="ISO week (default: the last complete week).")] = None,
    start: Annotated[str | None, Query(description="Window start, with end instead of week.")] = None,
    end: Annotated[str | None, Query(description="Window end (exclusive).")] = None,
    ip: Annotated[str | None, Query(description="An address or a CIDR network.")] = None,
    domain: Annotated[str | None, Query(description="The site is the host or under it.")] = None,
    url: Annotated[str | None, Query(description="Exact, or a prefix ending in *.")] = None,
    feed: str | None = None,
    classification: Annotated[str | None, Query(description="taxonomy[/type[/identifier]]")] = None,
    tlp: str | None = None,
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
        next=_next(request, page.next_cursor),
    )


@router.get("/reports/{week}", tags=["reports"])
def report(request: Request, week: str, _: Viewer) -> dict[str, Any]:
    """The numbers of a week's report as its public JSON (``sitrep.report/1``): the published issue's
    frozen numbers, else a draft's; restricted details redacted."""
    desk = desk_of(request)
    return editions(desk.workspace, service.week_or_last(week, desk.tz), ["en"])[0].data
