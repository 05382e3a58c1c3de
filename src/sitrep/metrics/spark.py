"""The Apache Spark engine of the queries (``[query] engine = "spark"``): one Spark session per process,
the lake's events files read into it, small local tables bound to it.  The same session runs the
ingest's Spark tasks (:mod:`sitrep.lake.spark_ingest`).

PySpark is an optional extra (``pip install 'cert-sitrep[spark]'``) and needs Java: both are looked
for only when the engine is chosen, and their absence is an :class:`EngineUnavailable` that says what to
install.  Everything Sitrep sets on the session beyond the user's ``[query.spark] options`` is in
:data:`DEFAULTS` and :data:`LOCAL_DEFAULTS`, with the reason for each.  A Spark job that fails (a task
that raised, an executor lost) is :class:`SparkFailed`, in one line (:func:`failure`).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
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


class SparkFailed(EngineUnavailable):
    """A Spark job failed: a task raised, an executor was lost, the driver's JVM went away."""


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
    return _ensure(workspace).backend


def session(workspace: Workspace) -> Any:
    """The process's ``pyspark.sql.SparkSession`` for the workspace's ``[query.spark]`` settings (the
    one :func:`backend` runs on), started on first use."""
    return _ensure(workspace).session


def _ensure(workspace: Workspace) -> _Running:
    global _running
    settings = workspace.settings.query.spark
    chosen = properties(settings)
    key = (settings.master, tuple(sorted(chosen.items())))
    with _lock:
        if _running is not None and _running.key == key:
            return _running
        if _running is not None:
            _running.session.stop()
            _running = None
        started = _start(settings.master, chosen)
        _running = _Running(key, started, ibis.pyspark.connect(started))
        return _running


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
    # The Python of the tasks (the ingest's): this one, which has Sitrep, unless PYSPARK_PYTHON names
    # another (executors whose installation is elsewhere); PySpark's own default is whatever python3 is
    # on the PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    _quiet_python_loggers()
    builder = SparkSession.builder.master(master)
    for name, value in chosen.items():
        builder = builder.config(name, value)
    try:
        return builder.getOrCreate()
    except Exception as exc:  # the JVM did not start or refused a property: say so in one line
        first = next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        raise EngineUnavailable(f"Spark did not start with master {master!r}: {first}") from None


def _quiet_python_loggers() -> None:
    """PySpark logs a failed query's message as JSON on stderr before raising it; Sitrep says it once,
    in its own words (:func:`failure`)."""
    try:
        from pyspark.logger import PySparkLogger
    except ImportError:  # PySpark 3 has no such loggers
        return
    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        PySparkLogger.getLogger(name).disabled = True


def failure(exc: BaseException) -> str | None:
    """The one line that says why a Spark call failed, or None when ``exc`` is not Spark's (PySpark's
    exceptions and Py4J's, which carry the JVM's stack and, for a task, the Python traceback)."""
    module = type(exc).__module__
    if not module.startswith(("pyspark", "py4j")):
        return None
    text = str(exc)
    if "PythonException:" in text:
        # A task raised: the last line of its Python traceback, before the JVM's stack.
        traceback = text.split("PythonException:", 1)[1].split("\n\tat ", 1)[0]
        lines = [line.strip() for line in traceback.splitlines() if line.strip()]
        return f"a Spark task failed: {lines[-1] if lines else type(exc).__name__}"
    lines = [line.strip().removeprefix(": ") for line in text.splitlines()]
    lines = [line for line in lines if line and not line.startswith(("An error occurred while calling", "at ", "..."))]
    if not lines:
        return f"Spark failed: {type(exc).__name__}"
    if "Py4JNetworkError" in type(exc).__name__ or "Answer from Java side is empty" in text:
        return f"Spark's driver (its Java process) went away: {_plain(lines[0])}"
    message = _plain(lines[0])
    causes = [_plain(line.removeprefix("Caused by: ")) for line in lines if line.startswith("Caused by: ")]
    if causes and causes[-1] != message:
        message += f" (caused by: {causes[-1]})"
    return f"Spark failed: {message[:600]}"


# What a JVM error line says besides its message: the exception's class, the lost task's address.
_JAVA_NOISE = (
    re.compile(r"^(?:[a-z_$][\w$]*\.)+[A-Z][\w$]*: "),
    re.compile(r"^Job aborted due to stage failure: .*?most recent failure: Lost task .*?\): "),
    re.compile(r"\s*SQLSTATE: \w+\.?$"),
)


def _plain(line: str) -> str:
    for _ in range(3):  # a class name may follow the lost task's address
        for noise in _JAVA_NOISE:
            line = noise.sub("", line)
    return line.strip()


@contextmanager
def failures() -> Iterator[None]:
    """Turn a failed Spark call inside the block into :class:`SparkFailed`, in one line."""
    try:
        yield
    except Exception as exc:
        message = failure(exc)
        if message is None:
            raise
        raise SparkFailed(message) from None


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
