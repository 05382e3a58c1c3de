"""``sitrep demo``: a ready-to-explore workspace with weeks of realistic data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sitrep.cli.common import console, fail, out, program
from sitrep.weeks import Week


def demo(
    directory: Annotated[Path, typer.Argument(help="Folder for the demo workspace (created).")] = Path("demo"),
    weeks: Annotated[int, typer.Option("--weeks", min=2, max=52, help="How many weeks of data.")] = 8,
    end: Annotated[
        str | None, typer.Option("--end-week", help="Last week, e.g. 2025-W01 (default: the last complete week).")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same data.")] = 7,
    scale: Annotated[float, typer.Option("--scale", min=0.01, max=100.0, help="Multiply the data volume.")] = 1.0,
) -> None:
    """Create a demo workspace: feed files in the real formats for several weeks, ingested through the
    normal path, partners and incidents, published weekly reports; then show the latest week."""
    from sitrep.cli.metrics import print_metrics
    from sitrep.demo.run import run_demo
    from sitrep.lake.ingest import IngestResult
    from sitrep.metrics.weekly import compute

    try:
        last = Week.parse(end) if end else None
    except ValueError as exc:
        fail(str(exc))
    totals = {"files": 0, "read": 0, "accepted": 0}

    def on_result(result: IngestResult) -> None:
        totals["files"] += 1
        totals["read"] += result.read
        totals["accepted"] += result.accepted
        if result.error:
            console.print(f"[red]error:[/] {result.file}: {result.error}")

    with console.status("building the demo…") as status:
        result = run_demo(
            directory,
            weeks=weeks,
            end=last,
            seed=seed,
            scale=scale,
            on_step=lambda message: status.update(message),
            on_result=on_result,
        )
    console.print(
        f"Ingested {totals['files']} files: {totals['read']:,} rows read, {totals['accepted']:,} events accepted."
    )
    print_metrics(compute(result.workspace, result.weeks[-1]))
    out.print(f"\nWorkspace: {result.workspace.root}")
    out.print(f"Report:    {result.report}")
    out.print(f"Try:       {program()} --home {directory} metrics --week {result.weeks[-1]}", markup=False)
