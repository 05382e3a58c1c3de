"""The published issues kept in the workspace: ``reports/published/<week>.json``, one file per issue.

An issue file holds the week's frozen facts and narrative (:mod:`.narrative`), its revision and its
history (published, refreshed, withdrawn, republished).  A withdrawn issue stays in the archive with
the date and the reason, but is no longer current: it is not rendered from its frozen numbers, not
listed among the recent issues, and the site shows it as withdrawn.

Anything else in the folder — a file whose name is not a week (``notes.txt``, ``2025-W99.json``), a
file that is not valid JSON or not an issue — is a *stray*: it is never read as an issue, and
:func:`archive` lists it with what is wrong so commands can say so.  Asking for the issue of a week
whose file is damaged, or a symbolic link, raises :class:`IssueError`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sitrep.config import Workspace
from sitrep.report.errors import OutputError
from sitrep.report.facts_model import SCHEMA as FACTS_SCHEMA
from sitrep.report.facts_model import Facts
from sitrep.report.narrative import NarrativeError, Text, texts_from_dict
from sitrep.report.render import write_json_file
from sitrep.results import ResultError
from sitrep.weeks import Week

SCHEMA = "sitrep.issue/1"


class IssueError(Exception):
    """An issue file that cannot be read as an issue; the message names the file and the problem."""


@dataclass(frozen=True)
class Withdrawal:
    """When and why an issue was withdrawn."""

    at: str
    reason: str


@dataclass(frozen=True)
class Issue:
    """One published (or withdrawn) issue as stored: ``document`` is the file's content, ``facts`` its
    frozen facts as read (once, when the file was)."""

    week: Week
    path: Path
    document: dict[str, Any]
    facts: Facts

    @property
    def revision(self) -> int:
        return int(self.document["revision"])

    @property
    def published_at(self) -> str:
        return str(self.document["published_at"])

    @property
    def updated_at(self) -> str:
        """When its numbers last changed (first publication or last refresh)."""
        return str(self.document.get("refreshed_at") or self.document["published_at"])

    @property
    def history(self) -> list[dict[str, Any]]:
        return list(self.document["history"])

    @property
    def narrative(self) -> dict[str, Text]:
        """The narrative frozen with the facts, by language (empty in issues published without one)."""
        return texts_from_dict(self.document.get("narrative", {}), str(self.path))

    @property
    def withdrawn(self) -> Withdrawal | None:
        """Set while the issue is withdrawn."""
        found = self.document.get("withdrawn")
        return Withdrawal(str(found["at"]), str(found["reason"])) if found else None


@dataclass(frozen=True)
class Stray:
    """A file in the published folder that is not an issue, and why."""

    path: Path
    problem: str


@dataclass(frozen=True)
class Archive:
    """Every issue file (oldest first, withdrawn ones included) and the strays beside them."""

    issues: list[Issue]
    strays: list[Stray]

    @property
    def current(self) -> list[Issue]:
        """The issues that are published now (not withdrawn), oldest first."""
        return [i for i in self.issues if i.withdrawn is None]


def published_dir(workspace: Workspace) -> Path:
    """Where frozen issues are kept (inside the workspace's reports folder)."""
    return workspace.reports_dir / "published"


def issue_path(workspace: Workspace, week: Week) -> Path:
    return published_dir(workspace) / f"{week}.json"


def _problem(document: Any, week: Week) -> str | None:
    """What makes ``document`` not an issue of ``week``, or None."""
    if not isinstance(document, dict):
        return f"not an issue (a JSON {type(document).__name__}, not an object)"
    if document.get("schema") != SCHEMA:
        return f"not an issue (schema {document.get('schema')!r}, expected {SCHEMA!r})"
    if document.get("week") != str(week):
        return f"holds the issue of {document.get('week')!r}, not of {week} as its name says"
    facts = document.get("facts")
    if not isinstance(facts, dict) or facts.get("schema") != FACTS_SCHEMA:
        return f"its facts are missing or not {FACTS_SCHEMA!r}"
    if not isinstance(document.get("revision"), int) or not isinstance(document.get("history"), list):
        return "its revision or history is missing"
    if not isinstance(document.get("published_at"), str):
        return "its publication time is missing"
    try:
        texts_from_dict(document.get("narrative", {}), "")
    except NarrativeError:
        return "its narrative is damaged"
    withdrawn = document.get("withdrawn")
    if withdrawn is not None and not (isinstance(withdrawn, dict) and {"at", "reason"} <= withdrawn.keys()):
        return "its withdrawal record is damaged"
    return None


def _read(path: Path, week: Week) -> Issue:
    if path.is_symlink():
        # An issue is a plain file of the archive: a link could point anywhere, and a re-publication
        # would silently replace the link rather than the file it points to.
        raise IssueError(f"{path}: a symbolic link, not an issue file (replace it with the file itself)")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except IsADirectoryError:
        raise IssueError(f"{path}: a folder, not an issue file") from None
    except UnicodeDecodeError:
        raise IssueError(f"{path}: not an issue (not UTF-8 text)") from None
    except json.JSONDecodeError as exc:
        raise IssueError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except OSError as exc:
        raise IssueError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    problem = _problem(document, week)
    if problem:
        raise IssueError(f"{path}: {problem}")
    try:
        facts = Facts.from_dict(document["facts"])
    except ResultError as exc:
        raise IssueError(f"{path}: its facts are damaged ({exc})") from None
    return Issue(week, path, document, facts)


def load_issue(workspace: Workspace, week: Week) -> Issue | None:
    """The stored issue of ``week`` (published or withdrawn), or None when there is none.

    Raises :class:`IssueError` when the week's file exists but is not a readable issue.
    """
    path = issue_path(workspace, week)
    if not path.exists() and not path.is_symlink():
        return None
    return _read(path, week)


def _week_of_name(path: Path) -> tuple[Week | None, str | None]:
    if path.suffix != ".json":
        return None, "not an issue file (issue files are named <week>.json, e.g. 2025-W01.json)"
    try:
        week = Week.parse(path.stem)
    except ValueError as exc:
        return None, f"not named after a week ({exc})"
    if path.stem != str(week):
        return None, f"not named as an issue file (the issue of {week} is {week}.json)"
    return week, None


def issue_files(workspace: Workspace) -> tuple[list[tuple[Week, Path]], list[Stray]]:
    """The files of the published folder named as issues (by week, oldest first, not read), and the
    strays among them by name; what :func:`archive` reads, for callers that read only what changed."""
    folder = published_dir(workspace)
    if not folder.is_dir():
        if folder.exists() or folder.is_symlink():
            return [], [Stray(folder, "not a folder: the published issues' folder belongs here")]
        return [], []
    named, strays = [], []
    # Names starting with a dot are work files of an interrupted write (see ``atomic_write``).
    for path in sorted(p for p in folder.iterdir() if not p.name.startswith(".")):
        week, problem = _week_of_name(path)
        if week is None:
            strays.append(Stray(path, problem or "not an issue"))
        else:
            named.append((week, path))
    return sorted(named), strays


def read_issue(path: Path, week: Week) -> Issue:
    """The issue of ``week`` stored in ``path``; raises :class:`IssueError` when it is not one."""
    return _read(path, week)


def archive(workspace: Workspace) -> Archive:
    """Every issue file of the workspace, and the strays (never raises for a damaged file)."""
    named, strays = issue_files(workspace)
    issues = []
    for week, path in named:
        try:
            issues.append(_read(path, week))
        except IssueError as exc:
            strays.append(Stray(path, str(exc).removeprefix(f"{path}: ")))
    return Archive(issues, strays)


def recent_issues(current: Iterable[Week], week: Week, count: int) -> list[Week]:
    """Of the ``current`` (published, not withdrawn) issues, the ``count`` before ``week``, newest first."""
    return sorted((w for w in current if w < week), reverse=True)[:count]


def write_issue(workspace: Workspace, week: Week, document: dict[str, Any]) -> Path:
    """Store ``document`` as the issue of ``week`` (atomically); returns its path."""
    path = issue_path(workspace, week)
    try:
        write_json_file(path, document)
    except OutputError as exc:
        raise IssueError(f"cannot store the issue of {week}: {exc}") from None
    return path
