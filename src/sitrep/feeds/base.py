"""What a feed module declares: how to read its files, how to recognise them, how columns map.

A feed never loops over rows.  It declares a reader and, for each event column, a SQL expression over
its raw columns; the lake evaluates those expressions in bulk (DuckDB) for the whole file.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Lines tried for a JSON object when recognising a JSON lines file (see Sample.first_json_object).
_JSON_LINES_TRIED = 5


@dataclass(frozen=True)
class Csv:
    """A delimited text file in a declared dialect (nothing is sniffed).  Raw columns are the header's
    names (or ``names`` when it has none).  ``escape`` is the quote itself when a quote inside a quoted
    field is doubled (``""``, RFC 4180), or ``\\`` when it is written ``\\"``; ``quote=""`` reads
    quotes as ordinary characters.  Lines starting with ``comment`` are skipped."""

    delimiter: str = ","
    header: bool = True
    names: tuple[str, ...] = ()
    comment: str | None = None
    quote: str = '"'
    escape: str = '"'
    # Rows may carry fields after the declared ones (a provider that adds fields without notice): they
    # are dropped instead of rejecting the row.
    more_fields: bool = False


@dataclass(frozen=True)
class Lines:
    """One value per line; the raw column is ``line``.  Blank lines are skipped, not rejected."""

    comment: str | None = None


@dataclass(frozen=True)
class JsonLines:
    """One JSON object per line; the raw column ``__json`` holds it (use :func:`sql.field`)."""


@dataclass(frozen=True)
class JsonQuery:
    """Records a JSON document yields through SQL, for layouts a path cannot name: records in several
    places that need their context (MISP attributes of events and of objects), or records that
    reference each other (STIX sightings and their indicators).

    ``sql`` is a DuckDB SELECT over the one-row table ``__document (json JSON)``.  It returns
    ``__ordinal`` (the record's number, 1…n in document order), ``__json`` (the record: what a reject
    keeps as its raw text) and any further raw columns the feed's expressions read; a row whose
    optional ``__reject`` column is not NULL is rejected with that text as its reason.

    ``salvage`` names the array (a JSONPath ending in ``[*]``) whose elements are kept when the
    document is not valid JSON: the broken elements are rejected and ``sql`` runs over the rest.
    """

    sql: str
    salvage: str = ""


@dataclass(frozen=True)
class JsonRecords:
    """A JSON document whose records sit at ``path`` (JSONPath, e.g. ``$.vulnerabilities[*].cve``), or
    that a :class:`JsonQuery` turns into records.

    A path without ``*`` (e.g. ``$``) names one value: its elements when it is an array, else itself.
    When the document is not valid JSON, the elements of the first array on the path (``$[*]``,
    ``$.vulnerabilities[*]``) are read one by one: those that are valid JSON are kept.
    """

    path: str | JsonQuery = "$[*]"
    # What a document of the format is: an SQL condition over ``json`` (the parsed document) and the
    # reason a document failing it is refused with, so that a file in another layout is an error and
    # not an empty week (an empty array of records is still 0 rows).
    layout: str = ""
    not_layout: str = ""


@dataclass(frozen=True)
class Xml:
    """An XML document of ``record`` elements.  Raw columns are child paths (``cves/cve/cveNumber``);
    repeated values are joined with ``;``."""

    record: str
    paths: tuple[str, ...]


Reader = Csv | Lines | JsonLines | JsonRecords | Xml


@dataclass(frozen=True)
class Sample:
    """The beginning of a file, decoded, for recognising its format."""

    name: str
    text: str

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    def first_line(self, skip_comments: str | None = None) -> str:
        for line in self.lines:
            stripped = line.strip()
            if not stripped or (skip_comments and stripped.startswith(skip_comments)):
                continue
            return stripped
        return ""

    def first_json_object(self) -> dict[str, Any] | None:
        """The first line that is a JSON object (JSON lines files), or None.  A broken line (a file whose
        first record was cut off) is passed over, up to a few: one bad row must not cost the file.  Only
        lines that start with ``{`` count, so the indented lines of a pretty-printed document do not."""
        if not self.first_line().startswith("{"):
            return None
        candidates = (line for line in self.lines if line.startswith("{"))
        for line in itertools.islice(candidates, _JSON_LINES_TRIED):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            return record if isinstance(record, dict) else None
        return None

    def csv_header(self, delimiter: str = ",") -> list[str]:
        """Column names of the first non-empty line, lower-cased and stripped."""
        first = self.first_line()
        if not first:
            return []
        row = next(csv.reader(io.StringIO(first), delimiter=delimiter), [])
        return [c.strip().strip('"').lower() for c in row]

    def has_columns(self, *names: str, delimiter: str = ",") -> bool:
        header = set(self.csv_header(delimiter))
        return all(n.lower() in header for n in names)

    def matches(self, pattern: str, flags: int = 0) -> bool:
        return re.search(pattern, self.text, flags) is not None


@dataclass(frozen=True)
class Feed:
    """A feed format: its name, provider, reader, recogniser and column mapping.

    ``fields`` maps event columns (see :mod:`sitrep.lake.schema`) to SQL expressions over the raw
    columns; unmapped columns are NULL.  ``extra_columns`` are raw columns copied into ``extra`` under their
    own names (the ingest builds that JSON, see :func:`sql.extra_columns`); a feed gives either them or
    an ``extra`` expression in ``fields``.  ``columns`` lists the raw columns the expressions use: a file
    lacking one of ``required`` is rejected whole; other missing ones read as NULL.  ``checks`` are
    ``(condition, reason)`` pairs over raw columns: a row where the condition is true is rejected.
    """

    name: str
    provider: str
    summary: str
    reader: Reader
    fields: Mapping[str, str]
    recognise: Callable[[Sample], bool]
    columns: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    checks: tuple[tuple[str, str], ...] = ()
    extra_columns: tuple[str, ...] = ()
    # Columns a file has beyond ``columns`` go to ``extra`` under their own names too: Shadowserver adds
    # columns to its reports over the years, and IntelMQ keeps what it cannot map.
    keeps_unknown_columns: bool = False
    # TLP of rows that carry none; Shadowserver, for one, shares its reports with recipients only.
    tlp: str = "CLEAR"
    # Lower runs first when recognising; specific layouts before general ones.
    priority: int = 100
    # A row must name what was observed (an IP, URL, host name or vulnerability id), else it is rejected.
    # Off for formats whose own schema says which fields a row needs (Shadowserver's reports).
    requires_observable: bool = True
    example: str = field(default="", compare=False)

    @property
    def classification(self) -> str:
        """The class the format gives its rows, ``taxonomy/type/identifier`` as far as it is constant;
        ``*`` stands for a part each row decides (``(by row)`` when all of them do)."""
        parts = []
        for name in ("classification_taxonomy", "classification_type", "classification_identifier"):
            literal = _LITERAL.fullmatch(self.fields.get(name, "NULL"))
            parts.append(literal.group(1).replace("''", "'") if literal else "*" if name in self.fields else "")
        while parts and parts[-1] in ("", "*"):
            parts.pop()
        return "/".join(parts) if parts else "(by row)"


# An SQL string literal: the whole of a field that is the same on every row.
_LITERAL = re.compile(r"'((?:[^']|'')*)'")
