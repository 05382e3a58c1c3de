"""``sitrep collect``: run the feed sources of ``[[sources]]`` that are due (see docs/collection.md)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from sitrep.cli.common import console, fail, out, print_json, user_errors, workspace
from sitrep.cli.progress import file_progress

if TYPE_CHECKING:
    from sitrep.collect.collector import FileOutcome
    from sitrep.config import Workspace


def collect(
    source: Annotated[
        list[str] | None,
        typer.Option("--source", "-s", help="Run this source now, due or not (repeatable; its [[sources]] name)."),
    ] = None,
    everything: Annotated[bool, typer.Option("--all", help="Run every source now, due or not.")] = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="List what each source would deliver; ingest, move and record nothing."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print each source's run as JSON on stdout.")] = False,
    daemon: Annotated[
        bool,
        typer.Option(
            "--daemon",
            help="Keep running: run each source whenever it is due, one log line per file, until stopped "
            "(SIGTERM or Ctrl-C end it between two files).",
        ),
    ] = False,
) -> None:
    """Run the feed sources that are due (each [[sources]] entry of sitrep.toml runs once per its
    'every'), ingest each file they deliver (an abuse mailbox: take each mail as a complaint) and
    record it (source, time, size, SHA-256), so the same file is never ingested twice.  One line per
    file; exit status 1 when a source or a file failed (the others still run), 0 otherwise."""
    from sitrep.collect.collector import CollectRunning, UnknownSource, chosen_sources, collect, due_sources
    from sitrep.incidents.errors import StoreError

    ws = workspace()
    if not ws.settings.sources:
        fail(f"no [[sources]] in {ws.config_path} (see docs/collection.md)")
    if daemon:
        if source or everything or dry_run or as_json:
            fail("--daemon runs every source when it is due: it takes no --source, --all, --dry-run or --json")
        with user_errors(CollectRunning, StoreError):
            _daemon(ws)
        return
    with user_errors(UnknownSource, CollectRunning, StoreError):
        if everything:
            sources = list(ws.settings.sources)
        elif source:
            sources = chosen_sources(ws, source)
        else:
            sources = due_sources(ws)
        if not sources:
            out.print("no source is due (run one now with --source NAME, or every one with --all)")
            return
        with file_progress(not as_json and console.is_terminal) as reporter:
            runs = collect(ws, sources, dry_run=dry_run, on_file=None if as_json else _print_file, reporter=reporter)
    if as_json:
        print_json([run.as_dict() for run in runs])
    else:
        for run in runs:
            if run.error:
                console.print(f"[bold red]{run.source}:[/] {run.error}", markup=True, highlight=False)
            elif not run.files:
                out.print(f"{run.source}: nothing new")
    if not all(run.ok for run in runs):
        raise typer.Exit(1)


def _daemon(ws: Workspace) -> None:
    """Run the due sources, sleep until the next one is due (at most a minute, so a clock change or a
    source that ran from another command is noticed), again."""
    from sitrep.collect.collector import collect, due_sources, next_due

    out.print(f"collecting for {ws.root}: {', '.join(s.name for s in ws.settings.sources)}")
    while True:
        for run in collect(ws, due_sources(ws), on_file=_print_file):
            if run.error:
                console.print(f"{run.source}: {run.error}", markup=False)
        pause = (next_due(ws) - datetime.now(UTC)).total_seconds()
        time.sleep(min(max(pause, 0.5), 60))


def _print_file(outcome: FileOutcome) -> None:
    if outcome.complaint is not None:
        return _print_complaint(outcome)
    totals = {k: sum(getattr(r, k) for r in outcome.results) for k in ("read", "accepted", "duplicates", "rejected")}
    counts = ", ".join(f"{k} {n:,}" for k, n in totals.items())
    said = {
        "ingested": f"ingested ({counts})",
        "duplicate": f"already {'taken' if outcome.complaint_mail else 'ingested'} (same bytes): not again",
        "failed": f"failed: {outcome.reason}",
        "pending": "would be taken as a complaint" if outcome.complaint_mail else "would be ingested",
    }[outcome.status]
    moved = f" → {outcome.moved_to}" if outcome.moved_to else ""
    out.print(f"{outcome.source}: {outcome.name} ({outcome.size:,} bytes) {said}{moved}", markup=False)


def _print_complaint(outcome: FileOutcome) -> None:
    """A complaint mail taken from an abuse mailbox: what the intake made of it."""
    complaint = outcome.complaint
    assert complaint is not None
    said = {
        "proposed": f"proposed {complaint.incident} ({complaint.category}, {len(complaint.assets)} assets)",
        "attached": f"attached to {complaint.incident} ({len(complaint.assets)} assets)",
        "already": f"already taken ({complaint.reason}): {complaint.incident or complaint.earlier}",
        "quarantined": f"quarantined: {complaint.reason} → {complaint.kept}",
        "refused": f"refused: {complaint.reason}",
    }[complaint.action]
    moved = f" → {outcome.moved_to}" if outcome.moved_to else ""
    out.print(
        f"{outcome.source}: complaint {complaint.subject!r} from {complaint.reporter} {said}{moved}", markup=False
    )
