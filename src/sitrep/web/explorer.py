"""The event explorer's pages: the search form over :func:`sitrep.metrics.explore.search_events`, pages
by cursor, CSV and Parquet downloads (:func:`~sitrep.metrics.explore.export_events`), the events
behind a number of a week's report (:func:`~sitrep.metrics.explore.events_behind`) and the incidents
behind an incident-handling number (:func:`sitrep.report.behind.incidents_behind`).  An events page
also names the incidents its events are linked to (:func:`sitrep.incidents.service.incidents_of_events`).

A search the core refuses (a bad network, an unbounded or too long window, a stale cursor) is shown
on the page with the core's message, next to the form as the user filled it.  Like the core, these
pages show restricted (TLP:AMBER/RED) events to logged-in users only.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from sitrep.accounts.roles import Action
from sitrep.incidents import service
from sitrep.incidents.service import LinkedIncident
from sitrep.incidents.views import IncidentSummary
from sitrep.metrics.explore import (
    DEFAULT_LIMIT,
    EXPORT_FORMATS,
    NUMBERS,
    ExploreError,
    events_behind,
    export_events,
    search_events,
    window,
)
from sitrep.metrics.explore_model import EventPage, EventQuery
from sitrep.report.archive import IssueError
from sitrep.report.behind import IncidentsBehind, incidents_behind
from sitrep.report.facts_model import INCIDENT_NUMBERS
from sitrep.taxonomy import INDICATORS
from sitrep.web.auth import needs, visitor
from sitrep.web.desk import PAGE_SIZE, Labels, incident_url, when
from sitrep.web.errors import BadRequest
from sitrep.web.i18n import text
from sitrep.web.render import page
from sitrep.weeks import Week

router = APIRouter()
TEXT = Annotated[str, Query(max_length=500)]
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}
# The form's fields, in the order of the form, and the EventQuery field each fills.
FORM_FIELDS = ("event", "ip", "domain", "url", "feed", "class", "tlp", "week", "start", "end")
QUERY_FIELD = {"class": "classification", "event": "event_id"}


@dataclass(frozen=True)
class SearchForm:
    """The search as typed (empty fields left out) and the page size."""

    values: dict[str, str]
    limit: str

    def query(self, after: str | None = None) -> EventQuery:
        """The core's query; raises ExploreError for a page size that is not a number."""
        try:
            limit = int(self.limit) if self.limit else DEFAULT_LIMIT
        except ValueError:
            raise ExploreError(f"limit {self.limit!r} is not a number of events") from None
        chosen = {QUERY_FIELD.get(k, k): v for k, v in self.values.items()}
        return EventQuery(**chosen, limit=limit, after=after or None)

    def link(self, path: str, **more: str) -> str:
        """``path`` with this search in its query string (and ``more``)."""
        params = {**self.values, **({"limit": self.limit} if self.limit else {}), **more}
        return f"{path}?{urlencode(params)}" if params else path


def _form(request: Request) -> SearchForm:
    given = request.query_params
    values = {k: given[k].strip() for k in FORM_FIELDS if given.get(k, "").strip()}
    return SearchForm(values, given.get("limit", "").strip())


@router.get("/events", dependencies=[needs(Action.VIEW)], include_in_schema=False)
def search_page(
    request: Request,
    event: TEXT = "",
    ip: TEXT = "",
    domain: TEXT = "",
    url: TEXT = "",
    feed: TEXT = "",
    classification: Annotated[str, Query(alias="class", max_length=200)] = "",
    tlp: TEXT = "",
    week: TEXT = "",
    start: TEXT = "",
    end: TEXT = "",
    limit: TEXT = "",
    after: Annotated[str, Query(max_length=2000)] = "",
) -> Response:
    """The search form and one page of what it finds, newest first (default: the last complete week)."""
    form = _form(request)
    result: EventPage | None = None
    problem: str | None = None
    try:
        result = search_events(request.app.state.workspace, form.query(after))
    except ExploreError as exc:
        problem = str(exc)
    return page(
        request,
        "explorer.html",
        status=400 if problem else 200,
        form=form,
        result=result,
        problem=problem,
        next_link=form.link("/events", after=result.next_cursor) if result and result.next_cursor else None,
        first_link=form.link("/events") if after else None,
        exports={fmt: form.link(f"/events/export.{fmt}") for fmt in EXPORT_FORMATS},
        **_linked(request, result),
    )


def _linked(request: Request, result: EventPage | None) -> dict[str, object]:
    """What an events page shows of the incidents its events are linked to: the incidents, and by
    event the refs (one query for the page's events: bounded by the page size)."""
    found: list[LinkedIncident] = []
    if result is not None and result.events:
        found = service.incidents_of_events(request.app.state.desk, [e.event_id for e in result.events])
    refs_of: dict[str, list[str]] = {}
    for incident in found:
        for event_id in incident["events"]:
            refs_of.setdefault(event_id, []).append(incident["ref"])
    return {"linked": found, "refs_of": refs_of, "incident_url": incident_url, "L": Labels(visitor(request).lang)}


@router.get("/events/export.{fmt}", dependencies=[needs(Action.VIEW)], include_in_schema=False)
def export(request: Request, fmt: str) -> Response:
    """Every event of the search as a CSV (formula cells neutralised) or Parquet download."""
    if fmt not in EXPORT_FORMATS:
        raise BadRequest(f"export format {fmt!r}: use {' or '.join(EXPORT_FORMATS)}")
    workspace = request.app.state.workspace
    query = replace(_form(request).query(), limit=DEFAULT_LIMIT)
    folder = Path(tempfile.mkdtemp(prefix="sitrep-export-"))
    try:
        start, end = window(workspace, query)
        name = f"events-{start:%Y%m%dT%H%MZ}-{end:%Y%m%dT%H%MZ}.{fmt}"
        written = export_events(workspace, query, folder / name, fmt)
    except ExploreError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise BadRequest(str(exc)) from None
    return FileResponse(
        written.path,
        media_type=MEDIA_TYPES[fmt],
        filename=name,
        headers={"Cache-Control": "no-store", "X-Sitrep-Events": str(written.events)},
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


def number_label(lang: str, number: str) -> str:
    """A report number's name in ``lang`` (the indicator's label, with its key)."""
    for key, zh, en in INDICATORS:
        if key == number:
            return f"{zh if lang == 'zh' else en} ({key})"
    return text(lang, "malware_hosting") if number == "malware_hosting" else number


@router.get("/events/behind", dependencies=[needs(Action.VIEW)], include_in_schema=False)
def behind_page(
    request: Request,
    week: TEXT = "",
    number: Annotated[str, Query(max_length=100)] = "",
    limit: TEXT = "",
    after: Annotated[str, Query(max_length=2000)] = "",
) -> Response:
    """The events behind one number of a week's report (frozen when the week is published)."""
    lang = visitor(request).lang
    result: EventPage | None = None
    problem: str | None = None
    week = week.strip() or str(Week.last_complete(request.app.state.workspace.timezone))
    base = {"week": week, "number": number, **({"limit": limit} if limit else {})}
    try:
        size = int(limit) if limit else DEFAULT_LIMIT
        result = events_behind(request.app.state.workspace, week, number, limit=size, after=after or None)
    except ValueError as exc:  # ExploreError, or a page size that is not a number
        problem = str(exc) if isinstance(exc, ExploreError) else f"limit {limit!r} is not a number of events"
    except IssueError as exc:
        problem = str(exc)
    return page(
        request,
        "explorer_behind.html",
        status=400 if problem else 200,
        week=week,
        number=number,
        label=number_label(lang, number),
        numbers=[(key, number_label(lang, key)) for key in NUMBERS],
        result=result,
        problem=problem,
        next_link=f"/events/behind?{urlencode({**base, 'after': result.next_cursor})}"
        if result and result.next_cursor
        else None,
        first_link=f"/events/behind?{urlencode(base)}" if after else None,
        **_linked(request, result),
    )


def incident_number_label(lang: str, number: str) -> str:
    """An incident-handling number's name in ``lang``."""
    return text(lang, f"num_{number}") if number in INCIDENT_NUMBERS else number


def incidents_behind_url(week: Week | str, number: str, **more: str) -> str:
    """The page of the incidents behind ``number`` of ``week``."""
    return f"/incidents/behind?{urlencode({'week': str(week), 'number': number, **more})}"


@router.get("/incidents/behind", dependencies=[needs(Action.VIEW)], include_in_schema=False)
def incidents_behind_page(
    request: Request,
    week: TEXT = "",
    number: Annotated[str, Query(max_length=100)] = "",
    after: Annotated[str, Query(max_length=300)] = "",
) -> Response:
    """The incidents behind one incident-handling number of a week's report (frozen when published)."""
    lang = visitor(request).lang
    state = request.app.state
    week = week.strip() or str(Week.last_complete(state.workspace.timezone))
    found: IncidentsBehind | None = None
    problem: str | None = None
    rows: list[IncidentSummary] = []
    try:
        found = incidents_behind(state.workspace, Week.parse(week), number, limit=PAGE_SIZE, after=after or None)
        rows = service.incident_summaries(state.desk, found.refs)
    except (ValueError, IssueError) as exc:  # a bad week, number or page; a damaged issue file
        problem = str(exc)
    known = {r["ref"] for r in rows}
    return page(
        request,
        "incidents_behind.html",
        status=400 if problem else 200,
        week=week,
        number=number,
        label=incident_number_label(lang, number),
        numbers=[(key, incident_number_label(lang, key)) for key in INCIDENT_NUMBERS],
        found=found,
        rows=rows,
        missing=[r for r in found.refs if r not in known] if found else [],
        problem=problem,
        next_link=incidents_behind_url(week, number, after=found.next_after) if found and found.next_after else None,
        first_link=incidents_behind_url(week, number) if after else None,
        L=Labels(lang),
        when=when,
        incident_url=incident_url,
    )
