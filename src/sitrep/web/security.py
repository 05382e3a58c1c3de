"""Signed cookies, CSRF tokens and the security headers of every response.

The session cookie carries a random session token (its SHA-256 is what the database keeps) and an
HMAC of it under a key derived from the workspace secret, so a forged or altered cookie is refused
before any lookup.  A CSRF token is an HMAC of what identifies the browser: its session token once
logged in, else a random pre-login cookie (the login form is protected too).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import re
import secrets

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SESSION_COOKIE = "sitrep_session"
BROWSER_COOKIE = "sitrep_browser"  # identifies a browser before it logs in (binds the login form's CSRF token)
LANGUAGE_COOKIE = "sitrep_lang"  # the language of a visitor who is not logged in (the public archive)
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Pages of the desk: scripts and styles only from our own files, nothing inline, no framing.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
# The report workspace's page of a week frames the week's preview from this site.
PREVIEW_PAGE_CSP = f"{CSP}; frame-src 'self'"
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}

_STYLE_ELEMENT = re.compile(r"<style[^>]*>(.*?)</style>", re.S | re.I)
_STYLE_ATTRIBUTE = re.compile(r"\sstyle=\"([^\"]*)\"")


class Signer:
    """HMACs under the web desk's key (derived from the workspace secret, never the secret itself)."""

    def __init__(self, workspace_secret: bytes) -> None:
        self._key = hmac.new(workspace_secret, b"sitrep web desk", hashlib.sha256).digest()

    def _mac(self, purpose: bytes, value: str) -> str:
        digest = hmac.new(self._key, purpose + b"\0" + value.encode("utf-8"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def sign(self, token: str) -> str:
        """The cookie value for ``token``."""
        return f"{token}.{self._mac(b'cookie', token)}"

    def unsign(self, value: str | None) -> str | None:
        """The token of a cookie value, or None when it is missing or its signature is wrong."""
        if not value or "." not in value:
            return None
        token, _, mac = value.rpartition(".")
        return token if token and hmac.compare_digest(mac, self._mac(b"cookie", token)) else None

    def csrf(self, binding: str) -> str:
        """The CSRF token of the browser identified by ``binding``."""
        return self._mac(b"csrf", binding)

    def csrf_ok(self, binding: str | None, sent: str | None) -> bool:
        """Whether ``sent`` is the CSRF token of ``binding``."""
        return bool(binding and sent) and hmac.compare_digest(self.csrf(binding or ""), sent or "")


def new_browser_id() -> str:
    """A random identifier for a browser that is not logged in."""
    return secrets.token_urlsafe(24)


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def document_csp(document: str, *, framed: bool = False) -> str:
    """The policy of a published report page: no script at all, and exactly the styles it carries.

    A report is one self-contained file whose stylesheet and charts are inline; instead of allowing
    inline style wholesale, each ``<style>`` element and each distinct ``style`` attribute is allowed
    by its hash, so nothing injected could style the page either.  ``framed``: a preview of the report
    workspace, which only this site may frame, sandboxed even when opened on its own.
    """
    styles = _STYLE_ELEMENT.findall(document)
    attributes = sorted({html.unescape(v) for v in _STYLE_ATTRIBUTE.findall(document)})
    allowed = " ".join(_sha256(s) for s in [*styles, *attributes])
    style_src = f"{allowed} 'unsafe-hashes'" if attributes else allowed or "'none'"
    ancestors = "'self'; sandbox allow-same-origin" if framed else "'none'"
    return (
        f"default-src 'none'; style-src {style_src}; img-src 'self' data:; font-src 'self' data:; "
        f"form-action 'none'; base-uri 'none'; frame-ancestors {ancestors}"
    )


class SecurityHeaders:
    """ASGI middleware: the security headers on every response (a route may set its own policy);
    HSTS when the request came over HTTPS."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if https:
                    headers["Strict-Transport-Security"] = "max-age=31536000"
            await send(message)

        await self.app(scope, receive, send_with_headers)
