"""Bulk changes over ``/api/v1``: resolving and assigning a selection of incidents, with what
happened to each.

A retry is safe: an incident the first attempt closed is not closed again (it comes back refused,
being closed), and assigning the owner an incident has already records nothing.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from sitrep.incidents import service
from sitrep.incidents.vocabulary import Outcome
from sitrep.web.api.caller import desk_of
from sitrep.web.api.params import SHORT, Editor
from sitrep.web.api.problems import answers

router = APIRouter(tags=["incidents"])
MAX_BULK = 1000
Refs = list[Annotated[str, Field(max_length=100)]]
Text = Annotated[str | None, Field(max_length=SHORT)]


class IncidentFilter(BaseModel):
    """Which incidents to close when no refs are named; every given criterion must hold."""

    model_config = ConfigDict(extra="forbid")

    status: list[Annotated[str, Field(max_length=20)]] = Field([], max_length=6)
    open: bool = False
    category: Text = None
    owner: Text = None
    unassigned: bool = False
    partner: Text = None
    search: Text = Field(None, description="In the ref or the title.")
    reported_before: Text = Field(None, description="ISO 8601; without an offset, the workspace time zone.")

    def query(self) -> service.IncidentQuery:
        return service.IncidentQuery(
            statuses=self.status,
            open_only=self.open,
            category=self.category,
            owner=self.owner,
            unassigned=self.unassigned,
            partner=self.partner,
            search=self.search,
            reported_before=self.reported_before,
        )


class BulkResolve(BaseModel):
    """Close the incidents named by ``refs``, or every one ``filter`` matches that can be closed."""

    model_config = ConfigDict(extra="forbid")

    refs: Refs = Field([], max_length=MAX_BULK)
    filter: IncidentFilter | None = None
    status: Literal["resolved", "rejected", "unresolved"] = "resolved"
    outcome: Outcome | None = Field(None, description="For their requests that have none.")
    at: Text = Field(None, description="When they were closed (default now).")
    dry_run: bool = Field(False, description="Say what would be closed; change nothing.")


class BulkAssign(BaseModel):
    """Give the incidents named by ``refs`` an owner (null or "" for nobody)."""

    model_config = ConfigDict(extra="forbid")

    refs: Refs = Field(min_length=1, max_length=MAX_BULK)
    owner: Text = None


@router.post("/incidents/bulk/resolve", responses=answers(400, 403, 404))
def resolve(request: Request, body: BulkResolve, user: Editor) -> service.CloseReport:
    """Close a selection of incidents, each on its own: ``closed`` lists those closed, ``refused``
    each one left as it was and why (a status the workflow cannot close from, a request time after
    the close…).  An unknown ref refuses the whole change (404).  A retry closes nothing twice: what
    the first closed comes back refused; with a ``filter`` it closes what matches at the retry."""
    return service.resolve_incidents(
        desk_of(request),
        body.refs,
        body.filter.query() if body.filter else None,
        actor=user.name,
        as_status=body.status,
        outcome=body.outcome,
        at=body.at,
        dry_run=body.dry_run,
    )


@router.post("/incidents/bulk/assign", responses=answers(400, 403))
def assign(request: Request, body: BulkAssign, user: Editor) -> service.AssignReport:
    """Give each incident of ``refs`` the owner: ``assigned`` lists those that have it now,
    ``refused`` each one that could not be (an unknown ref) and why.  A retry assigns the same and
    records nothing new."""
    return service.assign_incidents(desk_of(request), body.refs, body.owner, actor=user.name)
