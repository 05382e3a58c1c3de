"""``sitrep jobs …``: the long jobs the web desk runs (uploaded feed files, report rendering)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from sitrep.cli.common import console, out, print_json, user_errors, workspace
from sitrep.incidents.db import open_store
from sitrep.incidents.errors import StoreError
from sitrep.jobs.model import IngestSummary, Job, RenderSummary
from sitrep.jobs.store import recent_jobs

app = typer.Typer(
    name="jobs",
    help="The web desk's long jobs (ingesting an uploaded feed file, rendering a week's report): "
    "their state, progress and result.",
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
)


@app.callback()
def _group() -> None:
    """The web desk's long jobs (ingesting an uploaded feed file, rendering a week's report)."""


def _outcome(job: Job) -> str:
    if job.error:
        return job.error
    if isinstance(job.result, IngestSummary):
        files = job.result.files
        lines = [
            f"read {f.read:,} = accepted {f.accepted:,} + duplicates {f.duplicates:,} + rejected {f.rejected:,}"
            if not f.error
            else f"error: {f.error}"
            for f in files
        ]
        # One file is the job's title; the members of an archive are named.
        return (
            lines[0]
            if len(files) == 1
            else "; ".join(f"{f.file}: {line}" for f, line in zip(files, lines, strict=True))
        )
    if isinstance(job.result, RenderSummary):
        return (
            f"{len(job.result.files)} file(s) in {job.result.files[0].path.rsplit('/', 1)[0]}"
            if job.result.files
            else ""
        )
    step = job.progress.step.value + (f" {job.progress.detail}" if job.progress.detail else "")
    return f"{step} ({job.progress.fraction:.0%})"


@app.command("list")
def list_command(
    limit: Annotated[int, typer.Option("--limit", "-n", help="Show the newest this many jobs.", min=1)] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout instead of a table.")] = False,
) -> None:
    """List the newest jobs, newest first: kind, title, who started it, state, times and outcome
    (read = accepted + duplicates + rejected per file of an ingest, the files of a render, or why it
    failed).  A job whose server process stopped while it ran is failed (interrupted)."""
    ws = workspace()
    with user_errors(StoreError):
        jobs = recent_jobs(open_store(ws), limit=limit)
    if as_json:
        print_json([j.as_json() for j in jobs])
        return
    if not jobs:
        console.print("No job yet (the web desk records one for each uploaded feed file and each rendering).")
        return
    table = Table("id", "kind", "title", "by", "state", "started (UTC)", "outcome", show_edge=False)
    for job in jobs:
        cells = (
            str(job.id),
            job.kind.value,
            job.title,
            job.started_by,
            job.state.value,
            f"{job.created_at:%Y-%m-%d %H:%M}",
            _outcome(job),
        )
        # Text, not markup: a title is the name a file was uploaded under.
        table.add_row(*(Text(c) for c in cells))
    out.print(table)
