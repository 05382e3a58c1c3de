"""``sitrep report``, ``publish`` and ``site``: the weekly report, freezing an issue, and the archive."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sitrep.cli.common import fail, out, print_json, workspace
from sitrep.cli.metrics import parse_week
from sitrep.report.render import FORMATS
from sitrep.report.wording import LANGS

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
) -> None:
    """Write the weekly report: the published numbers if the week is published, else computed now."""
    from sitrep.report.publish import render_week  # loads Ibis, matplotlib and WeasyPrint: only when drawing

    ws = workspace()
    chosen = parse_week(week, ws.timezone)
    for path in render_week(ws, chosen, langs=_langs(lang), formats=_formats(fmt), out=output):
        out.print(str(path))


def publish(
    week: WeekOption = None,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Re-compute a published week and record what changed.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Freeze a week's issue: its numbers and the IDs behind them are stored in the workspace."""
    ws = workspace()
    chosen = parse_week(week, ws.timezone)
    from sitrep.report.publish import publish as publish_week

    result = publish_week(ws, chosen, refresh=refresh)
    if as_json:
        print_json(
            {
                "week": result.week,
                "status": result.status,
                "revision": result.revision,
                "path": str(result.path),
                "changes": result.changes,
            }
        )
        return
    out.print(f"{result.week}: {result.status} (revision {result.revision}) → {result.path}")
    if result.status == "unchanged":
        out.print("already published; pass --refresh to re-compute it")
    for change in result.changes:
        if "old" in change:
            out.print(f"  {change['path']}: {change['old']} → {change['new']}")
        else:
            out.print(f"  {change['path']}: +{len(change['added'])} −{len(change['removed'])} IDs")


def site(
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to write the static archive into.")],
) -> None:
    """Build the static archive of every published issue (index, zh/en pages, Atom feed)."""
    from sitrep.report.site import build_site  # matplotlib loads only for commands that draw

    ws = workspace()
    written = build_site(ws, output)
    out.print(f"{len(written)} files written; open {output / 'index.html'}")
