"""The desk's proposals: a week's lake events turned into proposed incidents
(:func:`sitrep.incidents.service.propose_incidents`, previewed as a dry run first), and the proposed
incidents still ``new`` listed a page at a time to accept (triage) or reject with a reason in bulk
(:func:`~sitrep.incidents.service.triage_incidents`).

A proposal decided meanwhile by someone else (the list was stale) is refused by name and the others
are decided; when every one selected was refused the answer is 409.  Everything rendered is escaped:
the assets come from feeds.
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from sitrep.accounts.roles import Action
from sitrep.incidents import service
from sitrep.incidents.vocabulary import Status
from sitrep.web.auth import needs, visitor
from sitrep.web.desk import LONG, PAGE_SIZE, Labels, can_edit, incident_url, refusal, user_name, when
from sitrep.web.i18n import text
from sitrep.web.render import page
from sitrep.weeks import Week

router = APIRouter()
PREVIEW_ROWS = 200  # a dry run lists this many proposals (and counts them all)
WeekQuery = Annotated[str, Query(max_length=20)]
# What a decision sends: accept → triaged, reject → rejected (the two ways out of new).
DECISIONS = {"accept": Status.TRIAGED.value, "reject": Status.REJECTED.value}


def proposals_url(week: Week | str, **query: str | int) -> str:
    """The proposals page of ``week`` (with ``query``)."""
    return f"/incidents/proposals?{urlencode({'week': str(week), **query})}"


def _week(request: Request, typed: str) -> tuple[Week | None, str | None]:
    """The week typed (default: the last complete one), or the error to show instead."""
    try:
        return service.week_or_last(typed, request.app.state.desk.tz), None
    except ValueError as exc:
        return None, text(visitor(request).lang, "err_refused", reason=str(exc))


def _render(
    request: Request,
    week: Week | None,
    *,
    typed: str = "",
    status: int = 200,
    error: str | None = None,
    after: str | None = None,
    **shown: Any,
) -> Response:
    """The proposals page of ``week``: a page of its pending proposals, and what ``shown`` holds (a
    dry run's ``preview``, the ``run`` just made, the ``decided`` report)."""
    lang = visitor(request).lang
    found = None
    if week is not None:
        try:
            found = service.list_proposed(request.app.state.desk, str(week), limit=PAGE_SIZE, after=after)
        except ValueError as exc:
            error, status = refusal(lang, exc), 400
    context: dict[str, Any] = {"preview": None, "run": None, "decided": None, "reason": "", **shown}
    return page(
        request,
        "desk/proposals.html",
        status=status,
        week=week,
        typed_week=str(week) if week else typed,
        previous=str(week - 1) if week else None,
        following=str(week + 1) if week else None,
        found=found,
        next_link=proposals_url(week, after=found.next_after) if week and found and found.next_after else None,
        first_link=proposals_url(week) if week and after else None,
        error=error,
        can_edit=can_edit(request),
        L=Labels(lang),
        when=when,
        incident_url=incident_url,
        proposals_url=proposals_url,
        page_size=PAGE_SIZE,
        **context,
    )


@router.get("/incidents/proposals", dependencies=[needs(Action.VIEW)], include_in_schema=False)
def proposals_page(
    request: Request,
    week: WeekQuery = "",
    after: Annotated[str | None, Query(max_length=200)] = None,
    created: Annotated[int | None, Query(ge=0)] = None,
    attached: Annotated[int, Query(ge=0)] = 0,
    refused: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """The week's proposed incidents awaiting triage (default: this week when complaints received in
    it await triage, else the last complete week); after a run, what it did (``created``,
    ``attached``, ``refused``)."""
    if week.strip():
        chosen, error = _week(request, week)
    else:
        chosen, error = service.proposals_week(request.app.state.desk), None
    run = {"created": created, "attached": attached, "refused": refused} if created is not None else None
    return _render(request, chosen, typed=week, status=400 if error else 200, error=error, after=after, run=run)


@router.get("/incidents/proposals/preview", dependencies=[needs(Action.EDIT_INCIDENTS)], include_in_schema=False)
def preview(request: Request, week: WeekQuery = "") -> Response:
    """What proposing the week would do, as a dry run: nothing is written."""
    chosen, error = _week(request, week)
    if chosen is None:
        return _render(request, None, typed=week, status=400, error=error)
    result = service.propose_incidents(request.app.state.desk, str(chosen), actor=user_name(request), dry_run=True)
    rows = [p.as_dict() for p in result.proposals]
    summary = Counter(row["action"] for row in rows)
    shown = {"rows": rows[:PREVIEW_ROWS], "total": len(rows), "counts": dict(summary)}
    return _render(request, chosen, preview=shown)


@router.post("/incidents/proposals", dependencies=[needs(Action.EDIT_INCIDENTS)], include_in_schema=False)
def propose(request: Request, week: Annotated[str, Form(max_length=20)] = "") -> Response:
    """Propose the week's incidents from its events, then show them (nothing new for a week proposed
    already: the refs are deterministic)."""
    chosen, error = _week(request, week)
    if chosen is None:
        return _render(request, None, typed=week, status=400, error=error)
    result = service.propose_incidents(request.app.state.desk, str(chosen), actor=user_name(request))
    actions = Counter(p.action for p in result.proposals)
    done = proposals_url(chosen, created=actions["create"], attached=actions["attach"], refused=actions["refused"])
    return RedirectResponse(done, status_code=303)


@router.post("/incidents/proposals/decide", dependencies=[needs(Action.EDIT_INCIDENTS)], include_in_schema=False)
def decide(
    request: Request,
    action: Annotated[str, Form(max_length=20)],
    week: Annotated[str, Form(max_length=20)] = "",
    ref: Annotated[list[str], Form(max_length=1000)] = [],  # noqa: B006 (FastAPI copies it)
    reason: Annotated[str, Form(max_length=LONG)] = "",
) -> Response:
    """Accept (triage) or reject with a reason the selected proposals; the page says what was refused."""
    lang = visitor(request).lang
    chosen, error = _week(request, week)
    refs = [r for r in ref if r.strip()]
    goal = DECISIONS.get(action)
    if error is None and goal is None:
        error = text(lang, "bad_request", reason=f"action {action!r}")
    elif error is None and not refs:
        error = text(lang, "desk_bulk_none")
    elif error is None and goal == Status.REJECTED.value and not reason.strip():
        error = text(lang, "prop_reason_needed")
    if error is not None or goal is None:
        return _render(request, chosen, typed=week, status=400, error=error, reason=reason)
    try:
        report = service.triage_incidents(
            request.app.state.desk, refs, goal, actor=user_name(request), reason=reason.replace("\r\n", "\n") or None
        )
    except ValueError as exc:
        return _render(request, chosen, status=400, error=refusal(lang, exc), reason=reason)
    conflict = bool(report.refused) and not report.decided
    return _render(request, chosen, status=409 if conflict else 200, decided=report)
