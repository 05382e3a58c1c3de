"""The lake as an Ibis table, on DuckDB by default; the same expressions run on other Ibis backends."""

from __future__ import annotations

from datetime import datetime

import ibis
import ibis.expr.types as ir

from sitrep.config import Workspace
from sitrep.lake.schema import ARROW_SCHEMA
from sitrep.lake.store import Lake


def duckdb_backend(workspace: Workspace) -> ibis.BaseBackend:
    """An in-memory DuckDB backend, in UTC, with the workspace's resource limits."""
    backend = ibis.duckdb.connect(threads=workspace.settings.ingest.threads)
    backend.raw_sql("SET TimeZone = 'UTC'")
    backend.raw_sql("SET autoinstall_known_extensions = false")
    return backend


def events_table(
    workspace: Workspace,
    backend: ibis.BaseBackend | None = None,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
) -> ir.Table:
    """The lake's events (an empty table of the schema when there are none).  With ``start``/``end``
    only the files that can hold events of ``[start, end)`` are read: callers still filter rows."""
    backend = backend or duckdb_backend(workspace)
    files = [str(p) for p in Lake.of(workspace).event_files(start, end)]
    if not files:
        return ibis.memtable(ARROW_SCHEMA.empty_table())
    return backend.read_parquet(files)


def in_window(t: ir.Table, start: datetime, end: datetime) -> ir.BooleanValue:
    """Events whose source time is in ``[start, end)``."""
    return (t.time_source >= start) & (t.time_source < end)
