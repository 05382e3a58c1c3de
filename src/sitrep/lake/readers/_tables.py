"""Small catalog helpers the readers share."""

from __future__ import annotations

import duckdb

from sitrep.feeds.sql import lit

RAW = "__raw"
REJECTS = "__reader_rejects"
# The raw text kept of a record that is cut off or too large to keep whole.
RAW_CAP = 64 * 1024


class FileRejected(Exception):
    """The whole file cannot be read with this format (e.g. a required column is missing)."""


def columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [row[0] for row in con.execute(f"SELECT name FROM pragma_table_info({lit(table)})").fetchall()]


def exists(con: duckdb.DuckDBPyConnection, name: str, kind: str = "TABLE") -> bool:
    """Whether a table (or view) of that name exists.  fetchall, not fetchone: DuckDB refuses
    register() while an earlier result has not been read to the end."""
    catalog = "duckdb_views()" if kind == "VIEW" else "duckdb_tables()"
    [(found,)] = con.execute(f"SELECT count(*) FROM {catalog} WHERE {kind.lower()}_name = ?", [name]).fetchall()
    return bool(found)


def count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]


def first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def add_rejects(con: duckdb.DuckDBPyConnection, rows: list[tuple[int, str, str | None]]) -> None:
    """Append ``(line, reason, raw)`` rows to the reader's rejects."""
    if rows:
        con.executemany(f"INSERT INTO {REJECTS} VALUES (?, ?, ?)", rows)
