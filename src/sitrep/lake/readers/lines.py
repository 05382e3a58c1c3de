"""Line-oriented files: plain lists (one value per line) and JSON lines (one object per line).

DuckDB reads each line whole (a field separator no text contains).  A line that is not UTF-8, is longer
than the limit, is not a JSON object, or has more keys than the limit is rejected on its own; memory
stays bounded by the line limit whatever the file holds.  A file whose line ends DuckDB cannot follow
(LF lines with a CRLF or a lone CR among them) is split by the CSV reader's Python line reader instead,
which takes each of LF, CRLF and CR as a line end.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from sitrep.feeds.sql import lit
from sitrep.lake.readers import source
from sitrep.lake.readers._tables import RAW, REJECTS, add_rejects, count, exists, first_line
from sitrep.lake.readers.delimited import Reject, physical_lines
from sitrep.lake.readers.source import SourceError

# A field separator no text line contains: the line is read whole.
_NO_DELIMITER = "\x1e\x1f"
_REASONS = {
    "INVALID ENCODING": "not valid UTF-8",
    "TOO MANY COLUMNS": "line contains the control bytes 0x1E 0x1F",
}
_BATCH = 65_536


def _read_lines(con: duckdb.DuckDBPyConnection, path: Path, max_line: int) -> None:
    """``__lines (__line, line)``: every line with its number; rejected lines go to the rejects."""
    con.execute(f"DELETE FROM {REJECTS}")
    try:
        _read_lines_duckdb(con, path, max_line)
    except duckdb.Error as exc:
        if "gzip" in str(exc).lower():
            raise SourceError(f"the compressed stream is truncated or corrupt ({first_line(exc)})") from None
        con.execute(f"DELETE FROM {REJECTS}")
        _read_lines_python(con, path, max_line)


def _read_lines_python(con: duckdb.DuckDBPyConnection, path: Path, max_line: int) -> None:
    schema = pa.schema([("__line", pa.int64()), ("line", pa.string())])
    con.execute("CREATE OR REPLACE TEMP TABLE __lines (__line BIGINT, line VARCHAR)")
    numbers: list[int] = []
    texts: list[str] = []
    rejects: list[tuple[int, str, str | None]] = []

    def flush() -> None:
        con.register(
            "__line_batch", pa.table([pa.array(numbers, pa.int64()), pa.array(texts, pa.string())], schema=schema)
        )
        con.execute("INSERT INTO __lines SELECT * FROM __line_batch")
        con.unregister("__line_batch")
        add_rejects(con, rejects)
        numbers.clear()
        texts.clear()
        rejects.clear()

    for number, text in physical_lines(path, 1, max_line):
        if isinstance(text, Reject):
            rejects.append((text.line, text.reason, text.raw))
        else:
            numbers.append(number)
            texts.append(text)
        if len(numbers) + len(rejects) >= _BATCH:
            flush()
    flush()


def _read_lines_duckdb(con: duckdb.DuckDBPyConnection, path: Path, max_line: int) -> None:
    con.execute("DROP TABLE IF EXISTS __line_rejects; DROP TABLE IF EXISTS __line_scans")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE __positions AS
        SELECT row_number() OVER () AS __position, line FROM read_csv({lit(str(path))},
            columns={{'line': 'VARCHAR'}}, delim={lit(_NO_DELIMITER)}, quote='', escape='', header=false,
            auto_detect=false, strict_mode=true, null_padding=false, max_line_size={max_line},
            compression={lit("gzip" if source.is_gzip(path) else "none")},
            store_rejects=true, rejects_table='__line_rejects', rejects_scan='__line_scans')
        """
    )
    line = "__position"
    if exists(con, "__line_rejects") and count(con, "__line_rejects"):
        reasons = _REASONS | {"LINE SIZE OVER MAXIMUM": f"line is longer than {max_line:,} bytes"}
        whens = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in reasons.items())
        con.execute(
            f"INSERT INTO {REJECTS} SELECT line, CASE error_type {whens} "
            f"ELSE error_type || ': ' || error_message END, csv_line FROM "
            "(SELECT DISTINCT ON (line) * FROM __line_rejects WHERE line IS NOT NULL ORDER BY line)"
        )
        # Rejected lines have no position: shift each later line past the rejected ones before it.
        con.execute(
            "CREATE OR REPLACE TEMP TABLE __skipped AS SELECT line - row_number() OVER (ORDER BY line) AS before "
            "FROM (SELECT DISTINCT line FROM __line_rejects WHERE line IS NOT NULL)"
        )
        line = "__position + (SELECT count(*) FROM __skipped WHERE before < __position)"
    con.execute(f"CREATE OR REPLACE TEMP TABLE __lines AS SELECT {line} AS __line, line FROM __positions")
    con.execute("DROP TABLE __positions")


def load_lines(con: duckdb.DuckDBPyConnection, path: Path, comment: str | None, max_line: int) -> list[str]:
    """``__raw (__ordinal, line)``: the non-blank, non-comment lines, trimmed."""
    _read_lines(con, path, max_line)
    skip = f" AND NOT starts_with(trim(line), {lit(comment)})" if comment else ""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {RAW} AS SELECT __line AS __ordinal, trim(line) AS line FROM __lines "
        f"WHERE nullif(trim(line), '') IS NOT NULL{skip}"
    )
    con.execute("DROP TABLE __lines")
    return ["line"]


def load_json_lines(con: duckdb.DuckDBPyConnection, path: Path, max_line: int, max_keys: int) -> list[str]:
    """``__raw (__ordinal, __json)``: one JSON object per line."""
    _read_lines(con, path, max_line)
    # json_type and json_keys fail on text that is not JSON: CASE keeps them to the valid lines.
    object_ = "CASE WHEN coalesce(json_valid(line), false) THEN json_type(line) = 'OBJECT' ELSE false END"
    keys = f"CASE WHEN {object_} THEN len(json_keys(line)) END"
    con.execute(
        f"""
        INSERT INTO {REJECTS}
        SELECT __line, CASE WHEN NOT ({object_}) THEN 'not a JSON object'
                            ELSE 'more than {max_keys:,} keys' END, line
        FROM __lines
        WHERE nullif(trim(line), '') IS NOT NULL AND (NOT ({object_}) OR {keys} > {max_keys})
        """
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {RAW} AS SELECT __line AS __ordinal, CAST(line AS JSON) AS __json "
        f"FROM __lines WHERE {object_} AND {keys} <= {max_keys}"
    )
    con.execute("DROP TABLE __lines")
    return ["__json"]
