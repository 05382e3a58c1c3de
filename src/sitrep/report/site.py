"""The archive: a static site of every published issue, in Chinese and English, with an Atom feed.

Layout (relative links throughout, so the folder can be served from anywhere or opened from disk)::

    index.html                 all issues, newest first (Chinese), with links to both editions
    index.en.html              the same in English
    feed.xml                   Atom feed, one entry per issue (absolute links when report.base_url is set)
    <week>/report.zh.html      each issue, the same file ``sitrep report`` writes
    <week>/report.en.html
    <week>/report.<lang>.json  the numbers and the IDs behind them
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from sitrep.config import Workspace
from sitrep.report import wording as w
from sitrep.report.publish import editions, load_issue, published_weeks, render_week
from sitrep.report.render import atomic_write
from sitrep.report.render.html import environment, stylesheet
from sitrep.report.wording import LANGS

ATOM = "http://www.w3.org/2005/Atom"


@dataclass(frozen=True)
class Entry:
    """One issue as the index and the feed list it."""

    week: str
    title: str
    title_en: str
    rating: str
    rating_en: str
    published_at: str
    summary: str


def _entries(workspace: Workspace) -> list[Entry]:
    entries = []
    for week in reversed(published_weeks(workspace)):
        issue = load_issue(workspace, week)
        assert issue is not None  # listed from the same folder
        zh, en = editions(workspace, week, ["zh", "en"])
        entries.append(
            Entry(
                week=str(week),
                title=zh.title,
                title_en=en.title,
                rating=zh.rating_word,
                rating_en=en.rating_word,
                published_at=issue.get("refreshed_at", issue["published_at"]),
                summary=zh.sections[0].paragraphs[0],
            )
        )
    return entries


def _href(base: str, path: str) -> str:
    return f"{base.rstrip('/')}/{path}" if base else path


def atom_feed(workspace: Workspace, entries: list[Entry]) -> str:
    """The Atom 1.0 feed of the archive (RFC 4287)."""
    settings = workspace.settings
    base = settings.report.base_url
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed", {"xml:lang": "zh-CN"})
    feed_id = _href(base, "feed.xml") if base else f"urn:sitrep:{settings.organisation.name}:weekly"
    ET.SubElement(feed, f"{{{ATOM}}}id").text = feed_id
    ET.SubElement(feed, f"{{{ATOM}}}title").text = f"{settings.organisation.name} {settings.report.site_title}"
    updated = max((e.published_at for e in entries), default="1970-01-01T00:00:00+00:00")
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = updated
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    ET.SubElement(author, f"{{{ATOM}}}name").text = settings.organisation.name
    ET.SubElement(feed, f"{{{ATOM}}}link", {"rel": "alternate", "href": _href(base, "index.html")})
    if base:
        ET.SubElement(feed, f"{{{ATOM}}}link", {"rel": "self", "href": _href(base, "feed.xml")})
    for e in entries:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        entry_id = _href(base, f"{e.week}/") if base else f"urn:sitrep:{settings.organisation.name}:{e.week}"
        ET.SubElement(entry, f"{{{ATOM}}}id").text = entry_id
        ET.SubElement(entry, f"{{{ATOM}}}title").text = e.title
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = e.published_at
        ET.SubElement(entry, f"{{{ATOM}}}published").text = e.published_at
        ET.SubElement(
            entry,
            f"{{{ATOM}}}link",
            {
                "rel": "alternate",
                "type": "text/html",
                "hreflang": "zh",
                "href": _href(base, f"{e.week}/report.zh.html"),
            },
        )
        ET.SubElement(
            entry,
            f"{{{ATOM}}}link",
            {
                "rel": "alternate",
                "type": "text/html",
                "hreflang": "en",
                "href": _href(base, f"{e.week}/report.en.html"),
            },
        )
        ET.SubElement(entry, f"{{{ATOM}}}summary").text = e.summary
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"


def index_page(workspace: Workspace, entries: list[Entry], lang: str) -> str:
    """The archive's index page in ``lang``."""
    org = workspace.settings.organisation
    name = org.name if lang == "zh" else org.name_en
    title = workspace.settings.report.site_title if lang == "zh" else workspace.settings.report.site_title_en
    return (
        environment()
        .get_template("index.html")
        .render(
            lang=lang,
            css=stylesheet(),
            title=title,
            organisation=name,
            intro=w.text(lang, "index_intro", org=name),
            heading=w.text(lang, "index"),
            feed_label=w.text(lang, "feed"),
            other_label=w.text(lang, "other_lang"),
            other_href="index.en.html" if lang == "zh" else "index.html",
            rating_label=w.text(lang, "rating_label"),
            entries=entries,
        )
    )


def build_site(workspace: Workspace, out: Path) -> list[Path]:
    """Write the archive of every published issue into ``out``; returns the files written."""
    written = []
    for week in published_weeks(workspace):
        written += render_week(workspace, week, langs=list(LANGS), formats=["html", "json"], out=out / str(week))
    entries = _entries(workspace)
    for lang, name in (("zh", "index.html"), ("en", "index.en.html")):
        atomic_write(out / name, index_page(workspace, entries, lang))
        written.append(out / name)
    atomic_write(out / "feed.xml", atom_feed(workspace, entries))
    written.append(out / "feed.xml")
    return written
