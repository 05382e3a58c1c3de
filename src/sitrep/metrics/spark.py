"""The Apache Spark engine of the queries (``[query] engine = "spark"``): one Spark session per process,
the lake's events files read into it, small local tables bound to it.

PySpark is an optional extra (``pip install 'cert-sitrep[spark]'``) and needs Java: both are looked
for only when the engine is chosen, and their absence is an :class:`EngineUnavailable` that says what to
install.  Everything Sitrep sets on the session beyond the user's ``[query.spark] options`` is in
:data:`DEFAULTS` and :data:`LOCAL_DEFAULTS`, with the reason for each.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from sitrep.config import ConfigError, Spark, Workspace
from sitrep.lake.schema import ARROW_SCHEMA
from sitrep.lake.store import Lake, LakePath

LOG_CONFIG = Path(__file__).with_name("spark-log4j2.properties")

# Set on every session; ``[query.spark] options`` may override each.
DEFAULTS: dict[str, str] = {
    # The queries compare instants; Ibis reads and writes them as UTC.
    "spark.sql.session.timeZone": "UTC",
    # DuckDB writes the lake's DOUBLE columns (vulnerability_score) with the BYTE_STREAM_SPLIT
    # encoding, which Spark's vectorized Parquet reader refuses ("Unsupported encoding"); the row reader
    # reads it.
    "spark.sql.parquet.enableVectorizedReader": "false",
    # A command prints its own results: no progress bars over them, no INFO lines, no web UI to bind.
    "spark.ui.showConsoleProgress": "false",
    "spark.ui.enabled": "false",
    "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={LOG_CONFIG.as_uri()}",
    "spark.app.name": "sitrep",
}
# Set in local mode only: the driver is on this machine and talks to itself over the loopback address
# (otherwise Spark resolves the host name and binds to whatever address it gives, reachable or not).
LOCAL_DEFAULTS: dict[str, str] = {
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
}


class EngineUnavailable(ConfigError):
    """The configured Spark engine cannot start here (PySpark or Java missing, the session refused)."""


@dataclass
class _Running:
    key: tuple[str, tuple[tuple[str, str], ...]]
    session: Any  # pyspark.sql.SparkSession
    backend: ibis.BaseBackend


_running: _Running | None = None
_lock = threading.Lock()


def properties(settings: Spark) -> dict[str, str]:
    """Every Spark property the session is started with: :data:`DEFAULTS` (and :data:`LOCAL_DEFAULTS`
    in local mode), then the configured options."""
    chosen = dict(DEFAULTS)
    if settings.master.startswith("local"):
        chosen |= LOCAL_DEFAULTS
    for key, value in settings.options.items():
        chosen[key] = str(value).lower() if isinstance(value, bool) else str(value)
    return chosen


def backend(workspace: Workspace) -> ibis.BaseBackend:
    """The Ibis backend over the process's Spark session for the workspace's ``[query.spark]`` settings,
    started on first use (a few seconds in local mode).  A call with other settings stops the session
    and starts one with them: a process has one Spark session at a time."""
    global _running
    settings = workspace.settings.query.spark
    chosen = properties(settings)
    key = (settings.master, tuple(sorted(chosen.items())))
    with _lock:
        if _running is not None and _running.key == key:
            return _running.backend
        if _running is not None:
            _running.session.stop()
            _running = None
        session = _start(settings.master, chosen)
        _running = _Running(key, session, ibis.pyspark.connect(session))
        return _running.backend


def _start(master: str, chosen: dict[str, str]) -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineUnavailable(
            '[query] engine = "spark" needs PySpark, which is not installed: install Sitrep\'s spark extra '
            "(pip install 'cert-sitrep[spark]')"
        ) from None
    java_home = os.environ.get("JAVA_HOME")
    java = Path(java_home) / "bin" / "java" if java_home else shutil.which("java")
    if java is None or not Path(java).is_file():
        where = f"JAVA_HOME={java_home} has no bin/java" if java_home else "no java on PATH and no JAVA_HOME"
        raise EngineUnavailable(
            f'[query] engine = "spark" needs Java 17 or 21 to start Spark ({where}): install it '
            "(apt-get install openjdk-17-jre-headless) or set JAVA_HOME"
        )
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder.master(master)
    for name, value in chosen.items():
        builder = builder.config(name, value)
    try:
        return builder.getOrCreate()
    except Exception as exc:  # the JVM did not start or refused a property: say so in one line
        first = next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        raise EngineUnavailable(f"Spark did not start with master {master!r}: {first}") from None


def stop() -> None:
    """Stop the process's Spark session, if one was started."""
    global _running
    with _lock:
        if _running is not None:
            _running.session.stop()
            _running = None


def _session(on: ibis.BaseBackend) -> Any:
    with _lock:
        if _running is None or _running.backend is not on:
            raise ValueError("not the backend of this process's Spark session")
        return _running.session


def events(on: ibis.BaseBackend, lake: Lake, files: list[LakePath]) -> ir.Table:
    """The events of ``files`` (of ``lake``) as a table of ``on`` (a temporary view named by the file list), read with
    the lake's schema rather than each file's footer (every events file is written with it)."""
    from pyspark.sql.pandas.types import from_arrow_schema

    listed = [str(p) for p in files]
    if any("://" in p for p in listed):
        # Spark reads object storage through Hadoop's s3a connector, whose jars no package registry here
        # carries: say so rather than fail deep in Py4J.
        raise EngineUnavailable(
            f"the Spark engine reads a lake in a local or shared folder, not {getattr(lake, 'url', '') or lake.root} "
            '(object storage needs Hadoop\'s s3a connector on the cluster); use engine = "duckdb"'
        )
    session = _session(on)
    spark_schema = from_arrow_schema(ARROW_SCHEMA)
    frame = session.read.schema(spark_schema).parquet(*listed) if listed else session.createDataFrame([], spark_schema)
    name = "sitrep_events_" + hashlib.sha1("\0".join(listed).encode()).hexdigest()[:16]
    frame.createOrReplaceTempView(name)
    table = on.table(name)
    # Spark's TIMESTAMP is an instant without a zone in Ibis's eyes: say UTC, as the lake schema does, so
    # results carry aware datetimes on both engines.
    schema = ibis.Schema.from_pyarrow(ARROW_SCHEMA)
    instants = {c: table[c].cast(t) for c, t in schema.items() if t.is_timestamp()}
    return table.mutate(**instants)


def bind(on: ibis.BaseBackend, data: pa.Table) -> ir.Table:
    """``data`` (a small, already computed result) as a table of ``on``."""
    name = "sitrep_local_" + hashlib.sha1(os.urandom(16)).hexdigest()[:16]
    return on.create_view(name, ibis.memtable(data), overwrite=True)
