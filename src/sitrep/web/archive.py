"""The public archive at ``/archive/``: the same pages and Atom feed as ``sitrep site`` builds, served
from the published issues (:mod:`sitrep.report.site`, :mod:`sitrep.report.archive`), no login needed.

Its layout mirrors the static site (``index.html``, ``index.en.html``, ``feed.xml``, ``feed.en.xml``,
``<week>/report.<lang>.html``, ``.pdf`` and ``.json``), so the site's relative links work unchanged.  Rendering
an issue takes seconds (charts, the font cut to the page's characters), so each rendered file is kept
in memory under the issue's revision and time of change: a refreshed or withdrawn issue is rendered
anew.  Only what the site publishes is served: the report renderers redact restricted details.
"""

from __future__ import annotations

import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

from fastapi import APIRouter, Request, Response

from sitrep.config import Workspace
from sitrep.report import site
from sitrep.report.archive import Issue, archive
from sitrep.report.publish import render_week
from sitrep.report.render import MEDIA_TYPE, file_name
from sitrep.web.auth import PUBLIC
from sitrep.web.errors import NotFound
from sitrep.web.security import document_csp
from sitrep.weeks import Week

router = APIRouter(dependencies=[PUBLIC])
MAX_RENDERED = 48  # rendered files kept (an issue is 2 languages x 3 formats, about 1.5 MB)
# The formats of an issue the archive serves: the static site's (the rest are downloads of the report workspace).
FORMATS = site.SITE_FORMATS
# The archive changes when something is published: browsers and proxies check back after a minute.
CACHE = "public, max-age=60"


def _key(issue: Issue) -> tuple[str, int, str, str | None]:
    withdrawn = issue.withdrawn
    return (str(issue.week), issue.revision, issue.updated_at, withdrawn.at if withdrawn else None)


class ArchiveCache:
    """The archive's entries and rendered issue files, kept per issue state."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._entries: dict[tuple[str, int, str, str | None], site.Entry] = {}
        self._files: OrderedDict[tuple[object, ...], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def entries(self) -> list[site.Entry]:
        """Every issue as the index and the feed list it, newest first."""
        issues = archive(self.workspace).issues
        found = []
        for issue in reversed(issues):
            key = _key(issue)
            entry = self._entries.get(key)
            if entry is None:
                entry = site.entry_of(self.workspace, issue)
                self._entries[key] = entry
            found.append(entry)
        return found

    def issue_file(self, week: Week, lang: str, fmt: str) -> bytes | None:
        """The rendered ``report.<lang>.<fmt>`` of ``week``'s issue (a notice when withdrawn), or None
        when the week has no issue (or no such file)."""
        issue = next((i for i in archive(self.workspace).issues if i.week == week), None)
        if issue is None or (issue.withdrawn is not None and fmt == "pdf"):
            return None  # a withdrawn issue's pages are a notice; it has no PDF any more
        key = (*_key(issue), lang, fmt)
        with self._lock:
            cached = self._files.get(key)
            if cached is not None:
                self._files.move_to_end(key)
                return cached
            data = self._render(issue, lang, fmt)
            self._files[key] = data
            while len(self._files) > MAX_RENDERED:
                self._files.popitem(last=False)
            return data

    def _render(self, issue: Issue, lang: str, fmt: str) -> bytes:
        if issue.withdrawn is not None:
            entry = next(e for e in self.entries() if e.week == str(issue.week))
            text = site.withdrawn_page(entry, lang) if fmt == "html" else site.withdrawn_json(entry, lang)
            return text.encode("utf-8")
        with tempfile.TemporaryDirectory(prefix="sitrep-archive-") as folder:
            render_week(self.workspace, issue.week, langs=[lang], formats=[fmt], out=Path(folder))
            return (Path(folder) / file_name(lang, fmt)).read_bytes()

    def warm(self) -> None:
        """Compute the entries (what the index needs) ahead of the first visitor."""
        self.entries()


def _cache(request: Request) -> ArchiveCache:
    return request.app.state.archive


def _page(body: str | bytes, media_type: str) -> Response:
    response = Response(body, media_type=media_type, headers={"Cache-Control": CACHE})
    if media_type.startswith("text/html"):
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        response.headers["Content-Security-Policy"] = document_csp(text)
    return response


@router.get("/archive/", include_in_schema=False)
@router.get("/archive/index.html", include_in_schema=False)
def index_zh(request: Request) -> Response:
    """The archive's index in Chinese."""
    cache = _cache(request)
    return _page(site.index_page(cache.workspace, cache.entries(), "zh"), MEDIA_TYPE["html"])


@router.get("/archive/index.en.html", include_in_schema=False)
def index_en(request: Request) -> Response:
    """The archive's index in English."""
    cache = _cache(request)
    return _page(site.index_page(cache.workspace, cache.entries(), "en"), MEDIA_TYPE["html"])


@router.get("/archive/feed.xml", include_in_schema=False)
def feed(request: Request) -> Response:
    """The Atom feed of every issue, in Chinese."""
    cache = _cache(request)
    return _page(site.atom_feed(cache.workspace, cache.entries(), "zh"), "application/atom+xml; charset=utf-8")


@router.get("/archive/feed.en.xml", include_in_schema=False)
def feed_en(request: Request) -> Response:
    """The Atom feed of every issue, in English."""
    cache = _cache(request)
    return _page(site.atom_feed(cache.workspace, cache.entries(), "en"), "application/atom+xml; charset=utf-8")


@router.get("/archive/{week}/report.{lang}.{fmt}", include_in_schema=False)
def issue_file(request: Request, week: str, lang: str, fmt: str) -> Response:
    """One issue's page or JSON in one language."""
    try:
        parsed = Week.parse(week)
    except ValueError:
        raise NotFound() from None
    if lang not in ("zh", "en") or fmt not in FORMATS or str(parsed) != week:
        raise NotFound()
    data = _cache(request).issue_file(parsed, lang, fmt)
    if data is None:
        raise NotFound()
    return _page(data, MEDIA_TYPE[fmt])
