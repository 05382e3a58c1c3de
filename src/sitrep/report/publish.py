"""Publishing: freezing a week's facts, refreshing and withdrawing an issue, and rendering a week.

``sitrep publish --week W`` first checks the week (:func:`sitrep.report.check.check_week`).  A week
that has not started is refused; one that has not ended, or whose check found errors, is refused
unless forced with a reason, which the issue's history records with what was overridden.  It then
stores the week's facts (every number and the IDs behind it) in the archive (:mod:`.archive`).
Rendering a published week uses that snapshot, so later ingests or incident edits do not change what
the issue printed.  The week's narrative (:mod:`.narrative`) is frozen with the facts.  ``--refresh``
gathers the facts again and takes the narrative's working copy; when a number or the narrative
changed, it bumps the revision and records the changes (old → new) in the history.  ``sitrep unpublish`` withdraws an
issue: it stays in the archive with the reason, is no longer current, and can be published again.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from sitrep.config import Workspace, settings_key
from sitrep.incidents.db import open_store
from sitrep.lake.store import Lake
from sitrep.memo import folder_state
from sitrep.report.archive import SCHEMA, Issue, archive, load_issue, published_dir, recent_issues, write_issue
from sitrep.report.check import check_week, week_state
from sitrep.report.check_model import CheckResult
from sitrep.report.compose import REVIEW_COUNT, compose
from sitrep.report.errors import PublishError, PublishRefused
from sitrep.report.facts import gather
from sitrep.report.model import Report
from sitrep.report.narrative import Text, leaves, load_narrative
from sitrep.report.redact import workspace_secret
from sitrep.report.render import FORMATS, file_name, write_edition
from sitrep.report.wording import LANGS
from sitrep.weeks import Week

# Bookkeeping that changes on every computation without changing what the issue says.
_NOT_COMPARED = ("computed_at",)
MAX_REASON = 500
# Recorded as the reason when ``sitrep demo`` publishes its synthetic weeks.
DEMO_REASON = "sitrep demo: synthetic data"


def clean_reason(text: str) -> str:
    """A reason as it is recorded (and shown on the site for a withdrawal): one line of plain text."""
    reason = text.strip()
    if not reason:
        raise PublishError("the reason is empty: say why in a few words")
    if any(unicodedata.category(c) == "Cc" for c in reason):
        raise PublishError("the reason must be one line of text (no line breaks or control characters)")
    if len(reason) > MAX_REASON:
        raise PublishError(f"the reason is {len(reason)} characters long; keep it under {MAX_REASON}")
    return reason


# Fields that name the items of a list of records (a family, a region, a week…): a change is reported
# against the item, e.g. ``by_object_type[应用程序].count``, not against a position that may shift.
_ITEM_KEYS = ("week", "key", "code", "type", "name")


def _item_key(items: list[Any]) -> str | None:
    for name in _ITEM_KEYS:
        named = all(isinstance(v, dict) and isinstance(v.get(name), str) for v in items)
        if named and len({v[name] for v in items}) == len(items):
            return name
    return None


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
        name = _item_key(data)
        for i, value in enumerate(data):
            found.update(_leaves(value, f"{prefix}[{value[name]}]" if name else f"{prefix}[{i}]"))
        return found
    return {prefix: data}


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """What changed between two sets of facts: numbers as old → new, ID lists as added/removed."""
    before, after = _leaves(old), _leaves(new)
    changes: list[dict[str, Any]] = []
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


PublishStatus = Literal["published", "unchanged", "refreshed", "republished"]


@dataclass
class PublishResult:
    """What ``publish`` did.

    ``status``: ``published`` (first time), ``refreshed`` (numbers or the narrative changed, new
    revision), ``republished`` (a withdrawn issue published again), ``unchanged`` (already published,
    or re-computed with nothing changed).  ``changes`` are the facts' changes, ``narrative_changes``
    the narrative's (``{path, old, new}``, a missing text being None).  ``check`` is the week's check
    (None when nothing was re-computed); ``forced`` the reason when ``overridden`` lists what
    publishing went past.
    """

    week: str
    status: PublishStatus
    revision: int
    path: Path
    changes: list[dict[str, Any]] = field(default_factory=list)
    check: CheckResult | None = None
    forced: str | None = None
    overridden: list[str] = field(default_factory=list)
    narrative_changes: list[dict[str, Any]] = field(default_factory=list)


def _blockers(check: CheckResult) -> list[str]:
    """What stops the week from being published: it has not ended, and the check's errors."""
    return [f.message for f in check.findings if f.level == "error" or f.code == "open"]


def publish(
    workspace: Workspace,
    week: Week,
    *,
    refresh: bool = False,
    force_reason: str | None = None,
    now: datetime | None = None,
) -> PublishResult:
    """Freeze ``week``'s facts; with ``refresh``, re-compute them and record what changed.

    The narrative's working copy is frozen with the facts.  Raises :class:`PublishRefused` when the
    week has not started, or has not ended or fails its check and no ``force_reason`` is given;
    :class:`~sitrep.report.archive.IssueError` when its file is damaged,
    :class:`~sitrep.report.narrative.NarrativeError` when its narrative's is.
    """
    moment = now or datetime.now(UTC)
    stamp = moment.isoformat(timespec="seconds")
    reason = clean_reason(force_reason) if force_reason is not None else None
    issue = load_issue(workspace, week)
    if issue is not None and issue.withdrawn is None and not refresh:
        return PublishResult(str(week), "unchanged", issue.revision, issue.path)
    working = load_narrative(workspace, week)
    narrative = working.as_dict()
    check = check_week(workspace, week, now=moment)
    blockers = _blockers(check)
    if check.state == "future":
        raise PublishRefused(week, blockers, check, forceable=False)
    if blockers and reason is None:
        raise PublishRefused(week, blockers, check, forceable=True)
    facts = gather(workspace, week, now=moment)
    entry: dict[str, Any] = {"at": stamp}
    if blockers:
        entry["forced"] = {"reason": reason, "overridden": blockers}
    warnings = [f.message for f in check.warnings if f.message not in blockers]
    if warnings:
        entry["warnings"] = warnings
    if issue is None:
        document: dict[str, Any] = {
            "schema": SCHEMA,
            "week": str(week),
            "published_at": stamp,
            "revision": 1,
            "facts": facts.as_dict(),
            "narrative": narrative,
            "history": [{"revision": 1, "action": "published", "changes": [], **entry}],
        }
        status: PublishStatus = "published"
        changes: list[dict[str, Any]] = []
        told: list[dict[str, Any]] = []
    else:
        changes = diff(issue.document["facts"], facts.as_dict())
        told = diff(leaves(issue.narrative), leaves(working.texts))
        if issue.withdrawn is None and not changes and not told:
            return PublishResult(str(week), "unchanged", issue.revision, issue.path, [], check)
        status = "refreshed" if issue.withdrawn is None else "republished"
        revision = issue.revision + 1
        document = {k: v for k, v in issue.document.items() if k != "withdrawn"}
        if told:
            entry["narrative_changes"] = told
        document.update(
            revision=revision,
            refreshed_at=stamp,
            facts=facts.as_dict(),
            narrative=narrative,
            history=[*issue.history, {"revision": revision, "action": status, "changes": changes, **entry}],
        )
    path = write_issue(workspace, week, document)
    return PublishResult(
        str(week),
        status,
        document["revision"],
        path,
        changes,
        check,
        reason if blockers else None,
        blockers,
        told,
    )


def unpublish(workspace: Workspace, week: Week, *, reason: str, now: datetime | None = None) -> Issue:
    """Withdraw the issue of ``week``: it stays in the archive with ``reason`` but is no longer current.

    Raises :class:`PublishError` when the week is not published or already withdrawn.
    """
    text = clean_reason(reason)
    stamp = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    issue = load_issue(workspace, week)
    if issue is None:
        raise PublishError(f"{week} is not published")
    if issue.withdrawn is not None:
        raise PublishError(f"{week} was already withdrawn on {issue.withdrawn.at}: {issue.withdrawn.reason}")
    document = {
        **issue.document,
        "withdrawn": {"at": stamp, "reason": text},
        "history": [
            *issue.history,
            {"revision": issue.revision, "at": stamp, "action": "withdrawn", "reason": text, "changes": []},
        ],
    }
    return Issue(week, write_issue(workspace, week, document), document, issue.facts)


def previous_issues(
    workspace: Workspace,
    week: Week,
    lang: str,
    *,
    folder: Path | None = None,
    count: int = REVIEW_COUNT,
    issues: list[Issue] | None = None,
) -> list[Week]:
    """近期回顾: the issues before ``week`` that exist, newest first, at most ``count``.

    They are the published issues (withdrawn ones left out) and, for an edition written into
    ``folder``, the drafts whose ``lang`` edition was rendered beside it (``folder/../<week>/``, where
    the review's relative links point; not when ``report.base_url`` sends them to the public archive).
    A workspace that has published and rendered nothing before ``week`` lists none.  ``issues``: the
    workspace's issue files, when the caller has read them already (every one is read otherwise).
    """
    if issues is None:
        issues = archive(workspace).issues
    found = {i.week for i in issues if i.withdrawn is None}
    if folder is not None and not workspace.settings.report.base_url:
        recorded = {i.week for i in issues}
        found |= {w for w in rendered_weeks(folder.parent, lang) if w not in recorded}
    return recent_issues(found, week, count)


def rendered_weeks(folder: Path, lang: str) -> list[Week]:
    """The weeks whose ``lang`` HTML edition is in ``folder/<week>/``, as ``sitrep report`` writes them."""
    if not folder.is_dir():
        return []
    found = []
    for entry in folder.iterdir():
        try:
            week = Week.parse(entry.name)
        except ValueError:
            continue  # reports/published/, reports/narrative/ and other folders of the workspace
        # The links name the folder as the week prints (``2025-W01``), so another spelling is no match.
        if entry.name == str(week) and (entry / file_name(lang, "html")).is_file():
            found.append(week)
    return found


def report_inputs(workspace: Workspace, week: Week, *, now: datetime | None = None) -> tuple[str, ...]:
    """Everything the report models of ``week`` (:func:`editions`) and its check
    (:func:`~sitrep.report.check.check_week`) are computed from, as a key to keep them under
    (:mod:`sitrep.memo`): the week and whether it has ended at ``now``, the lake's commit state, the
    issue files, the incident store's change counter, the settings and the workspace secret (the
    opaque IDs of restricted data).  Read it *before* computing: a change made meanwhile then leaves
    the result under a key no later caller asks for, never an old result under a new key."""
    secret = hashlib.blake2b(workspace_secret(workspace), digest_size=16).hexdigest()
    return (
        str(workspace.root),
        str(week),
        week_state(workspace, week, now),
        Lake.of(workspace).commit_state(),
        folder_state(published_dir(workspace)),
        str(open_store(workspace).changes()),
        settings_key(workspace),
        secret,
    )


def editions(workspace: Workspace, week: Week, langs: list[str], *, folder: Path | None = None) -> list[Report]:
    """The report models of ``week`` in ``langs``: from the frozen facts and narrative when published,
    else fresh with the narrative's working copy (a draft; a withdrawn issue is rendered as one too).
    ``folder``, where they will be written, adds the drafts rendered beside it to 近期回顾."""
    stored = load_issue(workspace, week)
    issues = archive(workspace).issues  # read once for the 近期回顾 of every language

    def previous(lang: str) -> list[Week]:
        return previous_issues(workspace, week, lang, folder=folder, issues=issues)

    if stored is not None and stored.withdrawn is None:
        return [r for lang in langs for r in issue_editions(workspace, stored, [lang], previous=previous(lang))]
    narrative = load_narrative(workspace, week).texts
    facts = gather(workspace, week)
    secret = workspace_secret(workspace)
    return [
        compose(
            facts,
            workspace.settings,
            lang,
            previous=previous(lang),
            secret=secret,
            narrative=narrative.get(lang, Text()),
        )
        for lang in langs
    ]


def issue_editions(workspace: Workspace, issue: Issue, langs: list[str], *, previous: list[Week]) -> list[Report]:
    """The report models of a published ``issue`` in ``langs``, from its frozen facts and narrative;
    ``previous`` are the issues 近期回顾 lists (the archive passes them, having read every issue once)."""
    secret = workspace_secret(workspace)
    return [
        compose(
            issue.facts,
            workspace.settings,
            lang,
            previous=previous,
            secret=secret,
            published_at=issue.published_at[:10],
            revision=issue.revision,
            narrative=issue.narrative.get(lang, Text()),
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
    on_edition: Callable[[str], None] | None = None,
) -> list[Path]:
    """Write ``week``'s report (default: both languages, all formats, into ``reports/<week>/``);
    ``on_edition(lang)`` is told when each language's files are begun (a job's progress)."""
    target = out or workspace.reports_dir / str(week)
    written = []
    for report in editions(workspace, week, list(langs or LANGS), folder=target):
        if on_edition:
            on_edition(report.lang)
        written += write_edition(report, list(formats or FORMATS), target)
    return written


def publish_and_render_demo(workspace: Workspace, weeks: list[Week]) -> Path:
    """Publish ``weeks`` (re-computing any already published; forced with :data:`DEMO_REASON` where
    the check objects, a week that has not started is left a draft) and render the latest in every
    format, the others as HTML, so that every link of 近期回顾 opens; returns the Chinese HTML report
    to open.  (``sitrep site`` builds the archive when wanted.)"""
    for week in sorted(weeks):
        try:
            publish(workspace, week, refresh=True, force_reason=DEMO_REASON)
        except PublishRefused as exc:
            if exc.forceable:
                raise
    latest = max(weeks)
    for week in sorted(weeks):
        render_week(workspace, week, formats=None if week == latest else ["html"])
    return workspace.reports_dir / str(latest) / "report.zh.html"
