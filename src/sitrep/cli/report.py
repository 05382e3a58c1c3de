"""``sitrep report``, ``publish`` and ``site``: the weekly report, freezing an issue, and the archive."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.table import Table

from sitrep.cli.common import EngineOption, actor_of, console, fail, out, print_json, user_errors, workspace
from sitrep.cli.metrics import parse_week
from sitrep.config import ConfigError
from sitrep.lake.errors import LakeError
from sitrep.report.archive import IssueError
from sitrep.report.errors import OutputError, PublishError, PublishRefused
from sitrep.report.narrative import NarrativeError
from sitrep.report.redact import SecretError
from sitrep.report.render import FORMATS
from sitrep.report.wording import LANGS

if TYPE_CHECKING:
    from sitrep.config import Workspace
    from sitrep.report.check_model import CheckResult
    from sitrep.weeks import Week

# Core errors whose message is shown as is (exit status 2).
_ERRORS = (IssueError, PublishError, OutputError, SecretError, LakeError, NarrativeError)

WeekOption = Annotated[
    str | None,
    typer.Option("--week", "-w", help="ISO week, e.g. 2025-W01 (default: the last complete week)."),
]


def _langs(value: str) -> list[str]:
    if value == "all":
        return list(LANGS)
    if value not in LANGS:
        fail(f"--lang {value!r}: use zh, en or all")
    return [value]


def _formats(value: str) -> list[str]:
    chosen = [f.strip().lower() for f in value.split(",") if f.strip()]
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        fail(f"--format {value!r}: use a comma-separated list of {', '.join(FORMATS)}")
    return chosen


def report(
    week: WeekOption = None,
    lang: Annotated[str, typer.Option("--lang", "-l", help="zh, en or all.")] = "all",
    fmt: Annotated[str, typer.Option("--format", "-f", help="Comma-separated: html,pdf,md,json,wechat.")] = ",".join(
        FORMATS
    ),
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Folder (default: the workspace's reports/<week>/).")
    ] = None,
    engine: EngineOption = None,
) -> None:
    """Write the weekly report: the published numbers if the week is published, else computed now (a
    draft, as for a withdrawn issue)."""
    from sitrep.report.archive import load_issue
    from sitrep.report.publish import render_week  # loads Ibis, matplotlib and WeasyPrint: only when drawing

    ws = workspace(engine)
    chosen = parse_week(week, ws.timezone)
    langs, formats = _langs(lang), _formats(fmt)
    with user_errors(*_ERRORS):
        issue = load_issue(ws, chosen)
        written = render_week(ws, chosen, langs=langs, formats=formats, out=output)
    for path in written:
        out.print(str(path))
    if issue is None:
        console.print(f"{chosen} is not published: written as a draft from the numbers computed now")
    elif issue.withdrawn:
        console.print(f"{chosen} was withdrawn on {issue.withdrawn.at} ({issue.withdrawn.reason}): written as a draft")


def print_check(result: CheckResult) -> None:
    """The human-readable form of a week's check (as ``sitrep check`` prints it)."""
    state = {"future": "not started", "open": "not ended", "ended": "ended"}[result.state]
    out.print(f"[bold]{result.week}[/]  {result.start} – {result.end}  ({result.timezone}): {state}")
    weeks = result.previous_weeks
    compared = (
        f"compared with the previous {len(weeks)} week{'s' * (len(weeks) != 1)} ({weeks[0]} … {weeks[-1]})"
        if weeks
        else "no earlier week in the lake to compare with"
    )
    if result.state == "future":
        _print_findings(result)
        return
    out.print(f"{result.events:,} events, {result.incidents_handled:,} incidents handled; {compared}")
    if result.feeds:
        table = Table(show_edge=False, title="Feeds (rows by event time)", title_justify="left")
        table.add_column("feed", no_wrap=True)
        for name in ("this week", "last week", f"median of {len(weeks)}"):
            table.add_column(name, justify="right", no_wrap=True)
        for f in result.feeds:
            last = f"{f.previous[-1]:,}" if f.previous else "—"
            median = "—" if f.median is None else f"{f.median:,g}"
            table.add_row(f.feed, f"{f.rows:,}", last, median)
        out.print(table)
    if result.sources:
        table = Table(show_edge=False, title="Sources (files collected this week)", title_justify="left")
        for name in ("source", "kind", "files", "failed", "rows added", "last file"):
            table.add_column(name, justify="left" if name in ("source", "kind", "last file") else "right")
        for s in result.sources:
            table.add_row(s.source, s.kind, f"{s.files:,}", f"{s.failed:,}", f"{s.accepted:,}", s.last_file_at or "—")
        out.print(table)
    table = Table(show_edge=False, title="Key indicators", title_justify="left")
    table.add_column("indicator", no_wrap=True)
    for name in ("this week", "last week"):
        table.add_column(name, justify="right", no_wrap=True)
    for m in result.indicators:
        table.add_row(m.key, f"{m.value:,}", "—" if m.previous is None else f"{m.previous:,}")
    out.print(table)
    _print_findings(result)


def _print_findings(result: CheckResult) -> None:
    for finding in result.findings:
        colour = "red" if finding.level == "error" else "yellow"
        out.print(f"[{colour}]{finding.level}:[/] {finding.message}")
    errors, warnings = len(result.errors), len(result.warnings)
    out.print(f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}")


def check(
    week: WeekOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the check as JSON.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Exit with status 1 on warnings too.")] = False,
    engine: EngineOption = None,
) -> None:
    """Check a week before publishing it: the feeds that arrived with their rows against the previous
    weeks, sources missing this week, indicators that fell to 0 or moved more than 3x against last
    week, and a week that has not ended, has not started or has no data at all.

    Exit status: 0 when there is no error (warnings only are 0 too, unless --strict), 1 when there are
    errors.  'sitrep publish' runs the same check and stops on errors.
    """
    from sitrep.report.check import check_week

    ws = workspace(engine)
    chosen = parse_week(week, ws.timezone)
    with user_errors(*_ERRORS):
        result = check_week(ws, chosen)
    if as_json:
        print_json(result.as_dict())
    else:
        print_check(result)
    if result.errors or (strict and result.warnings):
        raise typer.Exit(1)


def _print_changes(changes: list[dict[str, Any]]) -> None:
    numbers = [c for c in changes if "old" in c]
    ids = [c for c in changes if "old" not in c]
    for change in numbers:
        out.print(f"  {change['path']}: {change['old']} → {change['new']}")
    for change in ids:
        out.print(f"  {change['path']}: +{len(change['added'])} −{len(change['removed'])} IDs")
    out.print(f"{len(numbers)} number{'s' * (len(numbers) != 1)} and {len(ids)} ID list{'s' * (len(ids) != 1)} changed")


def publish(
    week: WeekOption = None,
    refresh: Annotated[
        bool,
        typer.Option(
            "--refresh",
            help="Re-compute a published week and take its narrative's edits; show and record what changed.",
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Publish a week that has not ended or whose check found errors (needs --reason)."),
    ] = False,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why --force was needed; recorded in the issue's history.")
    ] = None,
    summary_file: Annotated[
        Path | None,
        typer.Option(
            "--summary-file",
            help='Store this narrative file first (UTF-8 TOML: a [zh] and/or [en] table with summary = "..." '
            "and highlights = [\"...\"]; '-': standard input), then publish with it. A published week also "
            "needs --refresh. See docs/report.md.",
        ),
    ] = None,
    actor: Annotated[
        str | None,
        typer.Option("--actor", envvar="SITREP_USER", help="Who wrote the --summary-file (default: the login name)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    engine: EngineOption = None,
) -> None:
    """Freeze a week's issue: its numbers, the IDs behind them and its narrative (see 'sitrep
    narrative', or give it here with --summary-file) are stored in the workspace.

    The week is checked first (see 'sitrep check'): warnings are printed; a week that has not ended,
    or whose check found errors, is refused unless --force --reason "..." is given; a week that has
    not started is always refused (exit status 1, nothing written).  Publishing a withdrawn week
    publishes it again.
    """
    if force != (reason is not None):
        fail('--force and --reason go together: --force --reason "why it must be published now"')
    ws = workspace(engine)
    chosen = parse_week(week, ws.timezone)
    from sitrep.report.publish import publish as publish_week

    if summary_file is not None:
        _store_summary_file(ws, chosen, summary_file, refresh=refresh, actor=actor)
    try:
        result = publish_week(ws, chosen, refresh=refresh, force_reason=reason)
    except PublishRefused as exc:
        _refused(exc, as_json)
    except (*_ERRORS, ConfigError) as exc:  # ConfigError: also the query engine that cannot start
        fail(str(exc))
    if as_json:
        print_json(
            {
                "week": result.week,
                "status": result.status,
                "revision": result.revision,
                "path": str(result.path),
                "changes": result.changes,
                "narrative_changes": result.narrative_changes,
                "forced": result.forced,
                "overridden": result.overridden,
                "check": result.check.as_dict() if result.check else None,
            }
        )
        return
    if result.check:
        for finding in result.check.warnings:
            if finding.message not in result.overridden:
                console.print(f"[yellow]warning:[/] {finding.message}")
    if result.forced:
        console.print(f"[yellow]forced:[/] {result.forced} (overrode: {'; '.join(result.overridden)})")
    elif force:
        console.print("note: nothing needed --force; the reason was not recorded")
    out.print(f"{result.week}: {result.status} (revision {result.revision}) → {result.path}")
    if result.status == "unchanged" and result.check is None:
        out.print("already published; pass --refresh to re-compute it")
    elif result.status == "unchanged":
        out.print("re-computed: no number changed")
    if result.changes:
        _print_changes(result.changes)
    for change in result.narrative_changes:
        state = "added" if change["old"] is None else "removed" if change["new"] is None else "changed"
        out.print(f"  {change['path']}: {state}")


def _store_summary_file(ws: Workspace, week: Week, path: Path, *, refresh: bool, actor: str | None) -> None:
    """Store the narrative ``path`` gives as the week's working copy (before publishing it)."""
    from sitrep.report.archive import load_issue
    from sitrep.report.narrative import parse_narrative_file, save_narrative

    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"--summary-file {path}: cannot be read as UTF-8 text ({exc})")
    with user_errors(*_ERRORS):
        texts = parse_narrative_file(text, f"--summary-file {path}")
        issue = load_issue(ws, week)
        if issue is not None and issue.withdrawn is None and not refresh:
            fail(f"{week} is already published: add --refresh to publish it with this narrative")
        save_narrative(ws, week, texts, author=actor_of(actor))
    console.print(f"{week}: narrative stored ({', '.join(texts)}) from {path}")


def _refused(exc: PublishRefused, as_json: bool) -> NoReturn:
    if as_json:
        print_json(
            {
                "week": str(exc.week),
                "status": "refused",
                "reasons": exc.reasons,
                "forceable": exc.forceable,
                "check": exc.check.as_dict(),
            }
        )
        raise typer.Exit(1)
    print_check(exc.check)
    for reason in exc.reasons:
        console.print(f"[bold red]not published:[/] {reason}", markup=True)
    if exc.forceable:
        console.print(f'To publish it anyway: sitrep publish --week {exc.week} --force --reason "why"')
    raise typer.Exit(1)


def unpublish(
    week: Annotated[str, typer.Option("--week", "-w", help="ISO week of the issue to withdraw, e.g. 2025-W01.")],
    reason: Annotated[
        str, typer.Option("--reason", help="Why it is withdrawn; recorded and shown on the archive site.")
    ],
) -> None:
    """Withdraw a published issue: it stays in the archive's history, marked withdrawn with the reason
    ('sitrep site' shows it so), is no longer rendered as published, and can be published again."""
    from sitrep.report.publish import unpublish as unpublish_week

    ws = workspace()
    chosen = parse_week(week, ws.timezone)
    with user_errors(*_ERRORS):
        issue = unpublish_week(ws, chosen, reason=reason)
    withdrawal = issue.withdrawn
    assert withdrawal is not None  # just recorded
    out.print(f"{issue.week}: withdrawn (revision {issue.revision}) on {withdrawal.at} → {issue.path}")
    out.print(f"run 'sitrep site' to update the archive; 'sitrep publish --week {issue.week}' publishes it again")


def site(
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to write the static archive into.")],
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Build nothing: verify the site already in --output (every link of every page leads to a file "
            "of the site; every feed is valid Atom with links under [report] base_url). Exit status 1 when "
            "something is wrong, naming each broken link with its page.",
        ),
    ] = False,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", min=1, help="Processes rendering issues at once (default: one per CPU)."),
    ] = None,
    rerender: Annotated[
        bool,
        typer.Option(
            "--rerender",
            help="Draw every issue anew instead of copying the files kept in reports/editions/ (after an "
            "upgrade whose new look old issues should get too), and keep the new files.",
        ),
    ] = False,
) -> None:
    """Build or update the static archive of every published issue: index pages, each issue's HTML, PDF
    and JSON in both languages, an Atom feed per language; withdrawn issues are listed as withdrawn with
    their reason.  Only issues that changed since the last build are written again; an issue's files
    are rendered once and kept in the workspace (reports/editions/), so a build into a new folder or
    after an upgrade copies them."""
    ws = workspace()
    base = ws.settings.report.base_url
    if check:
        from sitrep.report.site_check import check_site

        problems = check_site(output, base)
        for problem in problems:
            console.print(f"[bold red]broken:[/] {problem}", markup=True, highlight=False)
        if problems:
            console.print(f"{_counted(len(problems), 'problem')} in {output}")
            raise typer.Exit(1)
        out.print(f"{output}: every link and feed checked, nothing broken")
        return
    from sitrep.report.site import build_site  # matplotlib loads only for commands that draw

    with user_errors(*_ERRORS):
        built = build_site(ws, output, jobs=jobs, rerender=rerender)
    for stray in built.skipped:
        console.print(f"[yellow]skipped:[/] {stray.path}: {stray.problem}")
    if not base:
        console.print(
            "[yellow]note:[/] \\[report] base_url is not set in sitrep.toml: the feeds' links are relative "
            "(set it to the address the site is published at; see docs/configuration.md)"
        )
    rendered, written = _counted(len(built.rendered), "issue"), _counted(len(built.files), "file")
    out.print(
        f"{rendered} rendered, {len(built.kept)} copied from the kept editions, {len(built.unchanged)} unchanged; "
        f"{written} written, {len(built.removed)} removed; open {output / 'index.html'}"
    )


def _counted(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
