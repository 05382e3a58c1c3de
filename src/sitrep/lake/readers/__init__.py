"""Turn a feed's reader declaration and a file into a DuckDB table of raw text columns.

Every ``__raw`` table has ``__ordinal`` (the record's number, from which its line is derived: see
:func:`line_expression`) and one VARCHAR column per raw field.  Records a reader itself cannot parse (a
CSV row that does not fit the header, a line that is not JSON, broken XML) go to ``__reader_rejects``
with line, reason and raw text.  One module per family: :mod:`.delimited` (CSV), :mod:`.lines` (plain
and JSON lines), :mod:`.json_document` and :mod:`.xml_document`; :mod:`.source` opens files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from sitrep.feeds.base import Csv, JsonLines, JsonRecords, Lines, Reader, Xml
from sitrep.lake.readers import delimited, json_document, lines, source, xml_document
from sitrep.lake.readers._tables import RAW, REJECTS, FileRejected, exists
from sitrep.lake.readers.source import Limits, SourceError, sample_of

__all__ = [
    "RAW",
    "REJECTS",
    "FileRejected",
    "Limits",
    "RawFile",
    "SourceError",
    "frequent_values",
    "line_expression",
    "load_python_csv",
    "load_raw",
    "needs_python_csv",
    "rescan_line_expression",
    "sample_of",
]


@dataclass(frozen=True)
class RawFile:
    """What :func:`load_raw` made: the raw column names, and for a DuckDB CSV scan where its data
    starts (its rows are numbered by position, see :func:`line_expression`)."""

    columns: list[str]
    path: Path
    csv_layout: delimited.Layout | None = field(default=None)

    @property
    def positional(self) -> bool:
        """Rows carry no ordinal of their own: a DuckDB CSV scan, numbered by its position."""
        return self.csv_layout is not None


def load_raw(con: duckdb.DuckDBPyConnection, path: Path, reader: Reader, work: Path, limits: Limits) -> RawFile:
    """Create ``__raw`` (with ``__ordinal``) and ``__reader_rejects`` for ``path``.

    CSV files are parsed while ``__raw`` is scanned, so the rows DuckDB rejects are known only
    afterwards: call :func:`line_expression` after the scan, and :func:`needs_python_csv` to learn
    whether the file must be read again by :func:`load_python_csv`.
    """
    con.execute(f"CREATE OR REPLACE TEMP TABLE {REJECTS} (line BIGINT, reason VARCHAR, raw VARCHAR)")
    # The session's previous file may have left ``__raw`` as a view or a table.
    for kind in ("VIEW", "TABLE"):
        if exists(con, RAW, kind):
            con.execute(f"DROP {kind} {RAW}")
    if source.is_utf16(path):
        path = source.utf8_copy(path, work / "utf8-copy.txt")
    match reader:
        case Csv():
            found = delimited.layout(source.decode(source.head(path)), reader)
            delimited.load(con, path, reader, found, limits.max_line_bytes)
            return RawFile(list(found.names), path, found)
        case Lines():
            return RawFile(lines.load_lines(con, path, reader.comment, limits.max_line_bytes), path)
        case JsonLines():
            return RawFile(lines.load_json_lines(con, path, limits.max_line_bytes, limits.max_json_keys), path)
        case JsonRecords():
            records = json_document.load_json_records(
                con,
                path,
                reader.path,
                limits.max_document_bytes,
                layout=(reader.layout, reader.not_layout),
                record_limit=limits.max_line_bytes,
                max_keys=limits.max_json_keys,
            )
            return RawFile(records, path)
        case Xml():
            return RawFile(xml_document.load_xml(con, path, reader, limits.max_document_bytes), path)
    raise TypeError(f"unknown reader {reader!r}")


def needs_python_csv(con: duckdb.DuckDBPyConnection, raw: RawFile, reader: Reader) -> bool:
    """After the first scan of a CSV: must it be read again by the Python reader?"""
    return isinstance(reader, Csv) and raw.positional and delimited.needs_python_reader(con, reader)


def load_python_csv(con: duckdb.DuckDBPyConnection, raw: RawFile, reader: Csv, work: Path, limits: Limits) -> RawFile:
    """Read a CSV again with the Python reader (see :mod:`.delimited`): rows numbered by their line."""
    assert raw.csv_layout is not None
    con.execute(f"DELETE FROM {REJECTS}")
    delimited.load_python(con, raw.path, reader, raw.csv_layout, limits.max_line_bytes, work)
    return RawFile([*raw.columns, "__fields"], raw.path)


def frequent_values(raw: RawFile, reader: Reader, columns: tuple[str, ...]) -> dict[str, list[str]]:
    """Values the file's first rows repeat in ``columns`` (CSV files; none for the other readers)."""
    if not isinstance(reader, Csv) or raw.csv_layout is None:
        return {}
    return delimited.frequent_values(source.decode(source.head(raw.path)), reader, raw.csv_layout, columns)


def line_expression(con: duckdb.DuckDBPyConnection, raw: RawFile, limits: Limits) -> str:
    """SQL giving a row's line from its ``__ordinal``; collects a DuckDB CSV scan's rejects first."""
    if raw.csv_layout is None:
        return "__ordinal"
    return delimited.line_expression(con, raw.csv_layout.first_data_line, limits.max_line_bytes)


def rescan_line_expression(con: duckdb.DuckDBPyConnection, raw: RawFile, position: str) -> str:
    """See :func:`delimited.rescan_line_expression`."""
    assert raw.csv_layout is not None
    return delimited.rescan_line_expression(con, raw.csv_layout.first_data_line, position)
