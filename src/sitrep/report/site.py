"""The archive: a static site of every published issue, in Chinese and English, with an Atom feed per
language.

Layout (relative links between pages, so the folder can be served from anywhere or opened from disk)::

    index.html                 all issues, newest first (Chinese), with links to both editions and PDFs
    index.en.html              the same in English
    feed.xml, feed.en.xml      Atom feeds (zh, en), one entry per issue; absolute links under
                               ``[report] base_url``
    <week>/report.<lang>.html  each issue, the same file ``sitrep report`` writes
    <week>/report.<lang>.pdf
    <week>/report.<lang>.json  the numbers and the IDs behind them
    .sitrep-site.json          the manifest: what each file was built from

Every page carries the CJK font (cut down to its characters), so Chinese shows without a system font.

A build is incremental: each issue's files are kept under a key made of the digest of its published
document, the issues its 近期回顾 lists, the settings the pages print and the renderers' version; an
issue whose key is unchanged (and whose files are there) is not rendered again.  Issues to render are
rendered in parallel processes.

The workspace keeps each issue's files as they were first rendered (``reports/editions/<week>/``, see
:class:`KeptEditions`): a published issue is an official record, so its pages and PDF stay the same
files when Sitrep is upgraded, and a build into a new folder copies them instead of drawing them again.
``rerender`` draws every issue anew (after a fix in how reports look) and keeps the new files.

A withdrawn issue (``sitrep unpublish``) stays in the index and the feeds, marked withdrawn with the
date and the reason; its pages say so instead of showing the issue, and its JSON is a
``sitrep.withdrawn/1`` notice.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import os
import shutil
import tempfile
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field, fields
from functools import cache, lru_cache, partial
from importlib import metadata
from importlib.resources import files
from pathlib import Path
from typing import Any

import sitrep
from sitrep.config import Workspace
from sitrep.report import wording as w
from sitrep.report.archive import Issue, IssueError, Stray, issue_files, read_issue, recent_issues
from sitrep.report.compose import REVIEW_COUNT, SUB_ROWS
from sitrep.report.errors import OutputError
from sitrep.report.model import Report
from sitrep.report.redact import workspace_secret
from sitrep.report.render import atomic_write, file_name, write_edition
from sitrep.report.wording import LANGS
from sitrep.taxonomy import INDICATORS
from sitrep.weeks import Week

ATOM = "http://www.w3.org/2005/Atom"
WITHDRAWN_SCHEMA = "sitrep.withdrawn/1"
MANIFEST_NAME = ".sitrep-site.json"
MANIFEST_SCHEMA = "sitrep.site/1"
# The formats of an issue the site carries.
SITE_FORMATS = ("html", "pdf", "json")
INDEX_NAMES = {"zh": "index.html", "en": "index.en.html"}
FEED_NAMES = {"zh": "feed.xml", "en": "feed.en.xml"}
# The numbers an entry's summary gives: the indicator table's main rows (not the 其中… sub-rows).
HEADLINE = tuple(key for key, _, _ in INDICATORS if key not in SUB_ROWS)
# The libraries whose version changes the files (charts, PDF layout, the font and its cut).
RENDERING_LIBRARIES = ("matplotlib", "weasyprint", "fonttools", "jinja2", "pylopdf-fonts-zh-cn")


@dataclass(frozen=True)
class Entry:
    """One issue as the index and the feeds list it: its titles, rating and summary (the rating and
    the headline numbers), or its withdrawal notice (``withdrawn_at``/``reason`` set)."""

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

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Entry:
        """An entry as :func:`dataclasses.asdict` stored it (keys it does not know are ignored)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def in_lang(self, lang: str) -> dict[str, str]:
        """The title, rating and summary in ``lang``."""
        zh = lang == "zh"
        return {
            "title": self.title if zh else self.title_en,
            "rating": self.rating if zh else self.rating_en,
            "summary": self.summary if zh else self.summary_en,
        }


@dataclass(frozen=True)
class SiteBuild:
    """What ``build_site`` did: the files written and removed, the weeks rendered and those kept as
    they were, and the files of the published folder it skipped (not issues)."""

    files: list[Path]
    skipped: list[Stray]
    rendered: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # weeks whose files were copied from the kept editions


def _summary(report: Report) -> str:
    rows = {row.key: row for row in report.section("overview").table}
    numbers = []
    for key in HEADLINE:
        row = rows[key]
        new = row.direction in ("new", "none")
        values = {"label": row.label, "value": row.value_text, "change": row.change_text}
        numbers.append(w.text(report.lang, "entry_number_new" if new else "entry_number", **values))
    return w.text(
        report.lang,
        "entry_summary",
        rating_label=report.labels["rating_label"],
        rating=report.rating_word,
        numbers=w.text(report.lang, "entry_sep").join(numbers),
    )


def entry_of(workspace: Workspace, issue: Issue, reports: list[Report] | None = None) -> Entry:
    """The archive's entry of one issue, or its withdrawal notice; ``reports`` are its editions when
    already composed (zh, en)."""
    withdrawal = issue.withdrawn
    if withdrawal is not None:
        day = withdrawal.at[:10]
        titles = {lang: w.title(issue.week, lang) for lang in LANGS}
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
    from sitrep.report.publish import issue_editions  # the lake and incident store: only when composing

    zh, en = reports or issue_editions(workspace, issue, ["zh", "en"], previous=[])
    return Entry(
        week=str(issue.week),
        title=zh.title,
        title_en=en.title,
        rating=zh.rating_word,
        rating_en=en.rating_word,
        published_at=issue.published_at,
        updated_at=issue.updated_at,
        summary=_summary(zh),
        summary_en=_summary(en),
    )


def _href(base: str, path: str) -> str:
    return f"{base.rstrip('/')}/{path}" if base else path


def atom_feed(workspace: Workspace, entries: list[Entry], lang: str = "zh") -> str:
    """The Atom 1.0 feed (RFC 4287) of the archive in ``lang``: absolute links and IDs under
    ``[report] base_url`` when it is set (relative links and ``urn:`` IDs otherwise)."""
    settings = workspace.settings
    base = settings.report.base_url
    org = settings.organisation.name if lang == "zh" else settings.organisation.name_en
    site_title = settings.report.site_title if lang == "zh" else settings.report.site_title_en
    urn = f"urn:sitrep:{settings.organisation.name}"
    ET.register_namespace("", ATOM)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        element.text = text
        return element

    feed = ET.Element(f"{{{ATOM}}}feed", {"xml:lang": "zh-CN" if lang == "zh" else "en"})
    sub(feed, "id", _href(base, FEED_NAMES[lang]) if base else f"{urn}:weekly:{lang}")
    sub(feed, "title", f"{org} {site_title}")
    sub(feed, "updated", max((e.updated_at for e in entries), default="1970-01-01T00:00:00+00:00"))
    sub(sub(feed, "author"), "name", org)
    sub(feed, "link", rel="self", type="application/atom+xml", href=_href(base, FEED_NAMES[lang]))
    sub(feed, "link", rel="alternate", type="text/html", href=_href(base, INDEX_NAMES[lang]))
    for e in entries:
        text = e.in_lang(lang)
        page = f"{e.week}/{file_name(lang, 'html')}"
        entry = sub(feed, "entry")
        sub(entry, "id", _href(base, page) if base else f"{urn}:{e.week}:{lang}")
        sub(entry, "title", w.text(lang, "withdrawn_title", title=text["title"]) if e.withdrawn_at else text["title"])
        sub(entry, "updated", e.updated_at)
        sub(entry, "published", e.published_at)
        sub(entry, "link", rel="alternate", type="text/html", hreflang=lang, href=_href(base, page))
        if not e.withdrawn_at:
            pdf = f"{e.week}/{file_name(lang, 'pdf')}"
            sub(entry, "link", rel="enclosure", type="application/pdf", hreflang=lang, href=_href(base, pdf))
        sub(entry, "summary", text["summary"])
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"


@lru_cache(maxsize=16)
def _font_css(chars: str) -> str:
    # Cutting the font takes about a second; the index pages of one archive share few character sets.
    from sitrep.report.render.html import embedded_font_css

    return embedded_font_css(chars)


def _with_font(render: Callable[[str], str]) -> str:
    """``render(font_css)`` with the CJK font cut down to the characters of the page."""
    return render(_font_css("".join(sorted(set(render(""))))))


def index_page(workspace: Workspace, entries: list[Entry], lang: str) -> str:
    """The archive's index page in ``lang`` (withdrawn issues marked, with the reason), the font embedded."""
    org = workspace.settings.organisation
    name = org.name if lang == "zh" else org.name_en
    title = workspace.settings.report.site_title if lang == "zh" else workspace.settings.report.site_title_en
    from sitrep.report.render.html import environment, stylesheet  # matplotlib: only when pages are drawn

    template = environment().get_template("index.html")
    return _with_font(
        lambda font_css: template.render(
            lang=lang,
            css=stylesheet(),
            font_css=font_css,
            title=title,
            organisation=name,
            intro=w.text(lang, "index_intro", org=name),
            heading=w.text(lang, "index"),
            feed_label=w.text(lang, "feed"),
            feed_href=FEED_NAMES[lang],
            other_label=w.text(lang, "other_lang"),
            other_href=INDEX_NAMES["en" if lang == "zh" else "zh"],
            rating_label=w.text(lang, "rating_label"),
            entries=[(e, e.in_lang(lang)) for e in entries],
        )
    )


def withdrawn_page(entry: Entry, lang: str) -> str:
    """What a withdrawn issue's page says instead of the issue (the same address, so old links and a
    copy of the site built earlier tell readers it was withdrawn)."""
    from sitrep.report.render.html import environment, stylesheet

    template = environment().get_template("withdrawn.html")
    return _with_font(
        lambda font_css: template.render(
            lang=lang,
            css=stylesheet(),
            font_css=font_css,
            title=entry.in_lang(lang)["title"],
            heading=w.text(lang, "withdrawn"),
            notice=entry.in_lang(lang)["summary"],
            index_label=w.text(lang, "index"),
            index_href=f"../{INDEX_NAMES[lang]}",
        )
    )


def withdrawn_json(entry: Entry, lang: str) -> str:
    """What stands at a withdrawn issue's JSON address: the withdrawal, no numbers."""
    document = {
        "schema": WITHDRAWN_SCHEMA,
        "week": entry.week,
        "lang": lang,
        "title": entry.in_lang(lang)["title"],
        "tlp": "CLEAR",
        "withdrawn_at": entry.withdrawn_at,
        "reason": entry.reason,
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


# The incremental build ---------------------------------------------------------------------------


def _digest(*parts: object) -> str:
    return hashlib.blake2b(json.dumps(parts, ensure_ascii=False).encode("utf-8"), digest_size=16).hexdigest()


@cache
def renderer_version() -> str:
    """The version of everything that turns a published issue into the site's files: Sitrep's code,
    templates and data (hashed, so any change counts, not only a release) and the versions of the
    libraries that draw, lay out and carry the font."""
    hasher = hashlib.blake2b(sitrep.__version__.encode(), digest_size=16)

    def walk(folder: Any) -> Iterator[Any]:
        for item in sorted(folder.iterdir(), key=lambda i: i.name):
            if item.is_dir():
                if item.name != "__pycache__":
                    yield from walk(item)
            elif not item.name.endswith(".pyc"):
                yield item

    for item in walk(files("sitrep")):
        hasher.update(item.name.encode() + b"\0" + item.read_bytes())
    for library in RENDERING_LIBRARIES:
        hasher.update(f"{library}={metadata.version(library)}".encode())
    return hasher.hexdigest()


def _printed(workspace: Workspace) -> str:
    """What every page says besides its issue: the settings the pages print (organisation, titles,
    base URL) and the workspace secret (the opaque IDs of restricted data)."""
    settings = workspace.settings
    secret = hashlib.blake2b(workspace_secret(workspace), digest_size=16).hexdigest()
    return _digest(settings.organisation.model_dump(mode="json"), settings.report.model_dump(mode="json"), secret)


def _context(workspace: Workspace) -> str:
    """What every page depends on besides its issue: the renderers and what the pages print."""
    return _digest(MANIFEST_SCHEMA, renderer_version(), _printed(workspace))


EDITIONS_SCHEMA = "sitrep.editions/1"
EDITIONS_MANIFEST = ".sitrep-editions.json"


def editions_dir(workspace: Workspace) -> Path:
    """Where the workspace keeps each published issue's site files: ``reports/editions/<week>/``."""
    return workspace.reports_dir / "editions"


@dataclass(frozen=True)
class KeptEditions:
    """Each issue's site files as first rendered, kept in the workspace under a key made of the issue's
    document, the earlier issues its 近期回顾 lists and what the pages print — not the renderers'
    version: an upgrade of Sitrep leaves published files as they were published.  One folder per week,
    replaced whole (a rename), with :data:`EDITIONS_MANIFEST` naming its key and files."""

    root: Path
    printed: str

    def key(self, issue_key: str) -> str:
        return _digest(EDITIONS_SCHEMA, issue_key, self.printed)

    def restore(self, week: Week, issue_key: str, target: Path) -> list[str] | None:
        """Copy the week's kept files into ``target``; their paths, or None when none are kept for this key
        (or they cannot be read: the issue is then rendered)."""
        folder = self.root / str(week)
        try:
            record = json.loads((folder / EDITIONS_MANIFEST).read_text(encoding="utf-8"))
            names = record["files"]
            if record.get("schema") != EDITIONS_SCHEMA or record.get("key") != self.key(issue_key):
                return None
            # Plain file names only: the record is read from disk, and a path must not leave the folder.
            if not names or not all(isinstance(n, str) and n == Path(n).name and not n.startswith(".") for n in names):
                return None
            contents = {name: (folder / name).read_bytes() for name in names}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        for name, data in contents.items():
            atomic_write(target / name, data)
        return [str(target / name) for name in names]

    def entry(self, week: Week, digest: str) -> Entry | None:
        """The index entry kept with the week's files, when they were drawn from the issue document of
        ``digest`` with the same printed settings (it costs composing the issue otherwise)."""
        try:
            record = json.loads((self.root / str(week) / EDITIONS_MANIFEST).read_text(encoding="utf-8"))
            if record.get("schema") != EDITIONS_SCHEMA or record.get("document") != digest:
                return None
            if record.get("printed") != self.printed:
                return None
            return Entry.from_dict(record["entry"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def keep(self, week: Week, known: _Known, written: list[str]) -> None:
        """Keep the files just rendered for ``week`` (replacing what was kept), with the issue's index
        entry.  Best effort: a workspace that cannot be written costs the next build a rendering, not
        this one its site."""
        final = self.root / str(week)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            work = Path(tempfile.mkdtemp(dir=self.root, prefix=f".{week}."))
        except OSError:
            return
        try:
            for path in map(Path, written):
                shutil.copyfile(path, work / path.name)
            record = {
                "schema": EDITIONS_SCHEMA,
                "key": self.key(known.key),
                "files": [Path(p).name for p in written],
                "document": known.digest,
                "printed": self.printed,
                "entry": asdict(known.entry),
            }
            (work / EDITIONS_MANIFEST).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
            old = None
            if final.exists():
                old = final.rename(self.root / f".{week}.old-{uuid.uuid4().hex}")
            work.rename(final)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            shutil.rmtree(work, ignore_errors=True)


@dataclass
class _Known:
    """One issue file as the manifest remembers it."""

    stamp: list[int]  # size, modification time (ns), inode: unchanged stamp, unchanged bytes
    digest: str  # of the file's bytes
    withdrawn: bool
    entry: Entry
    key: str = ""  # of the files built from it
    files: list[str] = field(default_factory=list)  # relative to the site folder

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "entry": asdict(self.entry)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> _Known:
        return cls(
            [int(v) for v in data["stamp"]],
            str(data["digest"]),
            bool(data["withdrawn"]),
            Entry.from_dict(data["entry"]),
            str(data["key"]),
            [str(f) for f in data["files"]],
        )


@dataclass
class _Manifest:
    context: str = ""
    issues: dict[str, _Known] = field(default_factory=dict)
    pages: dict[str, str] = field(default_factory=dict)  # index and feed file → digest of its content

    def save(self, out: Path) -> None:
        document = {
            "schema": MANIFEST_SCHEMA,
            "context": self.context,
            "issues": {week: known.as_dict() for week, known in sorted(self.issues.items())},
            "pages": self.pages,
        }
        text = json.dumps(document, ensure_ascii=False, indent=1) + "\n"
        path = out / MANIFEST_NAME
        with contextlib.suppress(OSError):
            if path.read_text(encoding="utf-8") == text:
                return  # an unchanged build leaves the folder untouched
        atomic_write(path, text)


def _load_manifest(out: Path) -> _Manifest:
    """The manifest of an earlier build; an empty one (everything is built) when there is none or it
    cannot be read."""
    try:
        data = json.loads((out / MANIFEST_NAME).read_text(encoding="utf-8"))
        if data.get("schema") != MANIFEST_SCHEMA:
            return _Manifest()
        issues = {str(week): _Known.from_dict(known) for week, known in data["issues"].items()}
        return _Manifest(str(data["context"]), issues, {str(k): str(v) for k, v in data["pages"].items()})
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return _Manifest()


def _stamp(path: Path) -> list[int]:
    stat = path.lstat()  # a symbolic link put in the file's place is a change (and not an issue)
    return [stat.st_size, stat.st_mtime_ns, stat.st_ino]


def _write_issue(reports: list[Report], folder: str) -> list[str]:
    """Render one issue's editions into ``folder`` (run in a worker process)."""
    written = []
    for report in reports:
        written += [str(p) for p in write_edition(report, list(SITE_FORMATS), Path(folder))]
    return written


def _write_withdrawn(entry: Entry, folder: Path) -> list[str]:
    written = []
    for lang in LANGS:
        for fmt, text in (("html", withdrawn_page(entry, lang)), ("json", withdrawn_json(entry, lang))):
            atomic_write(folder / file_name(lang, fmt), text)
            written.append(str(folder / file_name(lang, fmt)))
    return written


def _inside(out: Path, relative: str) -> Path | None:
    path = (out / relative).resolve()
    return path if path.is_relative_to(out.resolve()) else None


def _remove(out: Path, relatives: list[str]) -> list[Path]:
    """Remove files an earlier build wrote (and their folder once empty)."""
    removed = []
    for relative in relatives:
        path = _inside(out, relative)
        if path is not None and path.is_file():
            path.unlink()
            removed.append(path)
            with contextlib.suppress(OSError):  # not empty: other files of the issue are still there
                path.parent.rmdir()
    return removed


def default_jobs() -> int:
    """Processes rendering issues at once by default: one per CPU."""
    return os.cpu_count() or 1


def build_site(workspace: Workspace, out: Path, *, jobs: int | None = None, rerender: bool = False) -> SiteBuild:
    """Write (or bring up to date) the archive of every published issue in ``out``: a withdrawn one as
    a notice page; files of the published folder that are not issues are skipped and returned.

    Only issues whose key changed since the last build (:data:`MANIFEST_NAME`) are written: copied
    from the workspace's :class:`KeptEditions` when kept there, else rendered (in up to ``jobs``
    processes, default one per CPU) and kept.  ``rerender``: every issue is rendered anew, and its new
    files kept.  Raises
    :class:`~sitrep.report.errors.OutputError` when ``out`` cannot be written.
    """
    try:
        out.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocking = next((p for p in [out, *out.parents] if p.exists() and not p.is_dir()), out)
        raise OutputError(f"cannot write the site into {out}: {blocking} is not a folder") from None
    except OSError as exc:
        raise OutputError(f"cannot write the site into {out}: {exc.strerror or exc}") from None
    named, strays = issue_files(workspace)
    context = _context(workspace)
    old = _load_manifest(out)
    same = old.context == context
    manifest = _Manifest(context, pages=dict(old.pages) if same else {})
    kept = KeptEditions(editions_dir(workspace), _printed(workspace))
    result = SiteBuild([], strays)
    pending: dict[Week, tuple[_Known, Path]] = {}
    current: list[Week] = []
    entries = []
    # Oldest first: an issue's 近期回顾 lists only earlier issues, all known by the time it is reached.
    for week, path in named:
        try:
            known = _known(workspace, week, path, old.issues.get(str(week)) if same else None, kept)
        except IssueError as exc:
            result.skipped.append(Stray(path, str(exc).removeprefix(f"{path}: ")))
            continue
        built = old.issues.get(str(week))
        # A withdrawn issue's notice lists no other issue: its files depend on its document alone.
        previous = [] if known.withdrawn else recent_issues(current, week, REVIEW_COUNT)
        known.key = _digest(known.digest, [str(p) for p in previous])
        fresh = not rerender and same and built is not None and built.key == known.key
        if fresh and all((out / f).is_file() for f in built.files):
            known.files = built.files
            manifest.issues[str(week)] = known
            result.unchanged.append(str(week))
        else:
            pending[week] = (known, path)
        entries.append(known.entry)
        if not known.withdrawn:
            current.append(week)
    _render(workspace, out, pending, current, old, manifest, result, jobs or default_jobs(), kept, rerender)
    # Issues gone from the archive (deleted, or now damaged): their files go too.
    for gone_week, gone in old.issues.items():
        if gone_week not in manifest.issues:
            result.removed.extend(_remove(out, gone.files))
    newest_first = [e for e in reversed(entries) if e.week in manifest.issues]
    pages: dict[str, Callable[[], str]] = {}
    for lang in LANGS:
        pages[INDEX_NAMES[lang]] = partial(index_page, workspace, newest_first, lang)
        pages[FEED_NAMES[lang]] = partial(atom_feed, workspace, newest_first, lang)
    state = _digest([asdict(e) for e in newest_first])
    for name, make in pages.items():
        if manifest.pages.get(name) != state or not (out / name).is_file():
            atomic_write(out / name, make())
            result.files.append(out / name)
            manifest.pages[name] = state
    manifest.save(out)
    return result


def _known(workspace: Workspace, week: Week, path: Path, cached: _Known | None, kept: KeptEditions) -> _Known:
    """What the manifest keeps of the issue file ``path``: the cached record when the file is unchanged
    (same stamp, or same bytes), else read anew (its entry from the kept editions when they have it).
    Raises :class:`IssueError` when it is not an issue."""
    try:
        stamp = _stamp(path)
        if cached is not None and cached.stamp == stamp:
            return _Known(stamp, cached.digest, cached.withdrawn, cached.entry)
        digest = hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
    except OSError as exc:
        raise IssueError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if cached is not None and cached.digest == digest:
        return _Known(stamp, digest, cached.withdrawn, cached.entry)
    entry = kept.entry(week, digest)
    if entry is not None:
        return _Known(stamp, digest, False, entry)  # only issues that were not withdrawn are kept
    issue = read_issue(path, week)
    return _Known(stamp, digest, issue.withdrawn is not None, entry_of(workspace, issue))


def _render(
    workspace: Workspace,
    out: Path,
    pending: dict[Week, tuple[_Known, Path]],
    current: list[Week],
    old: _Manifest,
    manifest: _Manifest,
    result: SiteBuild,
    jobs: int,
    kept: KeptEditions,
    rerender: bool,
) -> None:
    """Write the ``pending`` issues: copied from ``kept`` when it has them (unless ``rerender``), else
    rendered (in worker processes when there are several) and kept; each is recorded in the manifest as
    soon as its files are written, so an interrupted build keeps what it finished."""

    def done(week: Week, written: list[str], copied: bool = False) -> None:
        known, _ = pending[week]
        relative = [Path(p).relative_to(out).as_posix() for p in written]
        earlier = old.issues.get(str(week))
        result.removed.extend(_remove(out, [f for f in (earlier.files if earlier else []) if f not in relative]))
        known.files = relative
        manifest.issues[str(week)] = known
        result.files.extend(Path(p) for p in written)
        (result.kept if copied else result.rendered).append(str(week))
        manifest.save(out)

    def drawn(week: Week, written: list[str]) -> None:
        done(week, written)
        kept.keep(week, pending[week][0], written)

    def editions(week: Week) -> list[Report]:
        from sitrep.report.publish import issue_editions  # the lake and incident store: only when drawing

        # Read again rather than kept from the scan: a week's frozen evidence is megabytes.
        issue = read_issue(pending[week][1], week)
        return issue_editions(workspace, issue, list(LANGS), previous=recent_issues(current, week, REVIEW_COUNT))

    to_draw = []
    for week, (known, _) in sorted(pending.items()):
        if known.withdrawn:
            done(week, _write_withdrawn(known.entry, out / str(week)))
        elif not rerender and (copied := kept.restore(week, known.key, out / str(week))) is not None:
            done(week, copied, copied=True)
        else:
            to_draw.append(week)
    if len(to_draw) <= 1 or jobs <= 1:
        for week in to_draw:
            drawn(week, _write_issue(editions(week), str(out / str(week))))
        return
    # Spawned, not forked: the parent may hold threads and open files a fork would copy mid-state.
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(jobs, len(to_draw)), mp_context=spawn) as pool:
        running: dict[Future[list[str]], Week] = {}
        try:
            for week in to_draw:
                running[pool.submit(_write_issue, editions(week), str(out / str(week)))] = week
            for future in as_completed(running):
                drawn(running[future], future.result())
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise
