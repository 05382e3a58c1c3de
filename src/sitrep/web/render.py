"""Rendering the desk's pages: one Jinja2 environment (autoescape always on), the static assets with
their versioned URLs, and the cookies pages set."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
import pylopdf_fonts_zh_cn
from fastapi import Request, Response
from fastapi.responses import HTMLResponse

from sitrep import __version__
from sitrep.accounts.roles import Action, may
from sitrep.accounts.service import UserView
from sitrep.web.auth import visitor
from sitrep.web.i18n import Translator, refusal
from sitrep.web.security import BROWSER_COOKIE

STATIC = Path(str(files("sitrep.web").joinpath("static")))
FONT_NAME = "NotoSansSC-Regular.otf"
MAX_NEXT = 2000  # the longest local path (with its query) a form sends back as ``next``


@dataclass(frozen=True)
class Asset:
    """A static file: where it is, its type and a digest of its bytes (its URL's version)."""

    path: Path
    media_type: str
    digest: str


def _asset(path: Path, media_type: str) -> Asset:
    return Asset(path, media_type, hashlib.sha256(path.read_bytes()).hexdigest()[:16])


@cache
def assets() -> dict[str, Asset]:
    """The files under ``/static/``; the CJK font is the installed pylopdf-fonts-zh-cn file, not a copy."""
    return {
        "sitrep.css": _asset(STATIC / "sitrep.css", "text/css; charset=utf-8"),
        "htmx.min.js": _asset(STATIC / "htmx.min.js", "text/javascript; charset=utf-8"),
        f"fonts/{FONT_NAME}": _asset(Path(pylopdf_fonts_zh_cn.sans_path()), "font/otf"),
    }


def asset_url(name: str) -> str:
    """The URL of a static file with its version, so it can be cached for good."""
    return f"/static/{name}?v={assets()[name].digest}"


@cache
def environment() -> jinja2.Environment:
    """The template environment: autoescape on, undefined names are errors."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("sitrep.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["may"] = may_take
    return env


def may_take(user: UserView | None, action: str) -> bool:
    """``may(user, "ingest")`` in templates: whether a link or form of that action is offered (the role
    table decides, as for the route behind it)."""
    return user is not None and may(user.role, Action(action))


def set_cookie(request: Request, response: Response, name: str, value: str, *, max_age: int | None = None) -> None:
    """A cookie scripts cannot read, not sent on cross-site requests, and only over HTTPS when the
    request came over HTTPS."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def here(request: Request) -> str:
    """Where the language switch returns to: this page with its query string; for a page that answers a
    form (a POST), the page the form was on (the same-site ``Referer``), since a POST cannot be
    repeated by a link.  Anything longer than :data:`MAX_NEXT` keeps only its path."""
    url = request.url
    if request.method != "GET":
        referer = urlsplit(request.headers.get("referer", ""))
        if referer.netloc != url.netloc or not referer.path.startswith("/"):
            return url.path
        url = url.replace(path=referer.path, query=referer.query)
    target = url.path + (f"?{url.query}" if url.query else "")
    return target if len(target) <= MAX_NEXT else url.path[:MAX_NEXT]


def page(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """An HTML page for this request's visitor (language, user, CSRF token), never cached."""
    who = visitor(request)
    signer = request.app.state.signer
    body = (
        environment()
        .get_template(template)
        .render(
            t=Translator(who.lang),
            refusal=lambda refused: refusal(who.lang, refused),
            lang=who.lang,
            user=who.user,
            csrf=signer.csrf(who.csrf_binding),
            asset=asset_url,
            path=request.url.path,
            here=here(request),
            version=__version__,
            **context,
        )
    )
    response = HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})
    if who.new_browser:
        set_cookie(request, response, BROWSER_COOKIE, signer.sign(who.browser_id))
    return response
