"""Helpers tests share: where sample feed files are, and reading the lake back."""

from __future__ import annotations

from pathlib import Path

import duckdb

from sitrep.config import Workspace
from sitrep.lake.store import Lake, events_source

SAMPLES = Path(__file__).parent / "feeds" / "samples"


def lake_rows(workspace: Workspace, where: str = "true", order: str = "source_file, source_line") -> list[dict]:
    """Events in the workspace's lake as dicts (for assertions)."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    cursor = con.execute(f"SELECT * FROM {events_source(Lake.of(workspace))} WHERE {where} ORDER BY {order}")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def write_events(workspace: Workspace, rows: list[dict], name: str = "fixture") -> Path:
    """Write hand-made events straight into the lake (columns not given are NULL)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from sitrep.lake.schema import ARROW_SCHEMA

    lake = Lake.of(workspace)
    lake.create()
    filled = []
    for i, row in enumerate(rows):
        full = {name: None for name in ARROW_SCHEMA.names}
        full.update({"event_id": f"{name}-{i:04d}", "feed_name": "fixture", "tlp": "CLEAR"})
        full.update(row)
        filled.append(full)
    path = lake.events_dir / f"{name}.parquet"
    pq.write_table(pa.Table.from_pylist(filled, schema=ARROW_SCHEMA), path)
    return path
