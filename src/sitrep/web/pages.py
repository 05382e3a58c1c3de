"""The desk's pages: login and logout, the interface language, the dashboard, static files."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import FileResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from sitrep.accounts import service
from sitrep.accounts.roles import Action
from sitrep.accounts.service import UserView
from sitrep.web.auth import PUBLIC, needs, visitor
from sitrep.web.dashboard import assemble
from sitrep.web.errors import BadRequest, NotFound
from sitrep.web.i18n import language
from sitrep.web.render import MAX_NEXT, assets, page, set_cookie
from sitrep.web.security import LANGUAGE_COOKIE, SESSION_COOKIE
from sitrep.weeks import Week

router = APIRouter()
SESSION_LIFETIME = timedelta(hours=12)
MAX_NAME_FIELD = 200


def local_path(target: str | None) -> str:
    """``target`` when it is a path on this site (``/…``, not ``//host``), else the dashboard: a login
    link cannot send the browser elsewhere."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")) and not {"\n", "\r"} & set(target):
        return target
    return "/"


@router.get("/login", dependencies=[PUBLIC], include_in_schema=False)
def login_form(request: Request, next: str | None = None) -> Response:
    """The login page (a logged-in user goes on to the dashboard)."""
    if visitor(request).user is not None:
        return RedirectResponse(local_path(next), status_code=303)
    return page(request, "login.html", next=local_path(next), error=None, name="")


@router.post("/login", dependencies=[PUBLIC], include_in_schema=False)
def login(
    request: Request,
    name: Annotated[str, Form(max_length=MAX_NAME_FIELD)] = "",
    password: Annotated[str, Form(max_length=4096)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the name and password (rate-limited per name and per client address), start a session."""
    state = request.app.state
    key = name.strip().lower()
    address = request.client.host if request.client else "unknown"
    wait = state.limiter.retry_after(key, address)
    if wait is not None:
        response: Response = page(
            request, "login.html", status=429, next=local_path(next), name=name, error=("login_limited", wait)
        )
        response.headers["Retry-After"] = str(wait)
        return response
    user = service.authenticate(state.store, name, password)
    if user is None:
        state.limiter.failed(key, address)
        return page(request, "login.html", status=401, next=local_path(next), name=name, error=("login_failed", 0))
    state.limiter.succeeded(key)
    old = visitor(request).session_token
    if old:
        service.end_session(state.store, old)
    started = service.start_session(state.store, user.name, lifetime=SESSION_LIFETIME)
    response = RedirectResponse(local_path(next), status_code=303)
    set_cookie(
        request,
        response,
        SESSION_COOKIE,
        state.signer.sign(started.token),
        max_age=int(SESSION_LIFETIME.total_seconds()),
    )
    return response


@router.post("/logout", dependencies=[PUBLIC], include_in_schema=False)
def logout(request: Request) -> Response:
    """End the session and go back to the login page."""
    token = visitor(request).session_token
    if token:
        service.end_session(request.app.state.store, token)
    response = RedirectResponse("/login?bye=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


@router.post("/language", dependencies=[PUBLIC], include_in_schema=False)
def switch_language(
    request: Request,
    lang: Annotated[str, Form(max_length=5)],
    next: Annotated[str, Form(max_length=MAX_NEXT)] = "/",
) -> Response:
    """Change the interface language (the user's setting, or a cookie when not logged in) and go back to
    ``next``: the page it was switched on, with its query string (a local path only)."""
    chosen = language(lang)
    user = visitor(request).user
    response = RedirectResponse(local_path(next), status_code=303)
    if user is not None:
        service.set_language(request.app.state.store, user.name, chosen)
    else:
        set_cookie(request, response, LANGUAGE_COOKIE, chosen, max_age=365 * 86400)
    return response


def _week(request: Request, text: str | None) -> Week:
    if not text:
        return Week.last_complete(request.app.state.workspace.timezone)
    try:
        return Week.parse(text)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None


@router.get("/", dependencies=[needs(Action.VIEW)], include_in_schema=False)
async def dashboard_page(request: Request, week: Annotated[str | None, Query(max_length=20)] = None) -> Response:
    """The dashboard of a week (default: the last complete one).  Asynchronous so that requests
    waiting for a week's report being computed hold no worker thread (:class:`DashboardCache`)."""
    chosen = _week(request, week)
    state = request.app.state
    user: UserView | None = visitor(request).user  # the needs() dependency found it, in a thread
    found = await state.dashboards.week_report_async(state.workspace, chosen, user.language if user else "zh")
    view = await run_in_threadpool(assemble, state.desk, chosen, found)
    return await run_in_threadpool(
        page, request, "dashboard.html", d=view, previous=str(chosen - 1), following=str(chosen + 1)
    )


@router.get("/static/{name:path}", dependencies=[PUBLIC], include_in_schema=False)
def static_file(request: Request, name: str, v: str | None = None) -> Response:
    """A static file; with its current version in the URL it is cached for a year."""
    asset = assets().get(name)
    if asset is None:
        raise NotFound()
    etag = f'"{asset.digest}"'
    forever = v == asset.digest
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=31536000, immutable" if forever else "public, max-age=3600",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return FileResponse(asset.path, media_type=asset.media_type, headers=headers)


@router.get("/favicon.ico", dependencies=[PUBLIC], include_in_schema=False)
def favicon() -> Response:
    """No icon: an empty answer browsers cache for a day, rather than a 404 in every page's console."""
    return Response(status_code=204, headers={"Cache-Control": "public, max-age=86400"})
