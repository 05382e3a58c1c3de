"""The event lake on disk: Parquet files, one per ingested file, committed by an atomic rename.

Layout inside the workspace's lake folder::

    events/<ingest_id>__<first>__<last>.parquet
                                  accepted, deduplicated, enriched events of one ingested file
    rejects/<ingest_id>.parquet   rejected rows of that file, with line and reason
    ingests/<ingest_id>.json      the run's summary (file, format, read/accepted/duplicates/rejected)
    .tmp/                         work files; anything here is unfinished and removed on the next run

A file appears in ``events/`` whole or not at all (``os.replace``), so a killed ingest leaves the lake as
it was before or after that file.  An exclusive lock serialises writers.

What is not the lake's own is refused with :class:`LakeError` rather than half-used: a ``.tmp`` that is
a symbolic link (work files must be renamed into place on the same file system), a folder of the lake
on another file system, a file where a folder belongs, a ``*.parquet`` file in ``events/`` or
``rejects/`` that is not Parquet.  Other stray files (``notes.txt``, sub-folders) are ignored.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from sitrep.config import Ingest, Query, Workspace
from sitrep.feeds.sql import lit
from sitrep.lake.errors import LakeError
from sitrep.lake.schema import COLUMNS, REJECT_SCHEMA
from sitrep.memo import folder_state

# First and last four bytes of every Parquet file.
PARQUET_MAGIC = b"PAR1"


@dataclass(frozen=True)
class Lake:
    """Paths of a workspace's lake."""

    root: Path

    @classmethod
    def of(cls, workspace: Workspace) -> Lake:
        return cls(workspace.lake_dir)

    @property
    def events_dir(self) -> Path:
        return self.root / "events"

    @property
    def rejects_dir(self) -> Path:
        return self.root / "rejects"

    @property
    def ingests_dir(self) -> Path:
        return self.root / "ingests"

    @property
    def tmp_dir(self) -> Path:
        return self.root / ".tmp"

    def create(self) -> None:
        """Make the lake's folders; refuse a file in the place of one, or a ``.tmp`` that is a link."""
        if self.tmp_dir.is_symlink():
            raise LakeError(
                f"{self.tmp_dir} is a symbolic link (to {os.readlink(self.tmp_dir)}): the lake's work folder must "
                "be a real folder inside the lake, because finished files are moved into place by a rename "
                f"on the same file system; remove the link (rm {self.tmp_dir}) and run again"
            )
        if self.tmp_dir.is_file():
            self.tmp_dir.unlink()  # a stray file where the work folder goes: work files are disposable
        for folder in (self.root, self.events_dir, self.rejects_dir, self.ingests_dir, self.tmp_dir):
            if folder.exists() and not folder.is_dir():
                raise LakeError(f"{folder} is a file, not a folder of the lake: move it away and run again")
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # a broken link, no permission
                raise LakeError(f"{folder}: cannot create the lake's folder ({exc.strerror or exc})") from None
        work = os.stat(self.tmp_dir).st_dev
        for folder in (self.events_dir, self.rejects_dir, self.ingests_dir):
            if os.stat(folder).st_dev != work:
                raise LakeError(
                    f"{folder} is on another file system than {self.tmp_dir}: files are committed by an atomic "
                    "rename, which cannot cross file systems; keep the whole lake folder on one file system"
                )

    def event_files(self, start: datetime | None = None, end: datetime | None = None) -> list[Path]:
        """The committed events files; with ``start``/``end``, only those that may hold events in
        ``[start, end)``, judged by the time span in their names (see :func:`events_file_name`)."""
        # Only the files chosen are opened to be checked: a week's page must not open every file of
        # the lake (a few hundred after a year of daily feeds).  The names' spans, and which files
        # were found to be Parquet, are kept under the folder's commit state, taken before the listing
        # (a commit between the two changes the state again): a page judges hundreds of names.
        state = self.commit_state()
        known = _listings.get(self.events_dir)
        if known is None or known.state != state:
            if not self.events_dir.is_dir():
                return _parquet_files(self.events_dir)  # none, or LakeError for a file in its place
            spans = [(p, _span(p.name)) for p in sorted(self.events_dir.glob("*.parquet")) if p.is_file()]
            known = _listings[self.events_dir] = _Listing(state, spans, set())
        chosen = [p for p, span in known.spans if _overlaps(span, start, end)]
        for path in chosen:
            if path not in known.checked:
                _check_parquet(path)
                known.checked.add(path)
        return chosen

    def reject_files(self) -> list[Path]:
        return _parquet_files(self.rejects_dir)

    def ingest_span(self, ingest_id: str) -> tuple[datetime, datetime] | None:
        """The first and last ``time_source`` (UTC, to the second) of the events one ingest committed,
        from its events file's name; None when it committed none."""
        for path in self.events_dir.glob(f"{ingest_id}__*.parquet"):
            if match := _SPAN.search(path.name):
                first, last = (datetime.strptime(m, _STAMP).replace(tzinfo=UTC) for m in match.groups())
                return first, last
        return None

    def commit_state(self) -> str:
        """What the committed events are: every commit (a file renamed into place) and every removal
        changes it, and it costs one directory listing, so a result computed from the lake can be kept
        under it (:func:`sitrep.memo.folder_state`)."""
        return folder_state(self.events_dir)

    @contextmanager
    def writing(self) -> Iterator[Path]:
        """Hold the writer lock; clear work files a killed run left; yield the work folder."""
        self.create()
        try:
            lock = open(self.root / ".lock", "w")  # noqa: SIM115 (the with block below closes it)
        except OSError as exc:
            raise LakeError(
                f"{self.root / '.lock'}: cannot open the lake's lock file ({exc.strerror or exc})"
            ) from None
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            shutil.rmtree(self.tmp_dir, ignore_errors=True)
            self.tmp_dir.mkdir()
            try:
                yield self.tmp_dir
            finally:
                shutil.rmtree(self.tmp_dir, ignore_errors=True)
                fcntl.flock(lock, fcntl.LOCK_UN)


def _parquet_files(folder: Path) -> list[Path]:
    """The ``*.parquet`` files of ``folder`` (sub-folders ignored); one that is not Parquet — no
    ``PAR1`` at both ends, as a truncated or foreign file — is refused by name."""
    if not folder.is_dir():
        if folder.exists() or folder.is_symlink():
            raise LakeError(f"{folder} is not a folder (a file or a broken link where the lake keeps its files)")
        return []
    files = sorted(p for p in folder.glob("*.parquet") if p.is_file())
    for path in files:
        _check_parquet(path)
    return files


def _check_parquet(path: Path) -> None:
    """Refuse, by name, a file of the lake that is not Parquet."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(size - 4, 0))
            tail = handle.read(4)
    except OSError as exc:
        raise LakeError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if size < 12 or head != PARQUET_MAGIC or tail != PARQUET_MAGIC:
        raise LakeError(
            f"{path} is not a Parquet file (truncated, or not written by Sitrep): the lake only holds files "
            "ingest committed whole; move it out of the lake (re-ingest its source file if it was one)"
        )


_SPAN = re.compile(r"__(\d{14})__(\d{14})\.parquet$")
_STAMP = "%Y%m%d%H%M%S"


def events_file_name(ingest_id: str, first: datetime, last: datetime) -> str:
    """``<ingest_id>__<first>__<last>.parquet``: the span of ``time_source`` (UTC, to the second) in the
    name lets a query of one week open only the files that can hold it, without reading any footer."""
    return f"{ingest_id}__{first.astimezone(UTC):{_STAMP}}__{last.astimezone(UTC):{_STAMP}}.parquet"


def _stamp(digits: str) -> datetime:
    # What strptime(_STAMP) reads, without its cost (a page of the explorer judges hundreds of names).
    y, mo, d, h, mi, s = (int(digits[i:j]) for i, j in ((0, 4), (4, 6), (6, 8), (8, 10), (10, 12), (12, 14)))
    return datetime(y, mo, d, h, mi, s, tzinfo=UTC)


def _span(name: str) -> tuple[datetime, datetime] | None:
    """The ``[first, last + 1 s)`` of ``time_source`` an events file's name gives; None for a name
    without one (or with digits that are no time: a hand-made name), which is always read."""
    match = _SPAN.search(name)
    if not match:
        return None
    try:
        return _stamp(match.group(1)), _stamp(match.group(2)) + timedelta(seconds=1)
    except ValueError:
        return None


def _overlaps(span: tuple[datetime, datetime] | None, start: datetime | None, end: datetime | None) -> bool:
    if span is None or (start is None and end is None):
        return True
    first, last = span
    return (end is None or first < end) and (start is None or last > start)


@dataclass
class _Listing:
    """The events files and their spans under one commit state, and those found to be Parquet."""

    state: str
    spans: list[tuple[Path, tuple[datetime, datetime] | None]]
    checked: set[Path]


# By events folder: one listing kept per process (the web desk's pages), replaced when the state changes.
_listings: dict[Path, _Listing] = {}


# How events files are written (DuckDB COPY options).  Parquet format 2 pages encode faster than
# format 1 (a tenth off a 10M-row ingest) and the lake's readers (DuckDB, PyArrow, Spark 3.3+) read them
# (Spark with its row reader: format 2 writes DOUBLE columns BYTE_STREAM_SPLIT, which its vectorized
# reader refuses; ``metrics.spark.DEFAULTS`` turns that one off).
EVENTS_PARQUET = "FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, ROW_GROUP_SIZE 262144, PARQUET_VERSION V2"


def commit(tmp: Path, final: Path) -> None:
    """Move a finished work file into the lake in one atomic step (same file system)."""
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, final)


def write_json(data: dict[str, Any], final: Path, tmp_dir: Path) -> None:
    tmp = tmp_dir / (final.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, final)


def connect(
    workspace: Workspace, *, temp_dir: Path | None = None, limits: Ingest | Query | None = None
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection set up for the lake: UTC, bounded memory and threads (``limits``:
    ``[ingest]`` by default, ``[query]`` for the query database), no downloads."""
    con = duckdb.connect(":memory:")
    settings = limits or workspace.settings.ingest
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET enable_progress_bar = false")  # the CLI draws its own
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET memory_limit = {lit(settings.memory_limit)}")
    con.execute(f"SET threads = {int(settings.threads)}")
    if temp_dir is not None:
        con.execute(f"SET temp_directory = {lit(str(temp_dir / 'spill'))}")
    return con


def events_source(lake: Lake, files: list[Path] | None = None) -> str:
    """SQL for the lake's events: a Parquet scan, or an empty table of the schema when there are none."""
    chosen = lake.event_files() if files is None else files
    if not chosen:
        columns = ", ".join(f"CAST(NULL AS {c.sql}) AS {c.name}" for c in COLUMNS)
        return f"(SELECT {columns} WHERE false)"
    listed = ", ".join(lit(str(p)) for p in chosen)
    # Every events file is written with the lake schema (schema.COLUMNS), so no per-file schema merge.
    return f"read_parquet([{listed}])"


def rejects_source(lake: Lake) -> str:
    """SQL for every rejected row kept in the lake."""
    files = lake.reject_files()
    if not files:
        columns = ", ".join(f"CAST(NULL AS VARCHAR) AS {f.name}" for f in REJECT_SCHEMA if f.name != "line")
        return f"(SELECT {columns}, CAST(NULL AS BIGINT) AS line WHERE false)"
    listed = ", ".join(lit(str(p)) for p in files)
    return f"read_parquet([{listed}], union_by_name = true)"
