"""The lake as an Ibis table on the workspace's query backend (DuckDB by default; the same expressions
run on other Ibis backends)."""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
import uuid
from datetime import datetime
from pathlib import Path

import duckdb
import ibis
import ibis.expr.types as ir

from sitrep.config import Workspace
from sitrep.lake.schema import ARROW_SCHEMA
from sitrep.lake.store import Lake, connect, events_source, storage_key

EVENTS_SCHEMA = ibis.Schema.from_pyarrow(ARROW_SCHEMA)
# The process's in-memory DuckDB databases, by their settings (memory and thread limits, object store).
_databases: dict[tuple[str, int, str], duckdb.DuckDBPyConnection] = {}
_databases_lock = threading.Lock()


def backend(workspace: Workspace) -> ibis.BaseBackend:
    """The query backend of the workspace, used by the metrics, the report facts, the proposals and
    the event explorer: DuckDB in memory over the lake's connection settings (UTC, the ``[query]``
    memory and thread limits, no downloads; :func:`sitrep.lake.store.connect`).

    Each call gets a connection of its own (a cursor) to the process's one database: opening a
    database costs tens of milliseconds, which a web server would pay on every page, a cursor almost
    nothing.  Cursors run in parallel threads, share the database's memory limit and thread pool, and
    the temporary views a query defines go with its cursor.
    """
    return ibis.duckdb.from_connection(cursor(workspace))


def cursor(workspace: Workspace) -> duckdb.DuckDBPyConnection:
    """A connection of its own (a cursor) to the process's DuckDB database for the workspace's
    settings, for SQL run without Ibis (the explorer's pages: compiling an Ibis expression costs more
    than the query of a page)."""
    settings = workspace.settings.query
    key = (str(settings.memory_limit), int(settings.threads), storage_key(workspace))
    with _databases_lock:
        database = _databases.get(key)
        if database is None:
            database = _databases[key] = connect(workspace, temp_dir=_spill_dir(), limits=settings)
        return database.cursor()


def _spill_dir() -> Path:
    """Where the process's query databases spill a query that outgrows the memory limit (``connect``
    adds ``spill/``): a private folder of this process under the system's temporary folder, made when
    first needed (DuckDB creates no missing parents) and removed at exit.  DuckDB's default is ``.tmp``
    in whatever folder the server or command was started from; the lake's work folder is emptied by
    every ingest."""
    folder = Path(tempfile.mkdtemp(prefix="sitrep-queries-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


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
    lake = Lake.of(workspace)
    files = lake.event_files(start, end)
    if not files:
        # An empty table of ``on`` itself: an unbound one (``ibis.memtable``) would run on Ibis's
        # default DuckDB connection, which concurrent requests of the web desk would share.
        return on.create_table(f"sitrep_no_events_{uuid.uuid4().hex}", schema=EVENTS_SCHEMA, temp=True)
    # Every events file has the lake schema, so Ibis is told it rather than asking DuckDB to describe
    # a view of the files (which reads their footers once more, per table: a fifth of a page's time).
    return on.sql(f"SELECT * FROM {events_source(lake, files)}", schema=EVENTS_SCHEMA)


def in_window(t: ir.Table, start: datetime, end: datetime) -> ir.BooleanValue:
    """Events whose source time is in ``[start, end)``."""
    return (t.time_source >= start) & (t.time_source < end)
