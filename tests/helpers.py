"""Helpers tests share: where sample feed files are, and reading the lake back."""

from __future__ import annotations

from pathlib import Path

import duckdb

from sitrep.config import Workspace
from sitrep.lake.store import Lake, events_source

SAMPLES = Path(__file__).parent / "feeds" / "samples"


def lake_rows(
    workspace: Workspace, where: str = "true", order: str = "source_file, source_line"
) -> list[dict]:
    """Events in the workspace's lake as dicts (for assertions)."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    cursor = con.execute(f"SELECT * FROM {events_source(Lake.of(workspace))} WHERE {where} ORDER BY {order}")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
