"""The coordination ledger: per partner what the next notification would send, what is overdue, and
the partner scorecard over some weeks; one partner's requests; sending the notification of one
partner.  Everything comes from :mod:`sitrep.incidents.service`; no query here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, TypedDict

from fastapi import APIRouter, Form, Query, Request, Response

from sitrep.accounts.roles import Action, may
from sitrep.config import Smtp, Workspace
from sitrep.incidents import service
from sitrep.incidents.desk import Desk
from sitrep.incidents.errors import IncidentError, UnknownPartner
from sitrep.incidents.notify import Due, NotifyError, NotifyReport
from sitrep.incidents.scorecard import PartnerScore
from sitrep.incidents.service import PartnerDetail, PartnerScorecard
from sitrep.incidents.views import OverdueView, PartnerView
from sitrep.taxonomy import PartnerType
from sitrep.web.auth import needs, visitor
from sitrep.web.errors import BadRequest
from sitrep.web.render import page

router = APIRouter()
DEFAULT_WEEKS = 4
MAX_WEEKS = 52
NOTHING_DUE: Due = {"requests": [], "reminders": []}


def mail_configured(workspace: Workspace) -> bool:
    """Whether ``[smtp]`` of ``sitrep.toml`` was set up (differs from the defaults ``sitrep init``
    writes); until it is, the desk writes ``.eml`` files to the outbox instead of sending, as
    ``sitrep incidents notify --dry-run`` does."""
    return workspace.settings.smtp != Smtp()


@dataclass(frozen=True)
class PartnerLine:
    """One partner's row of the ledger."""

    partner: PartnerView
    due: Due
    overdue: int
    score: PartnerScore | None

    @property
    def has_due(self) -> bool:
        return bool(self.due["requests"] or self.due["reminders"])


@dataclass(frozen=True)
class Ledger:
    """The ledger page: the partners with something to show (to send, overdue, or requests sent in
    the scorecard's weeks), how many others had nothing, every overdue request, the scorecard."""

    lines: list[PartnerLine]
    quiet: int
    overdue: list[OverdueView]
    scorecard: PartnerScorecard
    mail: bool


def ledger(workspace: Workspace, desk: Desk, weeks: int, week: str | None) -> Ledger:
    """The ledger over the ``weeks`` weeks ending with ``week`` (default the last complete one)."""
    card = service.partner_scorecard(desk, weeks=weeks, week=week)
    scores = {s["partner"]: s for s in card["scorecard"]["partners"]}
    due = service.notifications_due(desk)
    overdue = service.overdue_requests(desk)
    late: dict[str, int] = {}
    for request in overdue:
        late[request["partner"]] = late.get(request["partner"], 0) + 1
    lines, quiet = [], 0
    for partner in service.list_partners(desk, inactive=True):
        name = partner["name"]
        if name in due or name in late or name in scores:
            lines.append(PartnerLine(partner, due.get(name, NOTHING_DUE), late.get(name, 0), scores.get(name)))
        else:
            quiet += 1
    return Ledger(lines, quiet, overdue, card, mail_configured(workspace))


def _weeks(weeks: int | None) -> int:
    if weeks is None:
        return DEFAULT_WEEKS
    if not 1 <= weeks <= MAX_WEEKS:
        raise BadRequest(f"weeks {weeks} is not between 1 and {MAX_WEEKS}")
    return weeks


class _Context(TypedDict):
    may_notify: bool
    outbox: str
    type_label: Callable[[str], str]


def _context(request: Request) -> _Context:
    """What every ledger page needs besides its view: whether the user may notify, the outbox, the
    partner types' names in the user's language (from the taxonomy)."""
    who = visitor(request)
    zh = who.lang == "zh"
    return {
        "may_notify": who.user is not None and may(who.user.role, Action.NOTIFY_PARTNERS),
        "outbox": str(request.app.state.workspace.root / "outbox"),
        "type_label": lambda value: PartnerType(value).zh if zh else PartnerType(value).en,
    }


@router.get("/ledger", dependencies=[needs(Action.VIEW)], include_in_schema=False)
def ledger_page(
    request: Request,
    weeks: Annotated[int | None, Query()] = None,
    week: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """Every partner's pending, overdue and answered requests, and the scorecard."""
    state = request.app.state
    try:
        view = ledger(state.workspace, state.desk, _weeks(weeks), week or None)
    except IncidentError as exc:
        raise BadRequest(str(exc)) from None
    return page(request, "ledger.html", ledger=view, **_context(request))


@dataclass(frozen=True)
class PartnerPage:
    """One partner of the ledger: its requests, the overdue ones, what would be sent."""

    detail: PartnerDetail
    overdue: list[OverdueView]
    due: Due
    mail: bool


def partner_page_view(workspace: Workspace, desk: Desk, name: str) -> PartnerPage:
    """The ledger of the partner called ``name`` (raises UnknownPartner)."""
    detail = service.show_partner(desk, name, recent=100)
    found = detail["partner"]["name"]
    due = service.notifications_due(desk).get(found, NOTHING_DUE)
    return PartnerPage(detail, service.overdue_requests(desk, partner=found), due, mail_configured(workspace))


@router.get("/ledger/partner", dependencies=[needs(Action.VIEW)], include_in_schema=False)
def partner_page(request: Request, name: Annotated[str, Query(max_length=200)] = "") -> Response:
    """One partner's coordination requests, newest first, with the button to notify it."""
    state = request.app.state
    try:
        view = partner_page_view(state.workspace, state.desk, name)
    except UnknownPartner as exc:
        raise BadRequest(str(exc)) from None
    return page(request, "ledger_partner.html", p=view, **_context(request))


@router.post("/ledger/notify", dependencies=[needs(Action.NOTIFY_PARTNERS)], include_in_schema=False)
def notify(request: Request, partner: Annotated[str, Form(max_length=200)]) -> Response:
    """Send one partner its pending requests and due reminders, or, without ``[smtp]`` in
    ``sitrep.toml``, write them to the outbox as ``.eml`` files (nothing is then recorded)."""
    state = request.app.state
    user = visitor(request).user
    mail = mail_configured(state.workspace)
    report: NotifyReport | None = None
    problem: str | None = None
    try:
        report = service.notify_partners(
            state.desk, actor=user.name if user else "web", dry_run=not mail, partner=partner
        )
    except UnknownPartner as exc:
        raise BadRequest(str(exc)) from None
    except NotifyError as exc:
        problem = str(exc)
    return page(
        request,
        "ledger_notify.html",
        status=200 if report is not None else 502,
        partner=partner,
        report=report,
        problem=problem,
        mail=mail,
        **_context(request),
    )
