"""The lake as an Ibis table on the workspace's query backend (DuckDB by default; the same expressions
run on other Ibis backends)."""

from __future__ import annotations

import uuid
from datetime import datetime

import ibis
import ibis.expr.types as ir

from sitrep.config import Workspace
from sitrep.lake.schema import ARROW_SCHEMA
from sitrep.lake.store import Lake, connect

_EMPTY_SCHEMA = ibis.Schema.from_pyarrow(ARROW_SCHEMA)


def backend(workspace: Workspace) -> ibis.BaseBackend:
    """The query backend of the workspace, used by the metrics, the report facts and the proposals:
    DuckDB in memory over the lake's connection settings (UTC, the configured memory and thread
    limits, no downloads; :func:`sitrep.lake.store.connect`)."""
    return ibis.duckdb.from_connection(connect(workspace))


def events_table(
    workspace: Workspace,
    on: ibis.BaseBackend | None = None,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
) -> ir.Table:
    """The lake's events (an empty table of the schema when there are none).  With ``start``/``end``
    only the files that can hold events of ``[start, end)`` are read: callers still filter rows."""
    on = on or backend(workspace)
    files = [str(p) for p in Lake.of(workspace).event_files(start, end)]
    if not files:
        # An empty table of ``on`` itself: an unbound one (``ibis.memtable``) would run on Ibis's
        # default DuckDB connection, which concurrent requests of the web desk would share.
        return on.create_table(f"sitrep_no_events_{uuid.uuid4().hex}", schema=_EMPTY_SCHEMA, temp=True)
    return on.read_parquet(files)


def in_window(t: ir.Table, start: datetime, end: datetime) -> ir.BooleanValue:
    """Events whose source time is in ``[start, end)``."""
    return (t.time_source >= start) & (t.time_source < end)
