"""Ingest = read → map → reject → deduplicate → enrich → commit, for one file at a time, in bulk.

All row work happens inside DuckDB in three passes over a file:

1. **map**: the feed's column expressions and checks turn raw rows into event rows (or a reject
   reason) and compute the deterministic ``event_id``; written to a work Parquet file;
2. **deduplicate**: the first row of each ``event_id`` that the lake does not already hold is kept;
3. **enrich**: sites, registrable domains, GOV, country/region (a hash join on the IP range table),
   domestic; written to one work file per UTC date of the events (the lake's partitions), which one
   commit (renames, or uploads to an object store, under a record) moves into the lake.

A file is first *staged* (:func:`stage`: the three passes, its output in the work folder) and then
*committed* (:func:`commit`: the lake's summary, rejects and events files).  Here both happen in turn,
in the process that holds the lake's lock.  On Apache Spark (:mod:`sitrep.lake.spark_ingest`) tasks
stage files side by side without the lake, and the process that holds the lock commits them one by
one in the order given, removing first what the lake already holds (which includes the files committed
before): the same events as one file after another here.
"""

from __future__ import annotations

import ipaddress
import re
import shutil
import time
import uuid
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import duckdb

from sitrep.config import Ingest as IngestSettings
from sitrep.config import Workspace
from sitrep.enrich import geo, regions, sites
from sitrep.feeds import detect
from sitrep.feeds.base import Csv, Feed
from sitrep.feeds.sql import FILE_TIME, col, extra_columns, ip, lit
from sitrep.hosts import under_any_sql
from sitrep.lake import readers
from sitrep.lake.readers import sample_of
from sitrep.lake.schema import COLUMNS, IDENTITY_COLUMNS, MAPPED, SQL_TYPES
from sitrep.lake.store import (
    INGEST_RECORD,
    Lake,
    Piece,
    connect,
    events_source,
    piece_keys,
    write_partitions,
)
from sitrep.weeks import Week


class Reporter(Protocol):
    """Receives progress of an ingest (the CLI draws a progress bar from it)."""

    def start_file(self, name: str) -> None: ...

    def stage(self, name: str, done: Callable[[], float]) -> None:
        """A stage of the current file begins; ``done()`` (callable from another thread while the stage
        runs) gives its progress in percent, or -1 when unknown."""


@dataclass
class IngestResult:
    """The summary of one file: ``read == accepted + duplicates + rejected`` always holds."""

    file: str
    format: str | None
    read: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    error: str | None = None
    ingest_id: str | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def ingest_paths(
    workspace: Workspace,
    paths: Iterable[Path],
    *,
    feed: Feed | None = None,
    reporter: Reporter | None = None,
    on_result: Callable[[IngestResult], None] | None = None,
    tlp: str | None = None,
) -> list[IngestResult]:
    """Ingest files (``.zip`` archives member by member) in this process, one after another; the format
    is detected unless ``feed``.  ``tlp`` labels rows that carry no label of their own, instead of the
    format's default (a source whose data is shared under another label)."""
    results: list[IngestResult] = []
    lake = Lake.of(workspace)
    with lake.writing() as work, opened(workspace, lake, work, reporter, tlp=tlp) as session:
        for path in paths:
            for staged in stage(session, Path(path), feed):
                result = commit(session, staged)
                results.append(result)
                if on_result:
                    on_result(result)
    return results


@dataclass
class Session:
    """What the files of one ingest share: the lake (None where files are only staged: a Spark task),
    the work folder, one DuckDB connection, and the reference tables (IP ranges, public suffixes,
    regions) loaded once."""

    workspace: Workspace
    lake: Lake | None
    work: Path
    reporter: Reporter | None
    con: duckdb.DuckDBPyConnection
    tlp: str | None = None
    loaded: bool = False

    @property
    def limits(self) -> readers.Limits:
        settings = self.workspace.settings.ingest
        return readers.Limits(settings.max_line_bytes, settings.max_document_bytes, settings.max_json_keys)

    def references(self) -> None:
        if self.loaded:
            return
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE __geo AS SELECT * FROM read_parquet({lit(str(geo.ip_database().path))})"
        )
        aliases = regions.alias_rows()
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE __region_alias AS "
            "SELECT unnest($1::VARCHAR[]) AS alias, unnest($2::VARCHAR[]) AS code",
            [[a for a, _ in aliases], [c for _, c in aliases]],
        )
        sites.load_psl(self.con)
        self.loaded = True


@contextmanager
def opened(
    workspace: Workspace, lake: Lake | None, work: Path, reporter: Reporter | None = None, *, tlp: str | None = None
) -> Iterator[Session]:
    """A session in the work folder ``work``, its DuckDB connection closed at the end.  Without ``lake``
    its connection never reads the lake (a Spark executor need not reach the object store)."""
    con = connect(workspace, temp_dir=work, read_lake=lake is not None)
    try:
        yield Session(workspace, lake, work, reporter, con, tlp=tlp)
    finally:
        con.close()


@dataclass
class Staged:
    """A file through the three passes, in the session's work folder and not yet in the lake: what
    :func:`commit` moves there.  Picklable: a Spark task returns it to the process that commits."""

    # read and rejected counted (accepted, duplicates: by the commit); error when the file cannot be ingested
    result: IngestResult
    # the events of the file (enriched, the first copy of each): one file per UTC date
    pieces: list[Piece] = field(default_factory=list)
    rejects: Path | None = None
    # the feed's rows have no time of their own (see _identity_sql): their copies lie anywhere in a week
    timeless: bool = False
    provider: str = ""
    # the events the lake held were already left out (a session with the lake); else the commit does it
    lake_checked: bool = False

    @property
    def rows(self) -> int:
        return sum(piece.rows for piece in self.pieces)

    @property
    def span(self) -> tuple[datetime, datetime] | None:
        """The first and last time_source of the file's accepted rows."""
        if not self.pieces:
            return None
        return min(p.first for p in self.pieces), max(p.last for p in self.pieces)


_ZIP_MAGIC = b"PK\x03\x04"


def stage(session: Session, path: Path, feed: Feed | None, name: str | None = None) -> Iterator[Staged]:
    """Stage a file, or each member of a zip archive, in the order found (``name``: what the lake
    calls the file, by default ``path``).  A file that cannot be read is a staged error, not raised."""
    name = name or str(path)
    if not path.is_file():
        problem = "a folder, not a file" if path.is_dir() else "no such file"
        yield Staged(IngestResult(name, feed.name if feed else None, error=problem))
        return
    if zipfile.is_zipfile(path):
        yield from _stage_zip(session, path, name, feed)
        return
    if readers.source.head(path, 4) == _ZIP_MAGIC:
        yield Staged(IngestResult(name, None, error="the zip archive is truncated or corrupt (no central directory)"))
        return
    yield _stage_one(session, path, feed, display_name=name)


def _stage_zip(session: Session, path: Path, name: str, feed: Feed | None) -> Iterator[Staged]:
    """Each member of a zip archive as a file of its own; a member that cannot be extracted is an error
    of that member, and the others are still read."""
    try:
        archive = zipfile.ZipFile(path)
        members = [m for m in archive.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        yield Staged(IngestResult(name, None, error=f"the zip archive is corrupt ({exc})"))
        return
    with archive:
        for member in members:
            member_name = f"{name}!{member.filename}"
            target = session.work / f"member-{uuid.uuid4().hex}{Path(member.filename).suffix}"
            try:
                try:
                    _unpack(archive, member, target, session.workspace.settings.ingest.max_unpacked_bytes)
                except _TooLarge as exc:
                    yield Staged(IngestResult(member_name, None, error=str(exc)))
                    continue
                except (
                    zipfile.BadZipFile,
                    zipfile.LargeZipFile,
                    NotImplementedError,
                    OSError,
                    EOFError,
                    zlib.error,
                ) as exc:
                    yield Staged(IngestResult(member_name, None, error=f"the zip member cannot be extracted ({exc})"))
                    continue
                # The extracted copy is new; the member's own date is when the feed wrote it (local time).
                written = datetime(*member.date_time).astimezone(UTC)
                own = Path(member.filename).name
                yield _stage_one(session, target, feed, display_name=member_name, own_name=own, file_time=written)
            finally:
                target.unlink(missing_ok=True)


class _TooLarge(ValueError):
    """A zip member that unpacks to more than ``[ingest] max_unpacked_bytes``."""


def _unpack(archive: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path, limit: int) -> None:
    """Write ``member`` to ``target`` unless it unpacks to more than ``limit`` bytes.  The size the
    archive declares is the bound: Python's reader gives no more than it, and a member whose data is
    longer fails its CRC check (a zip error of that member)."""
    if member.file_size > limit:
        raise _TooLarge(
            f"the zip member unpacks to {member.file_size:,} bytes, over [ingest] max_unpacked_bytes = {limit:,}"
        )
    with archive.open(member) as src, open(target, "wb") as dst:
        shutil.copyfileobj(src, dst)


def ingest_file(
    workspace: Workspace,
    path: Path,
    *,
    feed: Feed | None = None,
    reporter: Reporter | None = None,
    file_time: datetime | None = None,
) -> IngestResult:
    """Ingest one file into the lake and return its summary (errors are reported, not raised).

    ``file_time`` (default: the file's modification time) is what feed expressions read as
    :data:`sitrep.feeds.sql.FILE_TIME`, for feeds whose rows carry no time of their own.
    """
    lake = Lake.of(workspace)
    with lake.writing() as work, opened(workspace, lake, work, reporter) as session:
        return commit(session, _stage_one(session, Path(path), feed, file_time=file_time))


def _stage_one(
    session: Session,
    path: Path,
    feed: Feed | None,
    *,
    display_name: str | None = None,
    own_name: str | None = None,
    file_time: datetime | None = None,
) -> Staged:
    """``own_name``: the file name formats recognise it by (a zip member's own, whose Shadowserver name
    says the report), by default that of ``display_name``."""
    name = display_name or str(path)
    started = time.perf_counter()
    if session.reporter:
        session.reporter.start_file(Path(name).name)
    sample = sample_of(path, own_name or Path(name).name)
    if feed is None:
        try:
            feed = detect(sample, session.workspace.shadowserver_schema)
        except Exception as exc:
            return Staged(IngestResult(name, None, error=str(exc)))
    if file_time is None:
        file_time = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    if session.tlp is not None:
        feed = replace(feed, tlp=session.tlp)
    try:
        staged = _Run(session, path, name, feed, file_time).execute()
    except (OSError, EOFError, zlib.error, UnicodeError, ValueError) as exc:
        # A file the readers could not even open as text (unreadable, a compressed stream that breaks).
        staged = Staged(IngestResult(name, feed.name, error=f"could not be read: {exc}"))
    staged.result.seconds = round(time.perf_counter() - started, 3)
    return staged


def commit(session: Session, staged: Staged) -> IngestResult:
    """Move a staged file into the session's lake: its rejects, then its events (less those the lake
    already holds, unless the stage left them out), then its summary; each file whole or not at all.
    Returns the file's summary, ``read == accepted + duplicates + rejected``."""
    result = replace(staged.result)
    if result.error:
        return result
    lake = session.lake
    assert lake is not None and result.ingest_id is not None, "commit needs the session's lake"
    started = time.perf_counter()
    if staged.rejects is not None:
        lake.commit(staged.rejects, lake.rejects_dir / f"{result.ingest_id}.parquet")
    pieces, span = staged.pieces, staged.span
    if span is not None:
        rows = f"read_parquet([{', '.join(lit(str(p.path)) for p in pieces)}])"
        if not staged.lake_checked and _lake_duplicates(session, rows, span, timeless=staged.timeless):
            pieces = _without_lake_duplicates(session, pieces)
        if pieces:
            record = f"{result.ingest_id}{INGEST_RECORD}"
            lake.commit_events(piece_keys(result.ingest_id, pieces), record, session.work, replaces=[])
    result.accepted = sum(piece.rows for piece in pieces)
    result.duplicates = result.read - result.accepted - result.rejected
    result.seconds = round(result.seconds + time.perf_counter() - started, 3)
    summary = result.as_dict() | {"started": result.ingest_id, "feed_provider": staged.provider}
    lake.write_json(summary, lake.ingests_dir / f"{result.ingest_id}.json", session.work)
    return result


def _lake_duplicates(session: Session, rows: str, span: tuple[datetime, datetime], *, timeless: bool) -> int:
    """``__existing``: the event_ids of ``rows`` (SQL for a relation with ``event_id``) that the lake
    already holds, looked for in the events files that can hold ``span`` (the first and last time of
    ``rows``); returns how many."""
    assert session.lake is not None
    con = session.con
    con.execute("CREATE OR REPLACE TEMP TABLE __existing (event_id VARCHAR)")
    first, last = span
    if timeless:
        # A time-less feed's copies of an event lie anywhere in its week (see _identity_sql).
        tz = session.workspace.timezone
        first = Week.of(first.astimezone(tz).date()).bounds(tz)[0]
        last = Week.of(last.astimezone(tz).date()).bounds(tz)[1] - timedelta(microseconds=1)
    nearby = session.lake.event_files(first, last + timedelta(seconds=1))
    if not nearby:
        return 0
    con.execute(
        f"""
        INSERT INTO __existing
        SELECT DISTINCT l.event_id FROM {events_source(session.lake, nearby)} l
        SEMI JOIN {rows} m ON l.event_id = m.event_id
        WHERE l.time_source BETWEEN ? AND ?
        """,
        [first, last],
    )
    return con.execute("SELECT count(*) FROM __existing").fetchone()[0]  # type: ignore[index]


def _without_lake_duplicates(session: Session, pieces: list[Piece]) -> list[Piece]:
    """Staged events files rewritten without the events of ``__existing`` (none where all went)."""
    kept: list[Piece] = []
    for number, piece in enumerate(pieces):
        rows = f"(SELECT s.* FROM read_parquet({lit(str(piece.path))}) s ANTI JOIN __existing x USING (event_id))"
        kept += write_partitions(session.con, rows, rows, piece.path.with_name(f"{piece.path.stem}-kept{number}"))
        piece.path.unlink()
    return kept


class _Run:
    """One file's stage: three passes on the session's DuckDB connection, in its own work folder."""

    def __init__(self, session: Session, path: Path, name: str, feed: Feed, file_time: datetime) -> None:
        self.session = session
        self.workspace = session.workspace
        self.lake = session.lake
        self.path = path
        self.name = name
        self.feed = feed
        self.reporter = session.reporter
        self.file_time = file_time
        # Microseconds keep ids in ingest order, even for many small files in one second.
        self.ingest_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f") + "-" + uuid.uuid4().hex[:6]
        self.work = session.work / self.ingest_id
        self.work.mkdir()
        self.con = session.con

    def _stage(self, name: str) -> None:
        if self.reporter:
            self.reporter.stage(name, self._progress)

    def _progress(self) -> float:
        try:
            return self.con.query_progress()
        except duckdb.Error:  # the statement ended between polls
            return -1

    def execute(self) -> Staged:
        result = IngestResult(self.name, self.feed.name, ingest_id=self.ingest_id)
        try:
            self._stage("reading")
            raw = readers.load_raw(self.con, self.path, self.feed.reader, self.work, self.session.limits)
            self._source_view(raw.columns)
            raw = self._map(raw)
            self._stage("deduplicating")
            result.read, result.rejected = self._dedup(raw)
            self._stage("enriching")
            events = self._enrich()
        except (readers.FileRejected, readers.SourceError) as exc:
            result.error = str(exc)
            return Staged(result)
        except duckdb.Error as exc:
            shutil.rmtree(self.session.work / f"{self.ingest_id}.events", ignore_errors=True)
            message = str(exc).splitlines()[0]
            if "gzip" in message.lower():
                message = f"the gzip stream is truncated or corrupt ({message})"
            result.error = f"could not be read as {self.feed.name}: {message}"
            return Staged(result)
        finally:
            # What the passes wrote (a copy of the rows, as large as the file) is not needed any more.
            shutil.rmtree(self.work, ignore_errors=True)
        rejects = self.staged("rejects")
        return Staged(
            result,
            pieces=events,
            rejects=rejects if rejects.exists() else None,
            timeless=self._timeless,
            provider=self.feed.provider,
            lake_checked=self.lake is not None,
        )

    @property
    def _timeless(self) -> bool:
        return self.feed.fields.get("time_source") == FILE_TIME

    def staged(self, part: str) -> Path:
        """Where the stage leaves its ``part`` (events, rejects) for the commit: beside its work folder."""
        return self.session.work / f"{self.ingest_id}.{part}.parquet"

    def _source_view(self, present: list[str]) -> None:
        """``__src``: the raw table with the feed's declared columns under their declared names."""
        by_lower = {c.lower(): c for c in present}
        missing_required = [c for c in self.feed.required if c.lower() not in by_lower]
        if missing_required:
            missing = ", ".join(missing_required)
            raise readers.FileRejected(
                f"not a {self.feed.name} file: missing column(s) {missing}, which the format requires"
            )
        # One constant per file, so feeds without row times still map in bulk (see sql.FILE_TIME).
        select = ["__ordinal", f"CAST({lit(self.file_time.isoformat())} AS TIMESTAMPTZ) AS {FILE_TIME}"]
        declared = {c.lower() for c in self.feed.columns}
        for name in self.feed.columns:
            actual = by_lower.get(name.lower())
            select.append(f"{col(actual)} AS {col(name)}" if actual else f"CAST(NULL AS VARCHAR) AS {col(name)}")
        unknown = [c for c in present if c.lower() not in declared]
        select += [col(c) for c in unknown]
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW __src AS SELECT {', '.join(select)} FROM {readers.RAW}")
        self._unknown_columns = tuple(c for c in unknown if not c.startswith("__"))
        if self.feed.keeps_unknown_columns and len(self._unknown_columns) > _MAX_UNKNOWN_COLUMNS:
            # No report has grown by hundreds of columns: such a header is not the report's, and building
            # ``extra`` from thousands of columns would take minutes.
            raise readers.FileRejected(
                f"not a {self.feed.name} file: its header has {len(self._unknown_columns):,} columns the "
                f"format does not define (at most {_MAX_UNKNOWN_COLUMNS} are kept in extra)"
            )
        self._raw_columns = list(dict.fromkeys([*self.feed.columns, *(c for c in unknown if c != "__fields")]))

    def _map(self, raw: readers.RawFile) -> readers.RawFile:
        """Pass 1: raw rows → event columns, reject reason, event_id and the enrichment inputs."""
        fields = dict(self.feed.fields)
        kept = self.feed.extra_columns + (self._unknown_columns if self.feed.keeps_unknown_columns else ())
        if kept:
            frequent = readers.frequent_values(raw, self.feed.reader, kept)
            fields["extra"] = extra_columns(kept, frequent)
        values = ", ".join(f"{expr} AS {_value(name)}" for name, expr in fields.items())
        mapped = [f"CAST({_mapped_value(c.name, fields)} AS {c.sql}) AS {c.name}" for c in MAPPED]
        # Columns with one value for the whole file are not written: ``mapped`` adds them back.
        self._fixed: dict[str, str | None] = {"feed_name": self.feed.name}
        self._fixed |= {
            c.name: _literal_value(fields.get(c.name, "NULL"))
            for c in MAPPED
            if c.name not in fields or _LITERAL.fullmatch(fields[c.name])
        }
        # A column mapped by the same expression as an earlier one (a sinkhole's malware name and its
        # classification identifier) is not written twice: ``mapped`` copies it back.
        first_of: dict[tuple[str, str], str] = {}
        self._copies: dict[str, str] = {}
        for c in MAPPED:
            if c.name in fields and c.name not in self._fixed:
                first = first_of.setdefault((fields[c.name], c.sql), c.name)
                if first != c.name:
                    self._copies[c.name] = first
        inputs = _enrichment_inputs()
        self._fixed |= self._fold(inputs)
        inputs_sql = ", ".join(
            f"{_typed(self._fixed[name], name) if name in self._fixed else expr} AS {name}"
            for name, expr in inputs.items()
        )
        standard = _standard_checks(self.feed, self.workspace.settings.ingest)
        reason = _case((("__feed_reason IS NOT NULL", "__feed_reason"), *standard), literal=False)
        identity = _identity_sql(self.feed.name, fields, self.workspace.settings.organisation.timezone)

        def write(raw: readers.RawFile) -> None:
            # CSV rows of a DuckDB scan have no ordinal column: their position in the file is theirs.
            excluded = [*self._fixed, *self._copies, *(["__ordinal"] if raw.positional else [])]
            checks = [
                *self._short_row_check(raw),
                *((cond, lit(why)) for cond, why in _reusing_values(self.feed.checks, fields)),
            ]
            self.con.execute(
                f"""
                COPY (
                    SELECT * EXCLUDE ({", ".join(excluded)}), hash(event_id) AS __key
                    FROM (
                        SELECT * EXCLUDE (__feed_reason), {reason} AS __reason,
                               substr(md5({identity}), 1, 16) AS event_id, {inputs_sql}
                        FROM (
                            SELECT __ordinal, {lit(self.feed.name)} AS feed_name, {", ".join(mapped)},
                                   {_case(checks, literal=False)} AS __feed_reason
                            FROM (SELECT *, {values} FROM __src)
                        )
                    )
                ) TO {lit(str(self.work / "mapped.parquet"))} ({_WORK_PARQUET})
                """
            )

        try:
            write(raw)
            again = readers.needs_python_csv(self.con, raw, self.feed.reader)
        except duckdb.Error:
            if not raw.positional:
                raise
            again = True
        if again:
            # DuckDB could not keep every good row (a short row, an open quote): read the file again.
            assert isinstance(self.feed.reader, Csv)
            raw = readers.load_python_csv(self.con, raw, self.feed.reader, self.work, self.session.limits)
            self._source_view(raw.columns)
            write(raw)
        self._positional = raw.positional
        self.line = readers.line_expression(self.con, raw, self.session.limits)
        return raw

    def _short_row_check(self, raw: readers.RawFile) -> list[tuple[str, str]]:
        """For a row the Python CSV reader padded (``__fields`` below the header's width): a reject when
        a required column is among the fields it lacks.  Missing optional fields read as NULL."""
        if "__fields" not in raw.columns:
            return []
        width = len(raw.columns) - 1
        positions = {c.lower(): i for i, c in enumerate(raw.columns, 1)}
        required = [(positions[c.lower()], c) for c in self.feed.required if c.lower() in positions]
        if not required:
            return []
        missing = ", ".join(f"CASE WHEN __fields < {i} THEN {lit(c)} END" for i, c in required)
        reason = f"'row has ' || __fields || ' of {width} fields; it lacks the required ' || concat_ws(', ', {missing})"
        return [(f"__fields < {max(i for i, _ in required)}", reason)]

    def _fold(self, exprs: dict[str, str], joins: str = "") -> dict[str, str | None]:
        """The expressions whose inputs all have one value for the whole file (``_fixed``), evaluated
        once, as text.  The others name a column that varies by row, which does not bind here."""
        folded: dict[str, str | None] = {}
        for name, expr in exprs.items():
            known = self._fixed | folded
            relation = ", ".join(f"{_typed(v, n)} AS {n}" for n, v in known.items())
            query = f"SELECT CAST({expr} AS VARCHAR) FROM (SELECT {relation}) AS e {joins}"
            try:
                row = self.con.execute(query).fetchone()
            except duckdb.BinderException:
                continue
            folded[name] = row[0] if row else None
        return folded

    @property
    def mapped(self) -> str:
        """The mapped rows of pass 1, with each row's ordinal (CSV rows: its position in the file).

        Pass 1 writes them to a work Parquet file (see ``_WORK_PARQUET``).  A DuckDB temporary table is
        faster for small files but slower once it spills past the memory limit (10M rows: 52 s against 45 s), and the
        Parquet file keeps memory flat however large the input.
        """
        path = lit(str(self.work / "mapped.parquet"))
        restored = "".join(f", {_typed(value, name)} AS {name}" for name, value in self._fixed.items())
        restored += "".join(f", {first} AS {name}" for name, first in self._copies.items())
        if self._positional:
            scan = f"read_parquet({path}, file_row_number = true)"
            return f"(SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS __ordinal{restored} FROM {scan})"
        return f"(SELECT *{restored} FROM read_parquet({path}))"

    def _dedup(self, raw: readers.RawFile) -> tuple[int, int]:
        """Pass 2: find what not to keep — later copies of an event_id in the file, and events the lake
        already holds (when the session has the lake; else the commit leaves those out) — then write the
        rejects.  Only the (few) duplicates are tabled, so pass 3 filters
        with a small hash table instead of joining every row against every kept row."""
        mapped = self.mapped
        # Rows whose 64-bit key is repeated are the candidates; only they are compared by event_id.
        with _unordered(self.con):
            self.con.execute(
                f"""
                CREATE OR REPLACE TEMP TABLE __later_copies AS
                SELECT __ordinal FROM {mapped}
                WHERE __reason IS NULL AND __key IN (
                    SELECT __key FROM {mapped} WHERE __reason IS NULL GROUP BY __key HAVING count(*) > 1
                )
                QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY __ordinal) > 1
                """
            )
        read, mapped_rejects, first, last, dates = self.con.execute(
            f"SELECT count(*), count(__reason), min(time_source) FILTER (WHERE __reason IS NULL), "
            f"max(time_source) FILTER (WHERE __reason IS NULL), "
            f"list(DISTINCT CAST(time_source AS DATE)) FILTER (WHERE __reason IS NULL) FROM {mapped}"
        ).fetchone()  # type: ignore[misc]
        self.con.execute("CREATE OR REPLACE TEMP TABLE __existing (event_id VARCHAR)")
        # The dates of the kept events: those of the valid rows, unless the lake holds some of them (a
        # later copy in the file has its first copy's time, so never empties a date).
        self._dates: list[date] | str = dates or []
        lake_checked = first and self.lake is not None
        if lake_checked and _lake_duplicates(self.session, mapped, (first, last), timeless=self._timeless):
            self._dates = "__kept"
        reader_rejects = self.con.execute(f"SELECT count(*) FROM {readers.REJECTS}").fetchone()[0]  # type: ignore[index]
        rejected = mapped_rejects + reader_rejects
        if rejected:
            self._bad_rows(raw, mapped_rejects)
            self.con.execute(
                f"""
                COPY (
                    SELECT {lit(self.ingest_id)} AS ingest_id, {lit(self.name)} AS file,
                           {lit(self.feed.name)} AS format, CAST(line AS BIGINT) AS line, reason, raw
                    FROM (
                        SELECT line, __reason AS reason, raw FROM __bad
                        UNION ALL
                        SELECT line, reason, raw FROM {readers.REJECTS}
                    )
                    ORDER BY line
                ) TO {lit(str(self.staged("rejects")))} (FORMAT parquet)
                """
            )
        return read + reader_rejects, rejected

    def _bad_rows(self, raw: readers.RawFile, count: int) -> None:
        """``__bad``: the rejected rows with their line and raw fields as JSON.  The raw fields are read
        again only here, for the rejected rows: carrying every raw column through pass 1 for the few rows
        that need them would cost every file a sixth of its mapping time."""
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE __bad AS SELECT {self.line} AS line, __reason, CAST(NULL AS VARCHAR) AS raw "
            f"FROM {self.mapped} WHERE __reason IS NOT NULL"
        )
        if not count:
            return
        line = "__ordinal"
        if raw.positional:
            # CSV rows have no ordinal of their own: their position in a scan is (see readers.delimited.load).
            # A first scan of every raw column learns which lines that scan rejects.
            self.con.execute(f"SELECT sum(length({_raw_text(self._raw_columns)})) FROM __src AS r").fetchall()
            line = readers.rescan_line_expression(self.con, raw, "__position")
        self.con.execute(
            f"""
            UPDATE __bad SET raw = found.raw
            FROM (
                SELECT {line} AS line, {_raw_text(self._raw_columns)} AS raw
                FROM (SELECT coalesce(__ordinal, row_number() OVER ()) AS __position, * FROM __src) AS r
                WHERE {line} IN (SELECT line FROM __bad)
            ) AS found
            WHERE __bad.line = found.line
            """
        )

    def _enrich(self) -> list[Piece]:
        """Pass 3: enrich the kept rows in bulk joins into Parquet files for the commit, one per UTC
        date (none when no row is kept)."""
        self.con.execute(
            f"""
            CREATE OR REPLACE TEMP VIEW __kept AS
            SELECT m.* FROM {self.mapped} m
            ANTI JOIN __later_copies r ON m.__ordinal = r.__ordinal
            ANTI JOIN __existing x ON m.event_id = x.event_id
            WHERE m.__reason IS NULL
            """
        )
        settings = self.workspace.settings
        mapped = self.mapped
        self.session.references()
        sites.create_domain_table(
            self.con,
            f"SELECT DISTINCT site AS host FROM {mapped} WHERE __reason IS NULL",
            "__domains",
        )
        ew = settings.enrichment
        country = settings.organisation.country
        networks = _network_ranges(ew.constituency_networks)
        derived = {
            "site_domain": "d.domain",
            "site_suffix": "d.suffix",
            "is_gov": under_any_sql("e.site", ew.gov_suffixes),
            "country": "__country",
            "region": f"CASE WHEN __country = {lit(country)} THEN coalesce(e.__alias_region, e.__g_region) END",
            "ip_domestic": "__ip_domestic",
            "domestic": f"(__ip_domestic OR {under_any_sql('e.site', ew.country_tlds)})",
            "target_domain": (
                "CASE WHEN contains(e.__target_host, '.') AND NOT contains(e.__target_host, ' ') "
                "THEN e.__target_host END"
            ),
            "source_line": self.line.replace("__ordinal", "e.__ordinal"),
            "tlp": f"coalesce(e.tlp, {lit(self.feed.tlp)})",
            "source_url": sites.url_sql("e.source_url"),
            "source_ip": "coalesce(e.source_ip, e.__host_ip)",
        }
        # Columns with one value for the whole file: written as constants (see _fixed_sql).
        site_join = "LEFT JOIN __domains d ON d.host = e.site" if "site" in self._fixed else ""
        fixed = (
            {name: value for name, value in self._fixed.items() if name not in derived}
            | {"feed_provider": self.feed.provider, "ingest_id": self.ingest_id, "source_file": self.name}
            | self._fold(derived, site_join)
        )
        columns = [
            f"{_fixed_sql(fixed[c.name], c.name)} AS {c.name}"
            if c.name in fixed
            else f"CAST({derived[c.name]} AS {c.sql}) AS {c.name}"
            if c.name in derived
            else f"e.{c.name}"
            for c in COLUMNS
        ]
        # An address is looked up in the range table only where that decides something: a row whose feed
        # gives its country needs the table's region alone, and only for a domestic address whose region
        # the aliases do not name; the constituency's networks need every row's address.  (A 10M-row
        # sinkhole report with its regions named: the lookup took 1.4 s of the lake writes' 7.3 s.)
        needs_address = (
            "true"
            if networks
            else f"k.source_geolocation_cc IS NULL OR (k.source_geolocation_cc = {lit(country)} AND ra.code IS NULL)"
        )
        enriched = f"""
            (
                SELECT {", ".join(columns)}
                FROM (
                    SELECT *, ({_domestic_sql("__country", country, networks)}) AS __ip_domestic
                    FROM (
                        SELECT e.*, g.region AS __g_region,
                               coalesce(e.source_geolocation_cc, g.cc) AS __country
                        FROM (
                            SELECT * EXCLUDE (__octets), {geo.ipv4_int_sql("__octets")} AS __ip_int
                            FROM (
                                SELECT k.*, ra.code AS __alias_region,
                                       CASE WHEN {needs_address}
                                       THEN {geo.ipv4_octets_sql("coalesce(k.source_ip, k.__host_ip)")} END AS __octets
                                FROM __kept AS k
                                LEFT JOIN __region_alias ra ON ra.alias = upper(trim(k.source_geolocation_region))
                            )
                        ) AS e
                        LEFT JOIN __geo g ON {geo.join_sql("e.__ip_int", "g")}
                    )
                ) AS e
                LEFT JOIN __domains d ON d.host = e.site
            )
            """
        with _unordered(self.con):
            return write_partitions(self.con, enriched, self._dates, self.session.work / f"{self.ingest_id}.events")


@contextmanager
def _unordered(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Let DuckDB return rows in any order (a tenth off writing the lake files), where nothing reads a
    row's position: pass 1's work file and the raw rows keep theirs, which are the rows' line numbers."""
    con.execute("SET preserve_insertion_order = false")
    try:
        yield
    finally:
        con.execute("SET preserve_insertion_order = true")


# The most columns a file may add to its format's when the format keeps them in ``extra``
# (``Feed.keeps_unknown_columns``).
_MAX_UNKNOWN_COLUMNS = 256

# The work file of pass 1 lives for one run: compressing it would cost more CPU than reading the larger
# file back.
_WORK_PARQUET = "FORMAT parquet, COMPRESSION uncompressed, PARQUET_VERSION V2"

# The schemes of a web address; a URL with another one (javascript:, data:) is script or data a feed
# passed on, not a page or a download.
_URL_SCHEMES = ("http", "https", "ftp", "ftps", "sftp", "hxxp", "hxxps")


def _standard_checks(feed: Feed, limits: IngestSettings) -> list[tuple[str, str]]:
    """Checks every feed's rows pass after its own, over the mapped columns: a plausible time, an
    observed host (unless the feed's schema decides that), and a URL that is a web address."""
    earliest = datetime.combine(limits.earliest_time, datetime.min.time(), UTC)
    latest = datetime.now(UTC) + timedelta(hours=limits.future_hours)
    window = f"{earliest:%Y-%m-%d} … {latest:%Y-%m-%d %H:%M} UTC"
    checks = [("time_source IS NULL", "'no valid time (time.source)'")]
    for column, name in (("time_source", "time.source"), ("time_observation", "time.observation")):
        if column == "time_source" or column in feed.fields:
            checks.append(
                (
                    f"{column} NOT BETWEEN {_timestamp(earliest)} AND {_timestamp(latest)}",
                    f"'{name} ' || CAST({column} AS VARCHAR) || ' is outside the plausible window {window}'",
                )
            )
    if feed.requires_observable:
        checks.append(
            (
                "source_ip IS NULL AND source_url IS NULL AND source_fqdn IS NULL AND vulnerability_id IS NULL",
                "'nothing observed: no IP, URL, host name or vulnerability id'",
            )
        )
    if "source_url" in feed.fields:
        schemes = "|".join(_URL_SCHEMES)
        checks += [
            (
                "regexp_matches(source_url, '[\\x00-\\x1f\\x7f]')",
                "'source.url contains control characters'",
            ),
            (
                # A scheme is letters before a colon that no port number follows (host:8080 is none).
                f"regexp_matches(source_url, '^\\s*[A-Za-z][A-Za-z0-9+.-]*:([^0-9]|$)') "
                f"AND NOT regexp_matches(source_url, '^\\s*(?i:{schemes})://')",
                "'source.url is not a web address (' || split_part(trim(source_url), ':', 1) || ':)'",
            ),
        ]
    return checks


def _timestamp(moment: datetime) -> str:
    return f"TIMESTAMPTZ {lit(moment.isoformat())}"


def _identity_sql(feed_name: str, fields: dict[str, str], zone: str) -> str:
    """The text an event_id hashes: the feed name and every column the feed maps (columns it never
    maps are NULL for all its rows and add nothing).  Times hash as integers: formatting them as text
    would cost more than the hash.

    A time-less feed's time is its file's (``FILE_TIME``), which a copy of the file changes: its
    identity takes the reporting week of that time instead, so a copy adds nothing while a URL that is
    listed again in a later week is that week's event.

    The parts are joined by ``chr(31)``, a NULL written ``chr(0)``: ``concat`` with the separators
    between the parts gives the text ``concat_ws`` gave (no part is NULL) in a sixth less time."""
    parts = [lit(feed_name)]
    for name in IDENTITY_COLUMNS:
        if name not in fields:
            continue
        if fields[name] == FILE_TIME:
            value = f"epoch_us(date_trunc('week', timezone({lit(zone)}, {name})))"
        elif SQL_TYPES[name] == "TIMESTAMPTZ":
            value = f"epoch_us({name})"
        else:
            value = name
        parts.append(f"coalesce(CAST({value} AS VARCHAR), chr(0))")
    return f"concat({', chr(31), '.join(parts)})"


def _raw_text(columns: list[str]) -> str:
    """SQL rebuilding a rejected row's raw fields as JSON, so the reject keeps what was read."""
    for text in ("__json", "__xml"):  # document records keep their own text
        if text in columns:
            return f"CAST(r.{text} AS VARCHAR)"
    if not columns:
        return "NULL"
    fields = ", ".join(f"{col(c)} := r.{col(c)}" for c in columns)
    return f"CAST(to_json(struct_pack({fields})) AS VARCHAR)"


# A field whose expression is a string literal or NULL: the same value on every row of a file.
_LITERAL = re.compile(r"'(?:[^']|'')*'|NULL")


def _literal_value(sql: str) -> str | None:
    """The value of an SQL string literal or NULL (see ``_LITERAL``)."""
    return None if sql == "NULL" else sql[1:-1].replace("''", "'")


def _typed(value: str | None, column: str) -> str:
    """A value given as text, cast to its column's type (pass 1's own columns are text)."""
    return f"CAST({lit(value)} AS {SQL_TYPES.get(column, 'VARCHAR')})"


def _fixed_sql(value: str | None, column: str) -> str:
    """A lake column with one value for the whole file.  Text is typed as a one-value ENUM: Parquet stores
    it as plain strings, but DuckDB writes it without hashing each row into a dictionary (a 10M-row
    sinkhole report's seven such columns: 3.9 s as VARCHAR, 0.7 s as ENUM)."""
    if SQL_TYPES[column] == "VARCHAR":
        return f"CAST({lit(value)} AS ENUM({lit(value or '')}))"
    return _typed(value, column)


def _enrichment_inputs() -> dict[str, str]:
    """What pass 1 derives from the mapped columns for enrichment, in order (a later one may read an
    earlier one): the site of a URL or host name, the host of a phishing target, the IP of a URL's host."""
    return {
        "site": sites.host_sql("coalesce(source_url, source_fqdn)"),
        "__target_host": sites.host_sql("event_description_target"),
        "__host_ip": ip("site"),
    }


# Columns that a feed may give defanged (``hxxp://evil[.]com``): written plainly before anything reads
# them, so the identity, the checks and the site see the real address.
_REFANGED = ("source_url", "source_fqdn")


def _mapped_value(name: str, fields: dict[str, str]) -> str:
    """Pass 1's value of an event column: the feed's expression, refanged where it may be defanged."""
    if name not in fields:
        return "NULL"
    return sites.refang_url_sql(_value(name)) if name in _REFANGED else _value(name)


def _value(field: str) -> str:
    """The column holding a field's value before its cast, in pass 1."""
    return col(f"__value_{field}")


def _reusing_values(checks: Iterable[tuple[str, str]], fields: dict[str, str]) -> list[tuple[str, str]]:
    """A feed's checks with every repeat of a field's expression replaced by that field's value, so each
    value is parsed once per row: ``bad_time(col("timestamp"))`` reads the parsed ``time_source``."""
    repeated = sorted((expr for expr in fields.values() if "(" in expr), key=len, reverse=True)
    names = {expr: name for name, expr in fields.items()}
    rewritten = []
    for cond, why in checks:
        for expr in repeated:
            cond = cond.replace(expr, _value(names[expr]))
        rewritten.append((cond, why))
    return rewritten


def _case(checks: Iterable[tuple[str, str]], *, literal: bool = True) -> str:
    """``CASE WHEN cond THEN reason … END``: the first failing check names the reject reason."""
    whens = [f"WHEN {cond} THEN {lit(why) if literal else why}" for cond, why in checks]
    return f"CASE {' '.join(whens)} END" if whens else "CAST(NULL AS VARCHAR)"


def _network_ranges(networks: list[str]) -> list[tuple[int, int]]:
    """Configured constituency networks as integer ranges (IPv4 only: the lake keys IPs as IPv4 ints)."""
    ranges = []
    for text in networks:
        net = ipaddress.ip_network(text, strict=False)
        if net.version == 4:
            ranges.append((int(net.network_address), int(net.broadcast_address)))
    return ranges


def _domestic_sql(country_expr: str, country: str, networks: list[tuple[int, int]]) -> str:
    tests = [f"coalesce({country_expr} = {lit(country)}, false)"]
    tests += [f"coalesce(__ip_int BETWEEN {lo} AND {hi}, false)" for lo, hi in networks]
    return " OR ".join(tests)
