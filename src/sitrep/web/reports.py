"""The report workspace: the weeks with their state, one week's preview in either language, its
pre-publication check, the narrative form, publishing and withdrawing, and the rendered files.

Everything comes from the report core (:mod:`sitrep.report.publish`, :mod:`.check`, :mod:`.narrative`,
:mod:`.archive`), as ``sitrep check``, ``publish``, ``unpublish`` and ``narrative`` use it; the
computed numbers are never an input here.  The preview is the HTML edition, served at its own URL
and shown in a sandboxed ``<iframe>`` (no script runs in it, its policy allows exactly its own
styles), laid out like the archive (``/reports/<week>/report.<lang>.html``) so its links between
languages and issues stay inside the workspace.  Rendering every format is a background job of its
own; this page lists and serves the files already in ``reports/<week>/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import FileResponse, RedirectResponse

from sitrep.accounts.roles import Action, may
from sitrep.config import Workspace
from sitrep.memo import Memo
from sitrep.report.archive import Issue, IssueError, archive, load_issue
from sitrep.report.check import check_week
from sitrep.report.check_model import CheckResult
from sitrep.report.errors import PublishError, PublishRefused
from sitrep.report.narrative import (
    MAX_HIGHLIGHT,
    MAX_HIGHLIGHTS,
    MAX_SUMMARY,
    Narrative,
    NarrativeError,
    StaleNarrative,
    Text,
    clean_text,
    load_narrative,
    save_narrative,
    written_weeks,
)
from sitrep.report.publish import MAX_REASON, editions, publish, unpublish
from sitrep.report.render import FORMATS, MEDIA_TYPE, file_name
from sitrep.report.wording import LANGS
from sitrep.web.auth import needs, visitor
from sitrep.web.errors import BadRequest, NotFound
from sitrep.web.render import FONT_NAME, asset_url, page
from sitrep.web.security import PREVIEW_PAGE_CSP, document_csp
from sitrep.weeks import Week

router = APIRouter()
RECENT_WEEKS = 12  # the list shows this many weeks up to the current one, besides any issue or narrative
MAX_PREVIEWS = 16  # rendered previews of published issues kept in memory (about 300 KB each)
# A form field's size limit: generous against the core's own limits (it names what is too long).
FIELD = 4 * (MAX_SUMMARY + MAX_HIGHLIGHTS * (MAX_HIGHLIGHT + 2))
# What a form that worked says on the page it leads to (?done=...).
DONE = frozenset({"saved", "published", "refreshed", "republished", "unchanged", "withdrawn"})
# A downloaded file is never run in the desk's origin: no script, no plugin, its own origin.
DOWNLOAD_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:"


def week_of(text: str) -> Week:
    """The week of a URL: a clear 400 for what is not a week, 404 for another spelling of one."""
    try:
        week = Week.parse(text)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    if str(week) != text:
        raise NotFound()
    return week


def _lang(value: str | None, default: str) -> str:
    if value is None:
        return default if default in LANGS else LANGS[0]
    if value not in LANGS:
        raise BadRequest(f"lang {value!r} is not one of {', '.join(LANGS)}")
    return value


def state_of(issue: Issue | None) -> str:
    """A week's state in the workspace: ``draft`` (no issue), ``published`` or ``withdrawn``."""
    if issue is None:
        return "draft"
    return "withdrawn" if issue.withdrawn else "published"


@dataclass(frozen=True)
class WeekLine:
    """One week of the list: its state, revision, withdrawal, narrative and rendered files."""

    week: Week
    ended: bool
    issue: Issue | None
    narrative: Narrative | None  # None when its file is damaged
    rendered: int

    @property
    def state(self) -> str:
        return state_of(self.issue)


@dataclass(frozen=True)
class Download:
    """A rendered file of the week."""

    lang: str
    fmt: str
    name: str
    size: int
    modified: str


def rendered_files(workspace: Workspace, week: Week) -> list[Download]:
    """The rendered files of ``week`` in ``reports/<week>/``, every language and format in order."""
    folder = workspace.reports_dir / str(week)
    found = []
    for lang in LANGS:
        for fmt in FORMATS:
            name = file_name(lang, fmt)
            path = folder / name
            if path.is_file() and not path.is_symlink():
                stat = path.stat()
                at = datetime.fromtimestamp(stat.st_mtime, UTC).isoformat(timespec="seconds")
                found.append(Download(lang, fmt, name, stat.st_size, at))
    return found


def week_lines(workspace: Workspace, now: datetime | None = None) -> list[WeekLine]:
    """The weeks of the list, newest first: the recent ones up to the current week, and every week
    with an issue or a narrative."""
    moment = now or datetime.now(UTC)
    tz = workspace.timezone
    current = Week.of(moment.astimezone(tz).date())
    issues = {i.week: i for i in archive(workspace).issues}
    weeks = {current - i for i in range(RECENT_WEEKS)} | set(issues) | set(written_weeks(workspace))
    lines = []
    for week in sorted(weeks, reverse=True):
        try:
            narrative: Narrative | None = load_narrative(workspace, week)
        except NarrativeError:
            narrative = None
        ended = week.bounds(tz)[1] <= moment
        lines.append(WeekLine(week, ended, issues.get(week), narrative, len(rendered_files(workspace, week))))
    return lines


@dataclass(frozen=True)
class WeekPage:
    """What the page of one week shows."""

    week: Week
    lang: str
    issue: Issue | None
    check: CheckResult
    narrative: Narrative
    frozen: dict[str, Text] | None  # the narrative the current issue published
    downloads: list[Download]

    @property
    def state(self) -> str:
        return state_of(self.issue)

    @property
    def narrative_pending(self) -> bool:
        """The working narrative differs from the one the current issue published."""
        return self.frozen is not None and not self.narrative.says(self.frozen)

    @property
    def missing(self) -> list[str]:
        """The formats not rendered in some language."""
        have = {(d.lang, d.fmt) for d in self.downloads}
        return [fmt for fmt in FORMATS if any((lang, fmt) not in have for lang in LANGS)]


def week_page(workspace: Workspace, week: Week, lang: str) -> WeekPage:
    """The page of ``week``; raises IssueError or NarrativeError for a damaged file."""
    issue = load_issue(workspace, week)
    narrative = load_narrative(workspace, week)
    frozen = issue.narrative if issue is not None and issue.withdrawn is None else None
    return WeekPage(week, lang, issue, check_week(workspace, week), narrative, frozen, rendered_files(workspace, week))


def preview_html(workspace: Workspace, cache: Memo[str], week: Week, lang: str) -> str:
    """The HTML edition of ``week`` in ``lang`` as it would be rendered now, its font the desk's own
    file (the edition embeds a cut-down copy instead; cutting it takes seconds)."""
    # matplotlib loads with the first preview, not with the desk.
    from sitrep.report.charts import FONT_FAMILY
    from sitrep.report.render.html import render_html

    font = f"@font-face {{ font-family: '{FONT_FAMILY}'; src: url('{asset_url(f'fonts/{FONT_NAME}')}'); }}"

    def render() -> str:
        return render_html(editions(workspace, week, [lang])[0], font_css=font)

    issue = load_issue(workspace, week)
    if issue is None or issue.withdrawn is not None:
        return render()  # a draft's numbers move with every ingest: rendered each time
    previous = tuple(i.week for i in archive(workspace).current if i.week < week)
    return cache.get((str(workspace.root), str(week), lang, issue.revision, issue.updated_at, previous), render)


def _workspace(request: Request) -> Workspace:
    return request.app.state.workspace


def _previews(request: Request) -> Memo[str]:
    return request.app.state.previews


def _abilities(request: Request) -> dict[str, bool]:
    user = visitor(request).user
    return {
        "may_edit": user is not None and may(user.role, Action.EDIT_REPORT),
        "may_publish": user is not None and may(user.role, Action.PUBLISH),
    }


def _show(
    request: Request,
    week: Week,
    lang: str | None = None,
    *,
    status: int = 200,
    done: str | None = None,
    **context: Any,
) -> Response:
    ws = _workspace(request)
    try:
        view = week_page(ws, week, _lang(lang, visitor(request).lang))
    except (IssueError, NarrativeError) as exc:
        return page(request, "error.html", status=409, message=str(exc))
    typed = context.pop("typed", None) or {
        code: {
            "summary": view.narrative.text(code).summary,
            "highlights": "\n".join(view.narrative.text(code).highlights),
        }
        for code in LANGS
    }
    response = page(
        request,
        "reports/week.html",
        status=status,
        v=view,
        langs=LANGS,
        typed=typed,
        narrative_version=context.pop("version", view.narrative.version),
        done=done if done in DONE else None,
        limits={"summary": MAX_SUMMARY, "highlights": MAX_HIGHLIGHTS, "highlight": MAX_HIGHLIGHT, "reason": MAX_REASON},
        problem=context.pop("problem", None),
        refused=context.pop("refused", None),
        **_abilities(request),
        **context,
    )
    response.headers["Content-Security-Policy"] = PREVIEW_PAGE_CSP
    return response


@router.get("/reports", dependencies=[needs(Action.VIEW)], include_in_schema=False)
def reports_page(request: Request, week: Annotated[str | None, Query(max_length=20)] = None) -> Response:
    """Every recent week, and every week published or with a narrative, newest first (``?week=``
    goes to that week's page)."""
    if week:
        try:
            return RedirectResponse(f"/reports/{Week.parse(week)}", status_code=303)
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
    return page(request, "reports/list.html", lines=week_lines(_workspace(request)))


@router.get("/reports/{week}", dependencies=[needs(Action.VIEW)], include_in_schema=False)
def week_view(
    request: Request,
    week: str,
    lang: Annotated[str | None, Query(max_length=5)] = None,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """One week: the preview, the check's findings, the narrative, publishing and the files."""
    return _show(request, week_of(week), lang, done=done)


@router.get("/reports/{week}/report.{lang}.html", dependencies=[needs(Action.VIEW)], include_in_schema=False)
def preview(request: Request, week: str, lang: str) -> Response:
    """The HTML edition of the week as it would be rendered now, to be framed by the week's page."""
    chosen = week_of(week)
    if lang not in LANGS:
        raise NotFound()
    try:
        document = preview_html(_workspace(request), _previews(request), chosen, lang)
    except (IssueError, NarrativeError) as exc:
        # Plain text: the frame runs no script, so the desk's error page (with its script) would not fit.
        return Response(str(exc), status_code=409, media_type="text/plain; charset=utf-8")
    return Response(
        document,
        media_type="text/html; charset=utf-8",
        headers={
            "Cache-Control": "no-store",
            "Content-Security-Policy": document_csp(document, framed=True),
            "X-Frame-Options": "SAMEORIGIN",
        },
    )


@router.get("/reports/{week}/files/{name}", dependencies=[needs(Action.VIEW)], include_in_schema=False)
def download(request: Request, week: str, name: str) -> Response:
    """A rendered file of the week, as a download (``Content-Disposition: attachment``)."""
    chosen = week_of(week)
    found = next((d for d in rendered_files(_workspace(request), chosen) if d.name == name), None)
    if found is None:
        raise NotFound()
    path: Path = _workspace(request).reports_dir / str(chosen) / name
    return FileResponse(
        path,
        media_type=MEDIA_TYPE[found.fmt],
        filename=f"{chosen}-{name}",
        headers={"Cache-Control": "private, no-cache", "Content-Security-Policy": DOWNLOAD_CSP},
    )


NarrativeField = Annotated[str, Form(max_length=FIELD)]


@router.post("/reports/{week}/narrative", dependencies=[needs(Action.EDIT_REPORT)], include_in_schema=False)
def edit_narrative(
    request: Request,
    week: str,
    version: Annotated[str, Form(max_length=64)] = "",
    summary_zh: NarrativeField = "",
    highlights_zh: NarrativeField = "",
    summary_en: NarrativeField = "",
    highlights_en: NarrativeField = "",
) -> Response:
    """Save the week's narrative in both languages (highlights one a line), against the version the
    form was read at."""
    chosen = week_of(week)
    typed = {
        "zh": {"summary": summary_zh, "highlights": highlights_zh},
        "en": {"summary": summary_en, "highlights": highlights_en},
    }
    user = visitor(request).user
    try:
        texts = {code: clean_text(code, t["summary"], t["highlights"].splitlines()) for code, t in typed.items()}
        save_narrative(
            _workspace(request), chosen, texts, author=user.name if user else "web", expected_version=version or None
        )
    except StaleNarrative as exc:
        return _show(request, chosen, status=409, typed=typed, problem=("stale", str(exc)))
    except NarrativeError as exc:
        return _show(request, chosen, status=400, typed=typed, version=version, problem=("narrative", str(exc)))
    return RedirectResponse(f"/reports/{chosen}?done=saved", status_code=303)


@router.post("/reports/{week}/publish", dependencies=[needs(Action.PUBLISH)], include_in_schema=False)
def publish_week(
    request: Request, week: str, force_reason: Annotated[str, Form(max_length=2 * MAX_REASON)] = ""
) -> Response:
    """Publish the week, or re-compute a published one with its narrative (``sitrep publish
    --refresh``); with a reason, past what the check objects to (``--force --reason``)."""
    chosen = week_of(week)
    try:
        result = publish(_workspace(request), chosen, refresh=True, force_reason=force_reason.strip() or None)
    except PublishRefused as exc:
        return _show(request, chosen, status=409, refused=exc)
    except (PublishError, IssueError, NarrativeError) as exc:
        return _show(request, chosen, status=400, problem=("publish", str(exc)))
    return RedirectResponse(f"/reports/{chosen}?done={result.status}", status_code=303)


@router.post("/reports/{week}/unpublish", dependencies=[needs(Action.PUBLISH)], include_in_schema=False)
def unpublish_week(
    request: Request, week: str, reason: Annotated[str, Form(max_length=2 * MAX_REASON)] = ""
) -> Response:
    """Withdraw the week's issue with a reason (``sitrep unpublish``)."""
    chosen = week_of(week)
    try:
        unpublish(_workspace(request), chosen, reason=reason)
    except (PublishError, IssueError) as exc:
        return _show(request, chosen, status=400, problem=("unpublish", str(exc)))
    return RedirectResponse(f"/reports/{chosen}?done=withdrawn", status_code=303)
