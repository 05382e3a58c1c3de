"""Coordination requests over ``/api/v1``: an incident's requests (one per partner, named by the
partner), opening one, recording its progress against the version read, and the overdue ones."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from sitrep.incidents import service
from sitrep.incidents.views import OverdueView, RequestView
from sitrep.incidents.vocabulary import Outcome
from sitrep.web.api.caller import desk_of
from sitrep.web.api.params import (
    LONG,
    SHORT,
    Cursor,
    Editor,
    IfMatch,
    Limit,
    PartnerName,
    Ref,
    Viewer,
    etag,
    next_link,
    required_version,
    with_headers,
)
from sitrep.web.api.problems import answers

router = APIRouter(tags=["coordination"])
Time = Annotated[str | None, Field(max_length=SHORT, description="ISO 8601 (local time without an offset) or now.")]


class NewRequest(BaseModel):
    """A request to a partner of the directory about the incident."""

    model_config = ConfigDict(extra="forbid")

    partner: str = Field(
        min_length=1, max_length=SHORT, description="The partner's name in the directory.", examples=["阿里云"]
    )
    sent: Time = Field(None, description="When it was sent (ISO 8601 or now); left out: opened, not sent yet.")
    due: Time = Field(None, description="When the partner should have acted; default: sent + the SLA of its type.")
    note: str | None = Field(None, max_length=LONG, description="A note put on the incident's timeline with it.")


class RequestPatch(BaseModel):
    """Progress of the request; a field left out is not changed (a stage recorded is corrected by
    sending it again, never erased)."""

    model_config = ConfigDict(extra="forbid")

    sent: Time = None
    acknowledged: Time = Field(None, examples=["now"])
    actioned: Time = None
    verified: Time = None
    outcome: Outcome | None = None
    due: Time = None


class OverduePage(BaseModel):
    """A page of overdue requests, the longest overdue first; ``next`` links the following page."""

    items: list[OverdueView]
    next: str | None


def _location(request: Request, ref: str, partner: str) -> str:
    base = str(request.url_for("list_requests", ref=ref)).split("?")[0]
    return f"{base}/{quote(partner, safe='')}"


@router.get("/incidents/{ref}/requests", responses=answers(400, 404))
def list_requests(request: Request, ref: Ref, _: Viewer) -> list[RequestView]:
    """The coordination requests of an incident, in the order they were opened; each has its
    ``version`` (the ``ETag`` a change sends back)."""
    return service.list_requests(desk_of(request), ref)


@router.post(
    "/incidents/{ref}/requests",
    status_code=201,
    responses={**answers(400, 403, 404, 409), **with_headers(201, "ETag", "Location")},
)
def open_request(request: Request, response: Response, ref: Ref, body: NewRequest, user: Editor) -> RequestView:
    """Open the request of an incident to a partner.  One request per partner: a second, and so a
    retry of one that went through, is 409 and changes nothing (the request is at ``Location``)."""
    opened = service.open_request(
        desk_of(request), ref, body.partner, actor=user.name, sent=body.sent, due=body.due, note=body.note
    )
    response.headers["Location"] = _location(request, ref.strip(), opened["partner"])
    response.headers["ETag"] = etag(opened["version"])
    return opened


@router.get("/incidents/{ref}/requests/{partner:path}", responses={**answers(400, 404), **with_headers(200, "ETag")})
def show_request(request: Request, response: Response, ref: Ref, partner: PartnerName, _: Viewer) -> RequestView:
    """The request of an incident to one partner, with its ``ETag``."""
    found = service.show_request(desk_of(request), ref, partner)
    response.headers["ETag"] = etag(found["version"])
    return found


@router.patch(
    "/incidents/{ref}/requests/{partner:path}",
    responses={**answers(400, 403, 404, 409, 412, 428), **with_headers(200, "ETag")},
)
def change_request(
    request: Request,
    response: Response,
    ref: Ref,
    partner: PartnerName,
    body: RequestPatch,
    user: Editor,
    if_match: IfMatch = None,
) -> RequestView:
    """Record the partner's progress against the request's version: 428 without ``If-Match``, 412
    when the request changed since (a note or another partner's request does not count).  Sending
    a stage that is already recorded with the same time changes nothing."""
    version = required_version(if_match, "request")
    changes = service.RequestChanges(**body.model_dump())
    changed = service.change_request(desk_of(request), ref, partner, changes, actor=user.name, if_version=version)
    response.headers["ETag"] = etag(changed["version"])
    return changed


@router.get("/requests/overdue", responses=answers(400, 404))
def overdue(
    request: Request,
    _: Viewer,
    owner: Annotated[str | None, Query(max_length=SHORT, description="Only incidents this analyst handles.")] = None,
    partner: Annotated[str | None, Query(max_length=SHORT, description="Only requests to this partner.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> OverduePage:
    """Requests past their due date while their incident is open and the partner has neither acted
    nor been given an outcome, the longest overdue first."""
    page = service.overdue_page(desk_of(request), owner=owner, partner=partner, limit=limit, after=cursor)
    return OverduePage(items=page.requests, next=next_link(request, page.next_after))
