"""The lake as an Ibis table on the workspace's query engine: DuckDB by default, or Apache Spark
(``[query] engine``, ``--engine``).

The definitions over it (indicators, breakdowns, report facts, the check, proposals) are Ibis
expressions written once.  What differs between the engines is in :data:`ENGINES`, one
:class:`Engine` each: how its backend starts, how the lake's events files and a small local result
become tables on it, and the name of the one function the definitions call that Ibis has no
engine-neutral form of.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

import duckdb
import ibis
import ibis.expr.types as ir
import pyarrow as pa

from sitrep.config import Workspace
from sitrep.lake.schema import ARROW_SCHEMA
from sitrep.lake.store import Lake, LakePath, connect, events_source, storage_key
from sitrep.metrics import spark

EVENTS_SCHEMA = ibis.Schema.from_pyarrow(ARROW_SCHEMA)
# The process's in-memory DuckDB databases, by their settings (memory and thread limits, object store).
_databases: dict[tuple[str, int, str], duckdb.DuckDBPyConnection] = {}
_databases_lock = threading.Lock()


def backend(workspace: Workspace) -> ibis.BaseBackend:
    """The query backend of the workspace, used by the metrics, the report facts, the check, the
    proposals and the web desk's pages: its ``[query] engine``'s (:data:`ENGINES`)."""
    return ENGINES[workspace.settings.query.engine].connect(workspace)


def duckdb_backend(workspace: Workspace) -> ibis.BaseBackend:
    """DuckDB, whatever the configured engine: for the queries written in DuckDB SQL (the event
    explorer's pages and exports, which run per page and must answer in a fraction of a second)."""
    return _duckdb(workspace)


def _duckdb(workspace: Workspace) -> ibis.BaseBackend:
    """DuckDB in memory over the lake's connection settings (UTC, the ``[query]`` memory and thread
    limits, no downloads; :func:`sitrep.lake.store.connect`).

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
    """The lake's events on ``on`` (by default the workspace's backend); an empty table of the schema
    when there are none.  With ``start``/``end`` only the files that can hold events of ``[start, end)``
    are read: callers still filter rows."""
    on = on or backend(workspace)
    lake = Lake.of(workspace)
    return _engine_of(on).read_events(on, lake, lake.event_files(start, end))


def _duckdb_events(on: ibis.BaseBackend, lake: Lake, files: list[LakePath]) -> ir.Table:
    if not files:
        # An empty table of ``on`` itself: an unbound one (``ibis.memtable``) would run on Ibis's
        # default DuckDB connection, which concurrent requests of the web desk would share.
        return on.create_table(f"sitrep_no_events_{uuid.uuid4().hex}", schema=EVENTS_SCHEMA, temp=True)
    # Every events file has the lake schema, so Ibis is told it rather than asking DuckDB to describe
    # a view of the files (which reads their footers once more, per table: a fifth of a page's time).
    return on.sql(f"SELECT * FROM {events_source(lake, files)}", schema=EVENTS_SCHEMA)


def local_table(like: ir.Table, data: pa.Table) -> ir.Table:
    """``data``, a small result already fetched, as a table on the backend of ``like`` (so that the
    queries over it run on the same engine, and never on Ibis's shared default connection)."""
    on = ibis.get_backend(like)
    return _engine_of(on).bind(on, data)


def _duckdb_bind(on: ibis.BaseBackend, data: pa.Table) -> ir.Table:
    name = f"sitrep_local_{uuid.uuid4().hex}"
    on.con.register(name, data)  # a view of the Arrow table, on this cursor only
    return on.table(name)


def json_string(document: ir.StringValue, key: str) -> ir.StringValue:
    """The string at ``key`` of the JSON object ``document`` (a value that is not a string: its JSON
    text), NULL when the key is absent or null."""
    engine = _engine_of(ibis.get_backend(document))
    return _function(engine.json_string)(document, f"$.{key}")


@cache
def _function(name: str) -> Callable[..., ir.StringValue]:
    @ibis.udf.scalar.builtin(name=name)
    def call(document: str, path: str) -> str:  # type: ignore[empty-body]
        """The engine's own function ``name``."""

    return call


@dataclass(frozen=True)
class Engine:
    """One query engine: what the shared definitions need that differs from one engine to another."""

    ibis_name: str  # Ibis's name of its backend
    connect: Callable[[Workspace], ibis.BaseBackend]
    read_events: Callable[[ibis.BaseBackend, Lake, list[LakePath]], ir.Table]
    bind: Callable[[ibis.BaseBackend, pa.Table], ir.Table]
    json_string: str  # its SQL function (document, '$.key') -> the string value at key


# The engines of ``[query] engine``, by name.
ENGINES: dict[str, Engine] = {
    "duckdb": Engine("duckdb", _duckdb, _duckdb_events, _duckdb_bind, "json_extract_string"),
    "spark": Engine("pyspark", spark.backend, spark.events, spark.bind, "get_json_object"),
}


def _engine_of(on: ibis.BaseBackend) -> Engine:
    found = next((e for e in ENGINES.values() if e.ibis_name == on.name), None)
    if found is None:
        raise ValueError(f"no query engine for the Ibis backend {on.name!r}")
    return found


def in_window(t: ir.Table, start: datetime, end: datetime) -> ir.BooleanValue:
    """Events whose source time is in ``[start, end)``."""
    return (t.time_source >= start) & (t.time_source < end)
