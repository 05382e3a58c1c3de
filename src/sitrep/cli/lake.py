"""``sitrep lake``: upkeep of the event lake — merge small files, drop old ones."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from sitrep.cli.common import out, print_json, user_errors, workspace
from sitrep.lake.errors import LakeError

app = typer.Typer(
    help=(
        "Upkeep of the event lake (a local folder or an s3:// object store): merge small events files "
        "(compact) and drop files older than a retention period (retain). Neither changes a number of a "
        "week that is kept; see docs/events.md."
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
)

DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Show what would change; change nothing.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the outcome as JSON.")]


@app.command()
def compact(
    target_mb: Annotated[
        int,
        typer.Option(
            "--target-mb", help="Size a merged file grows to (compressed MB); larger files are left as they are."
        ),
    ] = 256,
    grace_minutes: Annotated[
        int,
        typer.Option(
            "--grace-minutes",
            min=0,
            help=(
                "Keep the files a merge replaced this long, for queries that listed them just before; a later "
                "run removes them (0: remove them now, when no one is reading the lake)."
            ),
        ),
    ] = 10,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Merge small events files, such as many ingests of the same days, into fewer larger ones.

    Files are merged partition by partition (the UTC date of their events), so a week's query still
    opens only the files that can hold it; files from a lake written before partitioning have their
    events moved into the partitions.  Every event and every result stays the same; a run stopped
    half-way leaves either the old files or the new ones counted, never both, and the next run
    undoes it.  The replaced files are removed by a later run once --grace-minutes have passed.
    """
    from datetime import timedelta

    from sitrep.lake.maintain import compact as run

    ws = workspace()
    with user_errors(LakeError):
        result = run(ws, target_mb=target_mb, grace=timedelta(minutes=grace_minutes), dry_run=dry_run)
    if as_json:
        print_json(asdict(result))
        return
    verb = "would merge" if dry_run else "merged"
    for merge in result.merges:
        target = f" into {', '.join(merge.outputs)}" if merge.outputs else ""
        out.print(f"{verb} {len(merge.replaced)} files ({merge.events:,} events){target}")
    if result.removed:
        out.print(f"removed {result.removed} files replaced by earlier merges")
    if not result.merges:
        out.print(f"nothing to merge: {result.files_before} events files, none small alongside another of its date")
        return
    out.print(f"events files: {result.files_before} → {result.files_after}{' (dry run)' if dry_run else ''}")
    if not dry_run and grace_minutes:
        out.print(f"the replaced files are removed by the next run after {grace_minutes} minutes (--grace-minutes)")


@app.command()
def retain(
    keep: Annotated[
        str,
        typer.Option(
            "--keep",
            help=(
                "How much to keep: 104w keeps the current reporting week and the 104 weeks before it, "
                "730d today and the 730 days before it."
            ),
        ),
    ],
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Drop events files whose every event is older than the cutoff --keep gives.

    A file straddling the cutoff is kept whole (no week after the cutoff loses an event); the reject
    files and run summaries of ingests run before the cutoff go too.  Published issues keep their
    frozen numbers: their reports still render after their events are gone.
    """
    from sitrep.lake.maintain import retain as run

    ws = workspace()
    with user_errors(LakeError):
        result = run(ws, keep, dry_run=dry_run)
    if as_json:
        print_json(asdict(result))
        return
    verb = "would drop" if dry_run else "dropped"
    local = result.cutoff.astimezone(ws.timezone)
    out.print(f"cutoff: {local:%Y-%m-%d %H:%M} ({ws.settings.organisation.timezone})")
    out.print(f"{verb} {len(result.dropped)} events files ({result.events:,} events) older than the cutoff")
    if result.straddling:
        out.print(f"kept whole: {len(result.straddling)} files with events on both sides of the cutoff")
    if result.ingests:
        out.print(f"{verb} the rejects and summaries of {len(result.ingests)} ingests run before the cutoff")
