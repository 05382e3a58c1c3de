"""The web desk's ASGI application: :func:`create_app` over one workspace."""

from __future__ import annotations

import logging
import os
import threading
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from sitrep import __version__
from sitrep.accounts.login_limit import LoginLimiter
from sitrep.config import HOME_ENV, Workspace, load_workspace
from sitrep.incidents.desk import Desk
from sitrep.jobs.runner import JobRunner
from sitrep.memo import Memo
from sitrep.report.redact import workspace_secret
from sitrep.web import archive, desk, explorer, jobs, ledger, pages, proposals, reports
from sitrep.web.api import create_api
from sitrep.web.auth import CsrfFailed, Forbidden, LoginRequired, check_routes, csrf_guard, visitor
from sitrep.web.dashboard import DashboardCache
from sitrep.web.errors import BadRequest, NotFound
from sitrep.web.i18n import text
from sitrep.web.render import page
from sitrep.web.security import SecurityHeaders, Signer

log = logging.getLogger("sitrep.web")
# Every route of the desk, by router: each route declares the action it needs (check_routes).  The
# fixed /incidents/… pages (proposals, behind a number) come before the desk's /incidents/{ref}.
ROUTERS = (
    pages.router,
    archive.router,
    proposals.router,
    explorer.router,
    desk.router,
    ledger.router,
    reports.router,
    jobs.router,
)


def _error(request: Request, status: int, key: str, **values: object) -> Response:
    lang = visitor(request).lang
    return page(request, "error.html", status=status, message=text(lang, key, **values))


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "*/*")
    return request.method == "GET" and ("text/html" in accept or "*/*" in accept)


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    def login_required(request: Request, exc: LoginRequired) -> Response:
        if _wants_html(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)
        return _error(request, 401, "login_needed")

    @app.exception_handler(Forbidden)
    def forbidden(request: Request, exc: Forbidden) -> Response:
        return _error(request, 403, "forbidden", role=exc.user.role.value, action=exc.action.value)

    @app.exception_handler(CsrfFailed)
    def csrf_failed(request: Request, exc: CsrfFailed) -> Response:
        return _error(request, 403, "csrf_failed")

    @app.exception_handler(NotFound)
    def not_found(request: Request, exc: NotFound) -> Response:
        return _error(request, 404, "not_found")

    @app.exception_handler(BadRequest)
    def bad_request(request: Request, exc: BadRequest) -> Response:
        return _error(request, 400, "bad_request", reason=str(exc))

    @app.exception_handler(RequestValidationError)
    def invalid(request: Request, exc: RequestValidationError) -> Response:
        reasons = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors())
        return _error(request, 400, "bad_request", reason=reasons)

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return _error(request, 404, "not_found")
        return _error(request, exc.status_code, "bad_request", reason=str(exc.detail))

    @app.exception_handler(Exception)
    def crashed(request: Request, exc: Exception) -> Response:
        # The traceback goes to the server log, never to the browser.
        log.error("error serving %s %s", request.method, request.url.path, exc_info=exc)
        return _error(request, 500, "server_error")


def create_app(workspace: Workspace) -> FastAPI:
    """The web desk of ``workspace``: its pages, the public archive, the API at ``/api/v1`` and the
    security around them."""
    app = FastAPI(
        title="Sitrep",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(csrf_guard)],
    )
    app.state.workspace = workspace
    app.state.desk = Desk.open(workspace)
    app.state.store = app.state.desk.store
    app.state.signer = Signer(workspace_secret(workspace))
    app.state.limiter = LoginLimiter(app.state.store)
    app.state.archive = archive.ArchiveCache(workspace)
    app.state.jobs = JobRunner(workspace)  # marks the jobs of a server process that is gone interrupted
    app.state.previews = Memo[str](reports.MAX_PREVIEWS)  # rendered previews of published issues
    app.state.dashboards = DashboardCache()
    check_routes(ROUTERS)
    for router in ROUTERS:
        app.include_router(router)
    _install_handlers(app)
    # The API authenticates each request by its bearer token, never by the browser's cookie, so the
    # desk's CSRF guard does not apply to it; the security headers do.
    app.mount("/api/v1", create_api(workspace))
    app.add_middleware(SecurityHeaders)
    threading.Thread(target=_warm, args=(app.state.archive,), name="sitrep-archive-warm", daemon=True).start()
    return app


def prepare(workspace: Workspace) -> None:
    """Open and migrate the workspace's incident store and read its secret, as :func:`create_app`
    does: run once before the worker processes of ``sitrep serve --workers N`` start, so a bad store
    fails once with its message and the workers never migrate the store at the same time."""
    Desk.open(workspace)
    workspace_secret(workspace)


def served_app() -> FastAPI:
    """The web desk of the workspace named by ``$SITREP_HOME``: what each worker process of
    ``sitrep serve --workers N`` imports (Uvicorn starts workers from an import string, not an object)."""
    return create_app(load_workspace(os.environ[HOME_ENV]))


def _warm(cache: archive.ArchiveCache) -> None:
    try:
        cache.warm()
    except Exception:
        log.exception("could not prepare the archive index")
