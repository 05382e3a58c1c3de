"""``sitrep narrative``: the summary paragraph and highlights an analyst writes for a week's issue."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from sitrep.cli.common import actor_of, console, fail, out, print_json, user_errors, workspace
from sitrep.cli.metrics import parse_week
from sitrep.report.archive import IssueError, load_issue
from sitrep.report.narrative import (
    MAX_HIGHLIGHT,
    MAX_HIGHLIGHTS,
    MAX_SUMMARY,
    NarrativeError,
    Text,
    clean_text,
    load_narrative,
    save_narrative,
)
from sitrep.report.wording import LANGS

app = typer.Typer(
    help="The narrative of a week's issue: a summary paragraph and highlights per language, written by an "
    "analyst and printed in the overview of every format. It changes no number. Publishing freezes it with "
    "the numbers; after an edit, 'sitrep publish --week W --refresh' publishes it as a new revision.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)

WeekOption = Annotated[
    str | None, typer.Option("--week", "-w", help="ISO week, e.g. 2025-W01 (default: the last complete week).")
]


def _print_text(lang: str, text: Text) -> None:
    out.print(f"[bold]{lang}[/]", markup=True)
    out.print(f"  summary: {text.summary or '(none)'}", markup=False)
    for item in text.highlights:
        out.print(f"  - {item}", markup=False)


@app.command()
def show(
    week: WeekOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the narrative as JSON.")] = False,
) -> None:
    """Show a week's narrative (the working copy), and whether the published issue carries it."""
    ws = workspace()
    chosen = parse_week(week, ws.timezone)
    with user_errors(NarrativeError, IssueError):
        narrative = load_narrative(ws, chosen)
        issue = load_issue(ws, chosen)
        frozen = issue.narrative if issue is not None and issue.withdrawn is None else None
    pending = frozen is not None and not narrative.says(frozen)
    if as_json:
        print_json(
            {
                "week": str(chosen),
                "updated_at": narrative.updated_at,
                "updated_by": narrative.updated_by,
                "texts": narrative.as_dict(),
                "published": {k: v.as_dict() for k, v in frozen.items()} if frozen is not None else None,
                "unpublished_edits": pending,
            }
        )
        return
    if narrative.updated_at:
        out.print(f"{chosen}: written by {narrative.updated_by or 'unknown'} at {narrative.updated_at}", markup=False)
    else:
        out.print(f"{chosen}: no narrative written yet")
    for lang in LANGS:
        _print_text(lang, narrative.text(lang))
    if pending:
        console.print(f"the published issue carries another narrative: sitrep publish --week {chosen} --refresh")


def _summary_text(summary: str | None, summary_file: Path | None) -> str | None:
    if summary is not None and summary_file is not None:
        fail("give the summary as --summary or --summary-file, not both")
    if summary_file is None:
        return summary
    try:
        return sys.stdin.read() if str(summary_file) == "-" else summary_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"--summary-file {summary_file}: cannot be read as UTF-8 text ({exc})")


@app.command("set")
def set_(
    lang: Annotated[str, typer.Option("--lang", "-l", help="The language written: zh or en.")],
    week: WeekOption = None,
    summary: Annotated[
        str | None, typer.Option("--summary", help=f"The summary paragraph (plain text, at most {MAX_SUMMARY} chars).")
    ] = None,
    summary_file: Annotated[
        Path | None,
        typer.Option(
            "--summary-file", help="Read the summary from this UTF-8 file ('-': standard input); lines are joined."
        ),
    ] = None,
    highlight: Annotated[
        list[str] | None,
        typer.Option(
            "--highlight",
            metavar="TEXT",
            help=f"A highlight, in order (repeat for more: at most {MAX_HIGHLIGHTS}, {MAX_HIGHLIGHT} chars each). "
            "Replaces the language's highlights; leave out to keep them, --clear-highlights to remove them.",
        ),
    ] = None,
    clear_highlights: Annotated[
        bool, typer.Option("--clear-highlights", help="Remove the language's highlights.")
    ] = False,
    actor: Annotated[
        str | None, typer.Option("--actor", envvar="SITREP_USER", help="Who wrote it (default: the login name).")
    ] = None,
) -> None:
    """Write the narrative of one language of a week (the other language is left as it is).

    Leaving out --summary/--summary-file keeps the summary; --summary "" removes it.  The text is
    stored as plain text and escaped in every format.  A published week keeps what it published until
    'sitrep publish --week W --refresh'.
    """
    if lang not in LANGS:
        fail(f"--lang {lang!r}: use zh or en")
    if highlight and clear_highlights:
        fail("--highlight and --clear-highlights go separately")
    text = _summary_text(summary, summary_file)
    ws = workspace()
    chosen = parse_week(week, ws.timezone)
    with user_errors(NarrativeError, IssueError):
        current = load_narrative(ws, chosen).text(lang)
        items = [] if clear_highlights else highlight if highlight is not None else list(current.highlights)
        cleaned = clean_text(lang, current.summary if text is None else text, items)
        save_narrative(ws, chosen, {lang: cleaned}, author=actor_of(actor))
        issue = load_issue(ws, chosen)
    out.print(
        f"{chosen}: {lang} narrative saved ({len(cleaned.summary)} characters, {len(cleaned.highlights)} highlights)"
    )
    if issue is not None and issue.withdrawn is None:
        out.print(f"{chosen} is published: 'sitrep publish --week {chosen} --refresh' publishes the new narrative")
