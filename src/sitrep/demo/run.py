"""``sitrep demo``: a workspace with weeks of realistic data, ingested through the real path."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sitrep.config import Workspace
from sitrep.demo.feeds import volumes, write_week
from sitrep.demo.incidents import generate_incidents
from sitrep.lake.ingest import IngestResult, ingest_paths
from sitrep.report.publish import publish_and_render_demo
from sitrep.weeks import Week
from sitrep.workspace import init_workspace


@dataclass
class DemoResult:
    """What the demo made: the workspace, its weeks, the feed files and what ingesting them gave."""

    workspace: Workspace
    weeks: list[Week]
    files: list[Path]
    ingested: list[IngestResult]
    report: Path
    incidents: dict[str, Any] = field(default_factory=dict)


def run_demo(
    directory: Path,
    *,
    weeks: int = 8,
    end: Week | None = None,
    seed: int = 7,
    scale: float = 1.0,
    on_step: Callable[[str], None] | None = None,
    on_result: Callable[[IngestResult], None] | None = None,
) -> DemoResult:
    """Create a workspace in ``directory``, write ``weeks`` weeks of feed files ending with ``end``
    (default: the last complete week) and ingest them; add the incidents of those weeks; publish the
    weeks and render the latest report."""
    step = on_step or (lambda _message: None)
    workspace = init_workspace(directory)
    end = end or Week.last_complete(workspace.timezone)
    chosen = [end - i for i in range(weeks - 1, -1, -1)]
    step(f"writing feed files for {chosen[0]} … {chosen[-1]}")
    per_week = volumes(chosen, seed, scale)
    files: list[Path] = []
    for week in chosen:
        files += write_week(workspace.root / "feeds" / str(week), week, per_week[week], seed)
    step(f"ingesting {len(files)} files")
    ingested = ingest_paths(workspace, files, on_result=on_result)
    step("creating partners and incidents")
    incidents = generate_incidents(workspace, chosen, seed)
    step("publishing the weeks and rendering the latest report")
    report = publish_and_render_demo(workspace, chosen)
    return DemoResult(workspace, chosen, files, ingested, report, incidents)
