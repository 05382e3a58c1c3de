"""Who is asking and whether they may: the visitor of a request, the action every route needs, and
the CSRF check of every unsafe request from a browser.

A route states what it does with ``dependencies=[needs(Action.X)]`` (or :data:`PUBLIC`); the role
table (:mod:`sitrep.accounts.roles`) decides.  :func:`check_routes` refuses to start an app with a
route that states neither (the app is built from routers only, each checked).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.params import Depends as DependsParam
from fastapi.routing import APIRoute

from sitrep.accounts import service
from sitrep.accounts.roles import Action, may
from sitrep.accounts.service import UserView
from sitrep.web import i18n
from sitrep.web.security import (
    BROWSER_COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    LANGUAGE_COOKIE,
    SAFE_METHODS,
    SESSION_COOKIE,
    new_browser_id,
)


class LoginRequired(Exception):
    """The route needs a logged-in user and the request has none."""


class Forbidden(Exception):
    """The user's role may not take the route's action."""

    def __init__(self, user: UserView, action: Action) -> None:
        super().__init__(f"role {user.role.value} may not {action.value}")
        self.user = user
        self.action = action


class CsrfFailed(Exception):
    """An unsafe request from a browser without the right CSRF token."""


@dataclass(frozen=True)
class Visitor:
    """The browser (or API client) behind a request."""

    user: UserView | None
    session_token: str | None  # the session cookie's token, when logged in
    browser_id: str  # the pre-login identifier (new when ``new_browser`` is set: the response stores it)
    new_browser: bool
    lang: str

    @property
    def csrf_binding(self) -> str:
        return self.session_token or self.browser_id


def visitor(request: Request) -> Visitor:
    """The visitor of this request (computed once per request)."""
    found = getattr(request.state, "visitor", None)
    if found is not None:
        return found
    state = request.app.state
    token = state.signer.unsign(request.cookies.get(SESSION_COOKIE))
    user = service.session_user(state.store, token) if token else None
    if user is None:
        token = None
    browser = state.signer.unsign(request.cookies.get(BROWSER_COOKIE))
    new_browser = browser is None
    lang = user.language if user else i18n.language(request.cookies.get(LANGUAGE_COOKIE))
    found = Visitor(user, token, browser or new_browser_id(), new_browser, lang)
    request.state.visitor = found
    return found


def needs(action: Action) -> Any:
    """The dependency of a route that takes ``action``: a logged-in user whose role may."""

    def allowed_user(request: Request) -> UserView:
        who = visitor(request)
        if who.user is None:
            raise LoginRequired()
        if not may(who.user.role, action):
            raise Forbidden(who.user, action)
        return who.user

    allowed_user.sitrep_action = action  # type: ignore[attr-defined]
    return Depends(allowed_user)


def _public(request: Request) -> None:
    """Anyone may (the login page, the public archive, static files)."""


_public.sitrep_action = "public"  # type: ignore[attr-defined]
PUBLIC = Depends(_public)


async def csrf_guard(request: Request) -> None:
    """Refuse an unsafe request that does not carry this browser's CSRF token (form field or header).

    Only an API call that authenticates with a bearer token and sends no session cookie is exempt:
    a browser cannot be tricked into sending that header.
    """
    if request.method in SAFE_METHODS:
        return
    bearer = request.headers.get("authorization", "").lower().startswith("bearer ")
    if bearer and request.url.path.startswith("/api/") and SESSION_COOKIE not in request.cookies:
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and getattr(getattr(request.scope.get("route"), "endpoint", None), "sitrep_streams_body", False):
        return  # the route reads the token from its body as it streams it (see streams_its_body)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        field = (await request.form()).get(CSRF_FIELD)
        sent = field if isinstance(field, str) else None
    check_csrf(request, sent)


def check_csrf(request: Request, sent: str | None) -> None:
    """Refuse (:class:`CsrfFailed`) unless ``sent`` is this browser's CSRF token."""
    # A browser seen for the first time has a fresh random binding, which no token sent can match.
    if not request.app.state.signer.csrf_ok(visitor(request).csrf_binding, sent):
        raise CsrfFailed()


def streams_its_body(endpoint: Any) -> Any:
    """Mark a route that reads its multipart body as a stream (an uploaded file, too large to parse
    before the route runs): :func:`csrf_guard` leaves the form's token to the route, which must pass
    it to :func:`check_csrf` before it keeps a byte of the file (:func:`sitrep.web.upload.receive_upload`
    does)."""
    endpoint.sitrep_streams_body = True
    return endpoint


def route_action(route: APIRoute) -> Action | str | None:
    """The action a route declares (``"public"`` for a public one), or None when it declares none."""
    for dependency in route.dependencies:
        if isinstance(dependency, DependsParam):
            declared = getattr(dependency.dependency, "sitrep_action", None)
            if declared is not None:
                return declared
    return None


def check_routes(routers: Sequence[APIRouter]) -> None:
    """Refuse routers with a route that declares no action (every route must say who may use it)."""
    # Not every kind of route has a path (a Host route has none).
    missing = [
        str(getattr(r, "path", r))
        for router in routers
        for r in router.routes
        if not isinstance(r, APIRoute) or not route_action(r)
    ]
    if missing:
        raise RuntimeError(f"routes without a declared action (needs(...) or PUBLIC): {', '.join(missing)}")
