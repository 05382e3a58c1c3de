"""Turn a feed's reader declaration and a file into a DuckDB table of raw text columns.

Every table has ``__ordinal`` (the record's number, from which its line is derived: see
:func:`line_expression`)
and one VARCHAR column per raw field.  Records the reader itself cannot parse (a CSV row with the wrong
number of fields, a line that is not JSON, broken XML) go to ``__reader_rejects`` with line and reason.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
from defusedxml import ElementTree

from sitrep.feeds.base import Csv, JsonLines, JsonRecords, Lines, Reader, Xml
from sitrep.feeds.sql import lit

RAW = "__raw"
REJECTS = "__reader_rejects"
# A field separator no text line contains: JSON lines and plain lines are read whole.
_NO_DELIMITER = "\x1e\x1f"


class FileRejected(Exception):
    """The whole file cannot be read with this format (e.g. a required column is missing)."""


@dataclass(frozen=True)
class RawFile:
    """What :func:`load_raw` made: the raw column names and where data lines start (CSV)."""

    columns: list[str]
    first_data_line: int = 1
    csv: bool = False


def load_raw(con: duckdb.DuckDBPyConnection, path: Path, reader: Reader) -> RawFile:
    """Create the view ``__raw`` (with ``__ordinal``) and the table ``__reader_rejects`` for ``path``.

    CSV files are parsed while ``__raw`` is scanned, so the rows DuckDB
    rejects are known only afterwards: call :func:`line_expression` after the scan.
    """
    con.execute(f"CREATE OR REPLACE TEMP TABLE {REJECTS} (line BIGINT, reason VARCHAR, raw VARCHAR)")
    # The session's previous file may have left ``__raw`` as a view (CSV) or a table (the others).
    for kind in ("VIEW", "TABLE"):
        if _exists(con, RAW, kind):
            con.execute(f"DROP {kind} {RAW}")
    match reader:
        case Csv():
            return _load_csv(con, path, reader)
        case Lines():
            return RawFile(_load_lines(con, path, reader.comment))
        case JsonLines():
            return RawFile(_load_json_lines(con, path))
        case JsonRecords():
            return RawFile(_load_json_records(con, path, reader.path))
        case Xml():
            return RawFile(_load_xml(con, path, reader))
    raise TypeError(f"unknown reader {reader!r}")


def line_expression(con: duckdb.DuckDBPyConnection, raw: RawFile) -> str:
    """SQL giving a row's line from its ``__ordinal``; collects CSV parse rejects first."""
    if not raw.csv:
        return "__ordinal"
    if _exists(con, "__csv_rejects"):
        con.execute(
            # DuckDB reports a short row once per missing column: keep one reject per line.
            f"INSERT INTO {REJECTS} SELECT line, arg_min(error_type || ': ' || error_message, column_idx), "
            "arg_min(csv_line, column_idx) FROM __csv_rejects WHERE line IS NOT NULL GROUP BY line"
        )
    return _shifted_line(con, raw.first_data_line, "__ordinal", "__skipped")


def rescan_line_expression(con: duckdb.DuckDBPyConnection, raw: RawFile, position: str) -> str:
    """After another scan of a CSV ``__raw``: SQL giving a row's line from its ``position`` in that scan.

    DuckDB checks UTF-8 only in the columns a scan reads, so a scan of every column can reject lines
    that pass 1 kept: the rows of this scan are numbered by this scan's own rejects.
    """
    return _shifted_line(con, raw.first_data_line, position, "__rescan_skipped")


def _shifted_line(con: duckdb.DuckDBPyConnection, first: int, position: str, table: str) -> str:
    """SQL for the line of the row at ``position`` of the last CSV scan, given the lines it rejected."""
    if not _exists(con, "__csv_rejects"):
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
    if not _count(con, table):
        return f"({position} + {first - 1})"
    return f"({position} + {first - 1} + (SELECT count(*) FROM {table} WHERE before < {position}))"


def _load_csv(con: duckdb.DuckDBPyConnection, path: Path, reader: Csv) -> RawFile:
    options = [
        "all_varchar=true",
        "store_rejects=true",
        "strict_mode=true",
        "auto_detect=true",
        "rejects_table='__csv_rejects'",
        "rejects_scan='__csv_scans'",
        f"delim={lit(reader.delimiter)}",
        f"quote={lit(reader.quote)}",
        "escape='\"'",
        "null_padding=false",
        "max_line_size=4000000",
        "sample_size=20480",
    ]
    first_data_line = 1
    if reader.names:
        options.append("header=false")
        options.append("names=[" + ", ".join(lit(n) for n in reader.names) + "]")
    else:
        options.append(f"header={'true' if reader.header else 'false'}")
        first_data_line = 2 if reader.header else 1
    if reader.comment:
        options.append(f"comment={lit(reader.comment)}")
        first_data_line += _leading_comment_lines(path, reader.comment)
    source = f"read_csv({lit(str(path))}, {', '.join(options)})"
    con.execute("DROP TABLE IF EXISTS __csv_rejects; DROP TABLE IF EXISTS __csv_scans")
    try:
        con.execute(
            # No row_number() here: it would make the scan single-threaded.  Rows keep their order
            # through the parallel scan and the Parquet write, so a row's position in the mapped file
            # is its ordinal (see ingest._Run.mapped).
            f"CREATE OR REPLACE TEMP VIEW {RAW} AS SELECT CAST(NULL AS BIGINT) AS __ordinal, * FROM {source}"
        )
        columns = [c for c in _columns(con, RAW) if c != "__ordinal"]
    except duckdb.Error as exc:
        raise FileRejected(f"not readable as CSV: {_first_line(exc)}") from None
    return RawFile(columns, first_data_line, csv=True)


def _read_lines(path: Path) -> str:
    return (
        f"SELECT row_number() OVER () AS __line, line FROM read_csv({lit(str(path))}, "
        f"columns={{'line': 'VARCHAR'}}, delim={lit(_NO_DELIMITER)}, quote='', escape='', header=false, "
        "auto_detect=false, strict_mode=false, null_padding=true, max_line_size=4000000)"
    )


def _load_lines(con: duckdb.DuckDBPyConnection, path: Path, comment: str | None) -> list[str]:
    skip = f" AND NOT starts_with(trim(line), {lit(comment)})" if comment else ""
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {RAW} AS SELECT __line AS __ordinal, trim(line) AS line "
        f"FROM ({_read_lines(path)}) "
        f"WHERE nullif(trim(line), '') IS NOT NULL{skip}"
    )
    return ["line"]


def _load_json_lines(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    con.execute(f"CREATE OR REPLACE TEMP TABLE __lines AS {_read_lines(path)}")
    con.execute(
        f"INSERT INTO {REJECTS} SELECT __line, 'not a JSON object', line FROM __lines "
        "WHERE nullif(trim(line), '') IS NOT NULL "
        "AND (NOT coalesce(json_valid(line), false) OR json_type(line) <> 'OBJECT')"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {RAW} AS SELECT __line AS __ordinal, CAST(line AS JSON) AS __json FROM __lines "
        "WHERE coalesce(json_valid(line), false) AND json_type(line) = 'OBJECT'"
    )
    con.execute("DROP TABLE __lines")
    return ["__json"]


def _load_json_records(con: duckdb.DuckDBPyConnection, path: Path, json_path: str) -> list[str]:
    # The whole document is one JSON value; DuckDB allocates twice its maximum size up front, so a
    # fixed 1 GiB maximum fails under the memory limit: size the buffer to the document instead.
    size = min(max(_document_size(path) + 1, 16 * 1024 * 1024), 1024 * 1024 * 1024)
    source = f"read_json({lit(str(path))}, format='unstructured', records=false, maximum_object_size={size})"
    if "*" in json_path:
        records = f"json_extract(json, {lit(json_path)})"
    else:
        # A path without a wildcard names one value: an array of records, or a single record.
        value = f"json_extract(json, {lit(json_path)})"
        records = (
            f"CASE WHEN json_type({value}) = 'ARRAY' THEN json_extract({value}, '$[*]') ELSE [{value}] END"
        )
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE __records AS SELECT unnest({records}) AS __json FROM {source}"
        )
    except duckdb.Error as exc:
        raise FileRejected(f"not a readable JSON document: {_first_line(exc)}") from None
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {RAW} AS SELECT row_number() OVER () AS __ordinal, __json FROM __records"
    )
    con.execute(
        f"INSERT INTO {REJECTS} SELECT __ordinal, 'record is not a JSON object', CAST(__json AS VARCHAR) "
        f"FROM {RAW} WHERE json_type(__json) <> 'OBJECT'"
    )
    con.execute(f"DELETE FROM {RAW} WHERE json_type(__json) <> 'OBJECT'")
    con.execute("DROP TABLE __records")
    return ["__json"]


def _document_size(path: Path) -> int:
    """The uncompressed size of a file in bytes (a gzip member's size is its last four bytes)."""
    if path.suffix != ".gz":
        return path.stat().st_size
    with open(path, "rb") as handle:
        handle.seek(-4, 2)
        return int.from_bytes(handle.read(4), "little")


def _load_xml(con: duckdb.DuckDBPyConnection, path: Path, reader: Xml) -> list[str]:
    # XML feeds (CNVD) are small weekly files; a streaming parse is bounded in memory and the
    # records go to DuckDB as one Arrow table.  defusedxml refuses entity-expansion attacks.
    opener = gzip.open if path.suffix == ".gz" else open
    columns: dict[str, list[str | None]] = {p: [] for p in reader.paths}
    lines: list[int] = []
    rejects: list[tuple[int, str, str]] = []
    count = 0
    try:
        with opener(path, "rb") as handle:
            for _event, element in ElementTree.iterparse(handle, events=("end",)):
                if _local(element.tag) != reader.record:
                    continue
                count += 1
                lines.append(count)
                for p in reader.paths:
                    values = [(e.text or "").strip() for e in _find_all(element, p)]
                    joined = ";".join(v for v in values if v)
                    columns[p].append(joined or None)
                element.clear()
    except Exception as exc:  # ParseError, EntitiesForbidden, decoding errors: the rest is unreadable
        rejects.append((count + 1, f"unreadable XML after record {count}: {_first_line(exc)}", ""))
    table = pa.table(
        {
            "__ordinal": pa.array(lines, pa.int64()),
            **{p: pa.array(v, pa.string()) for p, v in columns.items()},
        }
    )
    con.register("__xml", table)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {RAW} AS SELECT * FROM __xml")
    con.unregister("__xml")
    if rejects:
        con.executemany(f"INSERT INTO {REJECTS} VALUES (?, ?, ?)", rejects)
    return list(reader.paths)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find_all(element: object, child_path: str) -> list:
    nodes = [element]
    for part in child_path.split("/"):
        nodes = [child for node in nodes for child in node if _local(child.tag) == part]  # type: ignore[attr-defined]
    return nodes


def _leading_comment_lines(path: Path, comment: str) -> int:
    opener = gzip.open if path.suffix == ".gz" else open
    count = 0
    with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if line.strip() and not line.lstrip().startswith(comment):
                break
            count += 1
    return count


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [row[0] for row in con.execute(f"SELECT name FROM pragma_table_info({lit(table)})").fetchall()]


def _exists(con: duckdb.DuckDBPyConnection, name: str, kind: str = "TABLE") -> bool:
    """Whether a table (or view) of that name exists.  fetchall, not fetchone: DuckDB refuses
    register() while an earlier result has not been read to the end."""
    catalog = "duckdb_views()" if kind == "VIEW" else "duckdb_tables()"
    [(found,)] = con.execute(f"SELECT count(*) FROM {catalog} WHERE {kind.lower()}_name = ?", [name]).fetchall()
    return bool(found)


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__

