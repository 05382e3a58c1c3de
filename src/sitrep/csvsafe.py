"""CSV that a spreadsheet opens without running anything: cells that would start a formula are
neutralised.

Spreadsheet programs evaluate a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and treat a leading
tab or carriage return as the start of one), so a hostile value such as ``=cmd|'/C calc'!A0`` in a URL
or a ref would run when the file is opened.  Such a cell is written with a leading apostrophe, the
usual escape (OWASP "CSV injection"): the text stays readable and is never evaluated.  Every CSV that
Sitrep writes for people goes through :func:`safe_cell`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """``value`` as CSV cell text that no spreadsheet evaluates (None is the empty cell)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(header: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    """A CSV document (CRLF line ends, as RFC 4180 and spreadsheets expect) with every cell made safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(name) for name in header])
    writer.writerows([safe_cell(value) for value in row] for row in rows)
    return buffer.getvalue()


def safe_cell_expr(column: Any) -> Any:
    """The Ibis form of :func:`safe_cell` for a string column, for exports written in bulk: a value
    that would start a formula gets the leading apostrophe (NULL stays NULL)."""
    import ibis  # only callers that already hold Ibis columns get here

    starts = ibis.literal(False)
    for start in FORMULA_STARTS:
        starts = starts | column.startswith(start)
    return ibis.ifelse(starts.fill_null(False), "'" + column, column)
