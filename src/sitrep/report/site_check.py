"""``sitrep site --check``: a built archive verified as a reader and a feed reader meet it.

Every ``href`` and ``src`` of every HTML page must lead to a file of the site, and its ``#fragment`` to
an anchor of that page (a link under ``[report] base_url`` counts as a link into the site; other web
addresses and ``mailto:`` are not followed).  Every Atom feed must be well-formed XML with the elements
RFC 4287 requires (feed and entry ``id``, ``title``, ``updated`` as RFC 3339 times, an author, a
``rel="self"`` link), and its links must be absolute under the base URL when one is set, and lead to
files of the site.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

ATOM = "{http://www.w3.org/2005/Atom}"
LINK_ATTRIBUTES = ("href", "src", "xlink:href")
# Schemes a page may point to that are not files of the site.
NOT_FOLLOWED = ("mailto:", "tel:", "data:")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the site: the page (relative to the site folder), the link or element, why."""

    page: str
    link: str
    problem: str

    def __str__(self) -> str:
        return f"{self.page}: {self.link} — {self.problem}" if self.link else f"{self.page}: {self.problem}"


class _Page(HTMLParser):
    """The links of an HTML page and the anchors (``id``, ``name``) a link's ``#fragment`` may name."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.anchors: set[str] = set()
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links += [v for k, v in attrs if k in LINK_ATTRIBUTES and v is not None]
        self.anchors |= {v for k, v in attrs if k in ("id", "name") and v}


class _Pages:
    """The parsed HTML pages of the site, each read once."""

    def __init__(self) -> None:
        self._parsed: dict[Path, _Page] = {}

    def __call__(self, path: Path) -> _Page:
        if path not in self._parsed:
            self._parsed[path] = _Page(path.read_text(encoding="utf-8", errors="replace"))
        return self._parsed[path]


def _target(site: Path, page: Path, link: str, base: str) -> tuple[Path | None, str | None]:
    """The file of the site ``link`` (on ``page``) leads to, or None when it is not followed; or the
    reason it can never lead into the site."""
    if link.startswith(NOT_FOLLOWED):
        return None, None
    if link.startswith("#"):
        return page, None
    parts = urlsplit(link)
    if parts.scheme or parts.netloc:
        if base and link.startswith(base.rstrip("/") + "/"):
            relative = unquote(urlsplit(link[len(base.rstrip("/")) + 1 :]).path)
            return (site / relative), None
        if parts.scheme in ("http", "https"):
            return None, None  # another site: not ours to check
        return None, f"a {parts.scheme}: link, not a page of the site"
    path = unquote(parts.path)
    if path.startswith("/"):
        return None, "an absolute path: the site's links are relative, so it can be served from any folder"
    return (page.parent / path), None


def _check_link(site: Path, page: Path, link: str, base: str, pages: _Pages) -> str | None:
    target, problem = _target(site, page, link, base)
    if problem or target is None:
        return problem
    resolved = target.resolve()
    if not resolved.is_relative_to(site.resolve()):
        return "leads outside the site"
    if resolved.is_dir():
        resolved = resolved / "index.html"
    if not resolved.is_file():
        return "no such file in the site"
    fragment = unquote(urlsplit(link).fragment)
    if fragment and resolved.suffix == ".html" and fragment not in pages(resolved).anchors:
        return f"no anchor #{fragment} in {resolved.relative_to(site.resolve()).as_posix()}"
    return None


def _time(text: str | None) -> bool:
    try:
        return text is not None and datetime.fromisoformat(text).tzinfo is not None
    except ValueError:
        return False


def _check_feed(site: Path, path: Path, base: str, pages: _Pages) -> list[Problem]:
    name = path.relative_to(site).as_posix()
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        return [Problem(name, "", f"not well-formed XML ({exc})")]
    if root.tag != f"{ATOM}feed":
        return [Problem(name, "", f"not an Atom feed (root element {root.tag!r})")]
    problems = []

    def need(element: ET.Element, what: str, tags: tuple[str, ...]) -> None:
        for tag in tags:
            found = element.find(f"{ATOM}{tag}")
            if found is None or not (found.text or "").strip():
                problems.append(Problem(name, "", f"{what} has no <{tag}>"))
            elif tag == "updated" and not _time(found.text):
                problems.append(Problem(name, "", f"{what}: <updated> {found.text!r} is not an RFC 3339 time"))

    need(root, "the feed", ("id", "title", "updated"))
    feed_author = root.find(f"{ATOM}author/{ATOM}name") is not None
    links = root.findall(f"{ATOM}link")
    if not any(link.get("rel") == "self" for link in links):
        problems.append(Problem(name, "", 'the feed has no <link rel="self">'))
    for index, entry in enumerate(root.findall(f"{ATOM}entry"), 1):
        what = f"entry {index} ({(entry.findtext(f'{ATOM}id') or '').strip() or 'no id'})"
        need(entry, what, ("id", "title", "updated", "summary"))
        if not feed_author and entry.find(f"{ATOM}author/{ATOM}name") is None:
            problems.append(Problem(name, "", f"{what} has no author (nor has the feed)"))
        entry_links = entry.findall(f"{ATOM}link")
        if not any(link.get("rel", "alternate") == "alternate" for link in entry_links):
            problems.append(Problem(name, "", f'{what} has no <link rel="alternate">'))
        links += entry_links
    for link in links:
        href = link.get("href") or ""
        if not href:
            problems.append(Problem(name, "<link>", "a link without href"))
        elif base and not href.startswith(base.rstrip("/") + "/"):
            problems.append(Problem(name, href, f"not an absolute link under the base URL {base}"))
        elif (problem := _check_link(site, path, href, base, pages)) is not None:
            problems.append(Problem(name, href, problem))
    return problems


def check_site(site: Path, base_url: str) -> list[Problem]:
    """Every broken link and feed problem of the site built in ``site`` (empty when all is well);
    ``base_url`` is the address it is published at (``[report] base_url``, may be empty)."""
    if not site.is_dir():
        return [Problem(str(site), "", "no site here (not a folder); build it with 'sitrep site -o DIR'")]
    problems = []
    pages = sorted(site.rglob("*.html"))
    if not (site / "index.html").is_file():
        problems.append(Problem("index.html", "", "missing: the site has no index"))
    parsed = _Pages()
    for page in pages:
        name = page.relative_to(site).as_posix()
        for link in parsed(page.resolve()).links:
            if (problem := _check_link(site, page, link, base_url, parsed)) is not None:
                problems.append(Problem(name, link, problem))
    for feed in sorted(site.glob("*.xml")):
        problems += _check_feed(site, feed, base_url, parsed)
    return list(dict.fromkeys(problems))  # a link broken ten times on a page is reported once
