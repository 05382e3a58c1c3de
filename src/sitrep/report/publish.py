"""Published issues: frozen facts in the workspace, and rendering a week from them.

``sitrep publish --week W`` stores the week's facts (every number and the IDs behind it) as
``reports/published/<week>.json``, written atomically.  Rendering a published week uses that snapshot,
so later ingests or incident edits do not change what the issue printed.  ``--refresh`` gathers the
facts again, bumps the revision and records which numbers changed (old → new) in the snapshot's history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sitrep.config import Workspace
from sitrep.report.compose import REVIEW_COUNT, compose
from sitrep.report.facts import gather
from sitrep.report.model import Report
from sitrep.report.render import FORMATS, atomic_write, write_edition
from sitrep.report.wording import LANGS
from sitrep.weeks import Week

SCHEMA = "sitrep.issue/1"
# Bookkeeping that changes on every computation without changing what the issue says.
_NOT_COMPARED = ("computed_at",)


def published_dir(workspace: Workspace) -> Path:
    """Where frozen issues are kept (inside the workspace's reports folder)."""
    return workspace.reports_dir / "published"


def issue_path(workspace: Workspace, week: Week) -> Path:
    return published_dir(workspace) / f"{week}.json"


def load_issue(workspace: Workspace, week: Week) -> dict[str, Any] | None:
    """The published issue of ``week``, or None when the week is not published."""
    path = issue_path(workspace, week)
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def published_weeks(workspace: Workspace) -> list[Week]:
    """Every published week, oldest first."""
    folder = published_dir(workspace)
    if not folder.is_dir():
        return []
    return sorted(Week.parse(p.stem) for p in folder.glob("*.json"))


def _leaves(data: Any, prefix: str = "") -> dict[str, Any]:
    """Flatten nested facts to ``path → value``; ID lists stay whole (compared as sets)."""
    if isinstance(data, dict):
        found: dict[str, Any] = {}
        for key, value in data.items():
            if key not in _NOT_COMPARED:
                found.update(_leaves(value, f"{prefix}.{key}" if prefix else str(key)))
        return found
    if isinstance(data, list) and not all(isinstance(v, str) for v in data):
        found = {}
        for i, value in enumerate(data):
            found.update(_leaves(value, f"{prefix}[{i}]"))
        return found
    return {prefix: data}


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """What changed between two sets of facts: numbers as old → new, ID lists as added/removed."""
    before, after = _leaves(old), _leaves(new)
    changes = []
    for path in sorted(before.keys() | after.keys()):
        a, b = before.get(path), after.get(path)
        if a == b:
            continue
        if isinstance(a, list) or isinstance(b, list):
            added = sorted(set(b or []) - set(a or []))
            removed = sorted(set(a or []) - set(b or []))
            if added or removed:
                changes.append({"path": path, "added": added, "removed": removed})
        else:
            changes.append({"path": path, "old": a, "new": b})
    return changes


@dataclass
class PublishResult:
    """What ``publish`` did: ``status`` is ``published``, ``unchanged`` (already frozen) or ``refreshed``."""

    week: str
    status: str
    revision: int
    path: Path
    changes: list[dict[str, Any]] = field(default_factory=list)


def publish(workspace: Workspace, week: Week, *, refresh: bool = False, now: datetime | None = None) -> PublishResult:
    """Freeze ``week``'s facts; with ``refresh``, re-compute them and record what changed."""
    moment = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    path = issue_path(workspace, week)
    issue = load_issue(workspace, week)
    if issue is not None and not refresh:
        return PublishResult(str(week), "unchanged", issue["revision"], path)
    facts = gather(workspace, week, now=now)
    if issue is None:
        issue = {
            "schema": SCHEMA,
            "week": str(week),
            "published_at": moment,
            "revision": 1,
            "facts": facts,
            "history": [{"revision": 1, "at": moment, "action": "published", "changes": []}],
        }
        status, changes = "published", []
    else:
        changes = diff(issue["facts"], facts)
        revision = issue["revision"] + 1
        issue = {
            **issue,
            "revision": revision,
            "refreshed_at": moment,
            "facts": facts,
            "history": [
                *issue["history"],
                {"revision": revision, "at": moment, "action": "refreshed", "changes": changes},
            ],
        }
        status = "refreshed"
    atomic_write(path, json.dumps(issue, ensure_ascii=False, indent=2) + "\n")
    return PublishResult(str(week), status, issue["revision"], path, changes)


def previous_issues(workspace: Workspace, week: Week, count: int = REVIEW_COUNT) -> list[Week]:
    """近期回顾: the ``count`` published issues before ``week``, newest first.

    A workspace that has published nothing yet lists the ``count`` weeks before (the issues a weekly
    series would have), so a first draft still shows the section's shape.
    """
    published = [w for w in published_weeks(workspace) if w < week]
    if published:
        return published[::-1][:count]
    return week.previous(count)


def editions(workspace: Workspace, week: Week, langs: list[str]) -> list[Report]:
    """The report models of ``week`` in ``langs``: from the frozen facts when published, else fresh."""
    issue = load_issue(workspace, week)
    facts = issue["facts"] if issue else gather(workspace, week)
    previous = previous_issues(workspace, week)
    return [
        compose(
            facts,
            workspace.settings,
            lang,
            previous=previous,
            published_at=issue["published_at"][:10] if issue else None,
            revision=issue["revision"] if issue else 0,
        )
        for lang in langs
    ]


def render_week(
    workspace: Workspace,
    week: Week,
    *,
    langs: list[str] | None = None,
    formats: list[str] | None = None,
    out: Path | None = None,
) -> list[Path]:
    """Write ``week``'s report (default: both languages, all formats, into ``reports/<week>/``)."""
    target = out or workspace.reports_dir / str(week)
    written = []
    for report in editions(workspace, week, list(langs or LANGS)):
        written += write_edition(report, list(formats or FORMATS), target)
    return written


def publish_and_render_demo(workspace: Workspace, weeks: list[Week]) -> Path:
    """Publish ``weeks`` (re-computing any already published) and render the latest in every format;
    returns the Chinese HTML report to open.  (``sitrep site`` builds the archive when wanted.)"""
    for week in sorted(weeks):
        publish(workspace, week, refresh=True)
    latest = max(weeks)
    render_week(workspace, latest)
    return workspace.reports_dir / str(latest) / "report.zh.html"
