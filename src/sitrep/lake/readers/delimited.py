"""Delimited text (CSV) in the dialect its feed declares: DuckDB's parallel scan, and a Python reader
that takes over when DuckDB cannot keep every good row.

No sniffer decides anything: the feed's :class:`~sitrep.feeds.base.Csv` gives delimiter, quote and escape,
the header is read here, and DuckDB is told all of it.  DuckDB rejects a malformed line with its line
number and goes on; two kinds of damage need more than that, and then the file is read again by
:func:`_python_rows`, which works line by line:

* a row shorter than the header: kept, its missing trailing fields NULL (as ``csv.DictReader`` and
  IntelMQ do); the ingest rejects it only when a required column is among the missing ones;
* a quote that never closes (a broken line, or a file cut off mid-line): DuckDB takes the rest of the
  file, or everything up to the next quote, as one broken record.  The Python reader rejects the broken
  line alone and reads on from the next one.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from sitrep.feeds.base import Csv
from sitrep.feeds.sql import lit
from sitrep.lake.readers import source
from sitrep.lake.readers._tables import RAW, RAW_CAP, REJECTS, FileRejected, add_rejects, count, exists

# How many physical lines a quoted field may span before its quote is taken as never closing.
_MAX_RECORD_LINES = 64
_BATCH = 65_536
QUOTE_NOT_CLOSED = "a quote is not closed on this line"


@dataclass(frozen=True)
class Layout:
    """Where a CSV file's data starts and what its columns are called."""

    names: tuple[str, ...]
    skip: int
    header: bool

    @property
    def first_data_line(self) -> int:
        return self.skip + (2 if self.header else 1)


def layout(text: str, reader: Csv) -> Layout:
    """The file's column names and how many lines precede its header (blank or comment lines)."""
    lines = text.splitlines()
    skip = 0
    for line in lines:
        stripped = line.strip()
        if stripped and not (reader.comment and stripped.startswith(reader.comment)):
            break
        skip += 1
    if reader.names:
        return Layout(reader.names, skip, header=False)
    if skip >= len(lines):
        raise FileRejected("no header line")
    try:
        row = next(csv.reader(io.StringIO(lines[skip]), **_dialect(reader)), [])
    except csv.Error as exc:
        raise FileRejected(f"the header (line {skip + 1}) is not a CSV line: {exc}") from None
    return Layout(_unique([name.strip() for name in row]), skip, header=True)


def _unique(names: list[str]) -> tuple[str, ...]:
    """Header names made usable as columns: empty ones numbered, repeated ones suffixed."""
    seen: dict[str, int] = {}
    result = []
    for i, name in enumerate(names, 1):
        name = name or f"column{i}"
        key = name.lower()
        seen[key] = seen.get(key, 0) + 1
        result.append(name if seen[key] == 1 else f"{name}_{seen[key]}")
    return tuple(result)


def _dialect(reader: Csv) -> dict:
    return {
        "delimiter": reader.delimiter,
        "quotechar": reader.quote or None,
        "quoting": csv.QUOTE_MINIMAL if reader.quote else csv.QUOTE_NONE,
        "doublequote": reader.escape == reader.quote,
        "escapechar": None if reader.escape == reader.quote else reader.escape or None,
        "strict": True,
    }


# How many values of a column to treat as its frequent ones, and how often one must occur among the
# first rows to be one.
_FREQUENT = 8
_FREQUENT_MIN = 2


def frequent_values(text: str, reader: Csv, found: Layout, columns: tuple[str, ...]) -> dict[str, list[str]]:
    """The values each of ``columns`` repeats in the first rows of a file (``text``, its beginning)."""
    lines = text.splitlines()[found.first_data_line - 1 : -1]  # the last line may be cut off
    index = {name.lower(): i for i, name in enumerate(found.names)}
    counts: dict[str, Counter[str]] = {c: Counter() for c in columns if c.lower() in index}
    try:
        for row in csv.reader(lines, **_dialect(reader)):
            for column, counter in counts.items():
                position = index[column.lower()]
                if position < len(row) and row[position]:
                    counter[row[position]] += 1
    except csv.Error:
        pass  # the values counted so far are as good a guess
    return {
        column: [v for v, n in counter.most_common(_FREQUENT) if n >= _FREQUENT_MIN]
        for column, counter in counts.items()
    }


def load(con: duckdb.DuckDBPyConnection, path: Path, reader: Csv, found: Layout, max_line: int) -> None:
    """Create ``__raw`` as a lazy DuckDB scan (rows without ordinals: their position is theirs)."""
    columns = "{" + ", ".join(f"{lit(n)}: 'VARCHAR'" for n in found.names) + "}"
    options = [
        f"columns={columns}",
        f"header={'true' if found.header else 'false'}",
        # With a comment character DuckDB skips the comment lines itself (and counts ``skip`` after them).
        f"skip={0 if reader.comment else found.skip}",
        "auto_detect=false",
        f"delim={lit(reader.delimiter)}",
        f"quote={lit(reader.quote)}",
        f"escape={lit(reader.escape)}",
        f"compression={lit('gzip' if source.is_gzip(path) else 'none')}",
        "store_rejects=true",
        "strict_mode=true",
        "rejects_table='__csv_rejects'",
        "rejects_scan='__csv_scans'",
        f"max_line_size={max_line}",
    ]
    if reader.comment:
        options.append(f"comment={lit(reader.comment)}")
    con.execute("DROP TABLE IF EXISTS __csv_rejects; DROP TABLE IF EXISTS __csv_scans")
    # No row_number() here: it would make the scan single-threaded.  Rows keep their order through the
    # parallel scan and the Parquet write, so a row's position in the mapped file is its ordinal.
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {RAW} AS SELECT CAST(NULL AS BIGINT) AS __ordinal, * "
        f"FROM read_csv({lit(str(path))}, {', '.join(options)})"
    )


def needs_python_reader(con: duckdb.DuckDBPyConnection, reader: Csv) -> bool:
    """After a DuckDB scan: did it reject a short row, a record spanning lines (an open quote), a
    quoting it cannot read (the Python reader tries the other escape), or a longer row the feed allows
    (``more_fields``)?"""
    if not exists(con, "__csv_rejects"):
        return False
    longer = " OR error_type = 'TOO MANY COLUMNS'" if reader.more_fields else ""
    [(found,)] = con.execute(
        "SELECT count(*) FROM __csv_rejects "
        "WHERE error_type IN ('MISSING COLUMNS', 'LINE SIZE OVER MAXIMUM', 'UNQUOTED VALUE') "
        f"OR contains(csv_line, chr(10)) OR contains(csv_line, chr(13)){longer}"
    ).fetchall()
    return bool(found)


def load_python(
    con: duckdb.DuckDBPyConnection, path: Path, reader: Csv, found: Layout, max_line: int, work: Path
) -> None:
    """Create ``__raw`` from the Python reader: rows with their line as ``__ordinal`` and their field
    count as ``__fields`` (fewer than the header's for a short row); broken lines go to the rejects."""
    con.execute("DROP TABLE IF EXISTS __csv_rejects; DROP TABLE IF EXISTS __csv_scans")
    target = work / "python-rows.parquet"
    schema = pa.schema([("__ordinal", pa.int64()), ("__fields", pa.int32()), *((n, pa.string()) for n in found.names)])
    batch: list[tuple[int, list[str]]] = []
    rejects: list[tuple[int, str, str | None]] = []
    with pq.ParquetWriter(target, schema, compression="none") as writer:
        for item in _python_rows(path, reader, found, max_line):
            if isinstance(item, Reject):
                rejects.append((item.line, item.reason, item.raw))
            else:
                batch.append(item)
            if len(batch) >= _BATCH:
                writer.write_table(_table(batch, found.names, schema))
                batch.clear()
            if len(rejects) >= _BATCH:
                add_rejects(con, rejects)
                rejects.clear()
        writer.write_table(_table(batch, found.names, schema))
    add_rejects(con, rejects)
    con.execute(f"CREATE OR REPLACE TEMP VIEW {RAW} AS SELECT * FROM read_parquet({lit(str(target))})")


def _table(rows: list[tuple[int, list[str]]], names: tuple[str, ...], schema: pa.Schema) -> pa.Table:
    width = len(names)
    columns = [[fields[i] if i < len(fields) else None for _, fields in rows] for i in range(width)]
    return pa.table(
        [
            pa.array([line for line, _ in rows], pa.int64()),
            pa.array([len(fields) for _, fields in rows], pa.int32()),
            *(pa.array(c, pa.string()) for c in columns),
        ],
        schema=schema,
    )


@dataclass(frozen=True)
class Reject:
    line: int
    reason: str
    raw: str | None


def _python_rows(path: Path, reader: Csv, found: Layout, max_line: int) -> Iterator[tuple[int, list[str]] | Reject]:
    """Records of the file as ``(line, fields)``, or :class:`Reject` for a line that cannot be one.

    A quoted field may span lines; when the quote is still open after ``_MAX_RECORD_LINES`` lines (or
    ``max_line`` bytes), or the record it makes does not fit the header, the first line is rejected
    alone and reading starts again at the line after it, so one broken quote costs one line.
    """
    dialect = _dialect(reader)
    width = len(found.names)
    lines = physical_lines(path, found.first_data_line, max_line)
    again: deque[tuple[int, str | Reject]] = deque()
    pending: list[tuple[int, str]] = []
    while True:
        item = again.popleft() if again else next(lines, None)
        number, text = item or (0, None)  # no text: the end of the file
        if not isinstance(text, str):
            if pending:  # an open record cannot run through the end of the file or a bad line
                yield Reject(pending[0][0], QUOTE_NOT_CLOSED, pending[0][1])
                again.extendleft(reversed([*pending[1:], *([item] if item else [])]))
                pending = []
                continue
            if text is None:
                return
            yield text
            continue
        if not pending and (not text.strip() or (reader.comment and text.lstrip().startswith(reader.comment))):
            continue
        pending.append((number, text))
        record = _parse("\n".join(t for _, t in pending), dialect)
        if record is _OPEN and len(pending) < _MAX_RECORD_LINES and sum(map(len, (t for _, t in pending))) <= max_line:
            continue
        if isinstance(record, list) and (len(record) <= width or reader.more_fields):
            yield (pending[0][0], record[:width])
        elif len(pending) == 1:
            reason = (
                f"more fields than the header has ({len(record)} for {width})"
                if isinstance(record, list)
                else (QUOTE_NOT_CLOSED if record is _OPEN else "malformed quoting: a quote stands inside a field")
            )
            yield Reject(number, reason, text)
        else:
            yield Reject(pending[0][0], QUOTE_NOT_CLOSED, pending[0][1])
            again.extendleft(reversed(pending[1:]))
        pending = []


_OPEN = object()


def _parse(text: str, dialect: dict) -> list[str] | object | None:
    """The fields of one record; ``_OPEN`` when a quote is still open at its end; None when malformed.

    A record that is malformed in a dialect that doubles quotes is read once more with backslash
    escapes as well: some providers escape a quote inside a quoted field as ``\\"`` in files that
    otherwise double them (Shadowserver's HTTP headers).  Only then, so a backslash elsewhere stays."""
    try:
        rows = list(csv.reader(io.StringIO(text), **dialect))
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            return _OPEN
        if dialect["doublequote"] and dialect["escapechar"] is None and "\\" in text:
            return _parse(text, dialect | {"escapechar": "\\"})
        return None
    return rows[0] if len(rows) == 1 else None


def physical_lines(path: Path, first: int, max_line: int) -> Iterator[tuple[int, str | Reject]]:
    """The file's physical lines from line ``first`` on, decoded; bad UTF-8 or an over-long line is a
    :class:`Reject` in its place."""
    try:
        with source.open_bytes(path) as handle:
            number = 0
            for physical in handle:
                # A lone CR ends a line too (old Mac files); CRLF stays one line end.
                for raw in physical.rstrip(b"\r\n").split(b"\r"):
                    number += 1
                    if number < first:
                        continue
                    if len(raw) > max_line:
                        kept = raw[:RAW_CAP].decode("utf-8", errors="replace")
                        yield number, Reject(number, f"line is longer than {max_line:,} bytes", kept)
                        continue
                    try:
                        text = raw.decode("utf-8")
                    except UnicodeDecodeError:
                        yield number, Reject(number, "not valid UTF-8", raw.decode("utf-8", errors="replace"))
                        continue
                    yield number, text.removeprefix("\ufeff") if number == 1 else text
    except (EOFError, OSError) as exc:
        raise source.SourceError(f"the compressed stream is truncated or corrupt ({exc})") from None


# DuckDB's CSV error types in the words the Python reader uses for the same damage.
_REASONS = {
    "INVALID ENCODING": "'not valid UTF-8'",
    "UNQUOTED VALUE": "'malformed quoting: a quote is not closed, or one stands inside a field'",
    "TOO MANY COLUMNS": "'more fields than the header has (' || error_message || ')'",
    "MISSING COLUMNS": "'fewer fields than the header has (' || error_message || ')'",
}


def line_expression(con: duckdb.DuckDBPyConnection, first_data_line: int, max_line: int) -> str:
    """SQL giving a DuckDB-scanned row's line from its position; moves the scan's rejects to
    ``__reader_rejects`` first."""
    if exists(con, "__csv_rejects"):
        reasons = _REASONS | {"LINE SIZE OVER MAXIMUM": lit(f"line is longer than {max_line:,} bytes")}
        whens = " ".join(f"WHEN {lit(kind)} THEN {why}" for kind, why in reasons.items())
        con.execute(
            # DuckDB reports a short row once per missing column: keep one reject per line.
            f"INSERT INTO {REJECTS} SELECT line, arg_min(CASE error_type {whens} "
            "ELSE error_type || ': ' || error_message END, column_idx), "
            "arg_min(csv_line, column_idx) FROM __csv_rejects WHERE line IS NOT NULL GROUP BY line"
        )
    return _shifted_line(con, first_data_line, "__ordinal", "__skipped")


def rescan_line_expression(con: duckdb.DuckDBPyConnection, first_data_line: int, position: str) -> str:
    """After another scan of a CSV ``__raw``: SQL giving a row's line from its ``position`` in that scan.

    DuckDB checks UTF-8 only in the columns a scan reads, so a scan of every column can reject lines
    that pass 1 kept: the rows of this scan are numbered by this scan's own rejects.
    """
    return _shifted_line(con, first_data_line, position, "__rescan_skipped")


def _shifted_line(con: duckdb.DuckDBPyConnection, first: int, position: str, table: str) -> str:
    """SQL for the line of the row at ``position`` of the last CSV scan, given the lines it rejected."""
    if not exists(con, "__csv_rejects"):
        return f"({position} + {first - 1})"
    # Rows DuckDB rejected have no position: shift each later row past the rejected lines before it.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {table} AS
        SELECT line - {first} - (row_number() OVER (ORDER BY line) - 1) AS before
        FROM (SELECT DISTINCT line FROM __csv_rejects WHERE line IS NOT NULL)
        """
    )
    con.execute("DROP TABLE __csv_rejects")
    if not count(con, table):
        return f"({position} + {first - 1})"
    return f"({position} + {first - 1} + (SELECT count(*) FROM {table} WHERE before < {position}))"
