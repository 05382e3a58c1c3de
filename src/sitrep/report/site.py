"""The archive: a static site of every published issue, in Chinese and English, with an Atom feed.

Layout (relative links throughout, so the folder can be served from anywhere or opened from disk)::

    index.html                 all issues, newest first (Chinese), with links to both editions
    index.en.html              the same in English
    feed.xml                   Atom feed, one entry per issue (absolute links when report.base_url is set)
    <week>/report.zh.html      each issue, the same file ``sitrep report`` writes
    <week>/report.en.html
    <week>/report.<lang>.json  the numbers and the IDs behind them

A withdrawn issue (``sitrep unpublish``) stays in the index and the feed, marked withdrawn with the
date and the reason; its pages say so instead of showing the issue, and its JSON is a
``sitrep.withdrawn/1`` notice.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from sitrep.config import Workspace
from sitrep.report import wording as w
from sitrep.report.archive import Issue, Stray, archive
from sitrep.report.publish import editions, render_week
from sitrep.report.render import atomic_write, file_name
from sitrep.report.render.html import environment, stylesheet
from sitrep.report.wording import LANGS

ATOM = "http://www.w3.org/2005/Atom"
WITHDRAWN_SCHEMA = "sitrep.withdrawn/1"


@dataclass(frozen=True)
class Entry:
    """One issue as the index and the feed list it (``withdrawn_at``/``reason`` set when withdrawn)."""

    week: str
    title: str
    title_en: str
    rating: str
    rating_en: str
    published_at: str
    updated_at: str
    summary: str
    summary_en: str
    withdrawn_at: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class SiteBuild:
    """What ``build_site`` wrote, and the files of the archive it skipped (not issues)."""

    files: list[Path]
    skipped: list[Stray]


def entry_of(workspace: Workspace, issue: Issue) -> Entry:
    """The archive's entry of one issue: its titles, rating and summary, or its withdrawal notice."""
    titles = {lang: w.title(issue.week, lang) for lang in LANGS}
    withdrawal = issue.withdrawn
    if withdrawal is not None:
        day = withdrawal.at[:10]
        notices = {lang: w.text(lang, "withdrawn_notice", date=day, reason=withdrawal.reason) for lang in LANGS}
        return Entry(
            week=str(issue.week),
            title=titles["zh"],
            title_en=titles["en"],
            rating=w.text("zh", "withdrawn"),
            rating_en=w.text("en", "withdrawn"),
            published_at=issue.published_at,
            updated_at=withdrawal.at,
            summary=notices["zh"],
            summary_en=notices["en"],
            withdrawn_at=day,
            reason=withdrawal.reason,
        )
    zh, en = editions(workspace, issue.week, ["zh", "en"])
    return Entry(
        week=str(issue.week),
        title=zh.title,
        title_en=en.title,
        rating=zh.rating_word,
        rating_en=en.rating_word,
        published_at=issue.published_at,
        updated_at=issue.updated_at,
        summary=zh.sections[0].paragraphs[0],
        summary_en=en.sections[0].paragraphs[0],
    )


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
    updated = max((e.updated_at for e in entries), default="1970-01-01T00:00:00+00:00")
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
        title = w.text("zh", "withdrawn_title", title=e.title) if e.withdrawn_at else e.title
        ET.SubElement(entry, f"{{{ATOM}}}title").text = title
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = e.updated_at
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
    """The archive's index page in ``lang`` (withdrawn issues marked, with the reason)."""
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


def withdrawn_page(entry: Entry, lang: str) -> str:
    """What a withdrawn issue's page says instead of the issue (the same address, so old links and a
    copy of the site built earlier tell readers it was withdrawn)."""
    return (
        environment()
        .get_template("withdrawn.html")
        .render(
            lang=lang,
            css=stylesheet(),
            title=entry.title if lang == "zh" else entry.title_en,
            heading=w.text(lang, "withdrawn"),
            notice=entry.summary if lang == "zh" else entry.summary_en,
            index_label=w.text(lang, "index"),
            index_href="../index.html" if lang == "zh" else "../index.en.html",
        )
    )


def withdrawn_json(entry: Entry, lang: str) -> str:
    """What stands at a withdrawn issue's JSON address: the withdrawal, no numbers."""
    document = {
        "schema": WITHDRAWN_SCHEMA,
        "week": entry.week,
        "lang": lang,
        "title": entry.title if lang == "zh" else entry.title_en,
        "tlp": "CLEAR",
        "withdrawn_at": entry.withdrawn_at,
        "reason": entry.reason,
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def build_site(workspace: Workspace, out: Path) -> SiteBuild:
    """Write the archive of every published issue into ``out`` (a withdrawn one as a notice page);
    files of the published folder that are not issues are skipped and returned."""
    found = archive(workspace)
    written = []
    entries = []
    for issue in reversed(found.issues):
        entry = entry_of(workspace, issue)
        entries.append(entry)
        folder = out / entry.week
        if entry.withdrawn_at is None:
            written += render_week(workspace, issue.week, langs=list(LANGS), formats=["html", "json"], out=folder)
            continue
        for lang in LANGS:
            for fmt, text in (("html", withdrawn_page(entry, lang)), ("json", withdrawn_json(entry, lang))):
                atomic_write(folder / file_name(lang, fmt), text)
                written.append(folder / file_name(lang, fmt))
    for lang, name in (("zh", "index.html"), ("en", "index.en.html")):
        atomic_write(out / name, index_page(workspace, entries, lang))
        written.append(out / name)
    atomic_write(out / "feed.xml", atom_feed(workspace, entries))
    written.append(out / "feed.xml")
    return SiteBuild(written, found.strays)
