"""JSON documents (NVD, PhishTank, MISP, STIX, CTIP…), read into one record per row.

A document is read whole, so its decompressed size is capped (``ingest.max_document_bytes``): a small
gzip that inflates to gigabytes is refused with that reason while it is being counted, in 1 MiB steps,
before anything is parsed.  Every record keeps its raw text (``__json``), so a rejected record can be
fixed and ingested again.

Documents are parsed by DuckDB.  When that fails, an array of records is read again element by
element (:class:`_Scanner`): elements that are valid JSON are kept, each broken one is rejected with
its text, and where the structure itself breaks (a truncated file, a bracket that does not match) the
records before the break are kept and the rest is one reject.  A document that has no such array is
refused as a whole, with the line and column where it breaks.  A record larger than the line limit
or with more keys than the key limit is rejected on its own, as a JSON line would be.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from sitrep.feeds.base import JsonQuery
from sitrep.feeds.sql import lit
from sitrep.lake.readers import source
from sitrep.lake.readers._tables import RAW, RAW_CAP, REJECTS, FileRejected, columns, first_line

# DuckDB's own JSON reader refuses deeper documents; an element nested deeper is rejected.
_MAX_DEPTH = 128
_DEFAULTS = source.Limits()


def load_json_records(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    json_path: str | JsonQuery,
    limit: int,
    *,
    record_limit: int = _DEFAULTS.max_line_bytes,
    max_keys: int = _DEFAULTS.max_json_keys,
    layout: tuple[str, str] = ("", ""),
) -> list[str]:
    """``__raw (__ordinal, __json, …)``: the records at ``json_path`` (see
    :class:`~sitrep.feeds.base.JsonRecords`), or those a :class:`~sitrep.feeds.base.JsonQuery` gives.

    Records that are not JSON objects, that are larger than ``record_limit`` bytes or have more than
    ``max_keys`` keys go to the reader's rejects with their text.  ``layout`` is the format's condition
    on a valid document and the reason a document failing it is refused with.
    """
    size = source.content_size(path, limit)
    if size == 0:
        raise FileRejected("not a JSON document: the file is empty")
    # DuckDB allocates twice the maximum object size up front: size the buffer to the document.
    maximum = max(size + 1, 1024 * 1024)
    compression = lit("gzip" if source.is_gzip(path) else "none")
    try:
        con.execute(
            # read_json_objects keeps the text as JSON: read_json would infer a type for the whole
            # document (slow, memory-hungry, and a null inside a list comes back as NULL).
            "CREATE OR REPLACE TEMP TABLE __document AS SELECT json FROM "
            f"read_json_objects({lit(str(path))}, format='unstructured', "
            f"maximum_object_size={maximum}, compression={compression})"
        )
        [(documents,)] = con.execute("SELECT count(*) FROM __document").fetchall()
        if documents != 1:
            # Several top-level values (JSON lines given to a document format): not one document.
            raise FileRejected(f"not a JSON document: it holds {documents:,} top-level values, not one")
        salvaged = None
        condition, refusal = layout
        if condition and not con.execute(f"SELECT coalesce(({condition}), false) FROM __document").fetchone()[0]:  # type: ignore[index]
            raise FileRejected(refusal)
    except duckdb.Error as exc:
        salvaged = _salvage(con, path, limit, json_path, first_line(exc))
    if isinstance(json_path, JsonQuery):
        _query_records(con, json_path, salvaged)
    else:
        _path_records(con, json_path, salvaged)
    return _keep_records(con, record_limit, max_keys)


def _split_path(json_path: str) -> tuple[str, str] | None:
    """``($.a.b[*], rest)`` for a path through an array (the array and the path within an element)."""
    at = json_path.find("[*]")
    if at < 0:
        return None
    return json_path[: at + 3], json_path[at + 3 :]


def _path_records(con: duckdb.DuckDBPyConnection, json_path: str, salvaged: _Salvaged | None) -> None:
    """``__records`` for a path: every element of the path's first array, then the path within it.

    Element by element, so that an element lacking the rest of the path (an NVD entry without
    ``cve``) is a reject instead of vanishing from a flattened list.
    """
    split = _split_path(json_path)
    rest = split[1] if split else ""
    if salvaged is None:
        if split:
            elements = f"json_extract(json, {lit(split[0])})"
        else:
            # A path without a wildcard names one value: an array of records, or a single record.
            value = f"json_extract(json, {lit(json_path)})"
            elements = f"CASE WHEN json_type({value}) = 'ARRAY' THEN json_extract({value}, '$[*]') ELSE [{value}] END"
        con.execute(
            "CREATE OR REPLACE TEMP TABLE __elements AS SELECT __e, __elem, "
            "CAST(NULL AS VARCHAR) AS __reject, CAST(NULL AS VARCHAR) AS __raw FROM ("
            f"SELECT unnest(l) AS __elem, unnest(range(1, len(l) + 1)) AS __e FROM (SELECT {elements} AS l "
            "FROM __document))"
        )
    if not rest:
        within = "[__elem]"
    elif "*" in rest:
        within = f"coalesce(json_extract(__elem, {lit('$' + rest)}), [])"
    else:
        within = f"[json_extract(__elem, {lit('$' + rest)})]"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE __records AS
        SELECT row_number() OVER (ORDER BY __e, __i) AS __ordinal, __json, __reject, __raw FROM (
            SELECT __e, __i, __json, CAST(NULL AS VARCHAR) AS __reject, CAST(NULL AS VARCHAR) AS __raw FROM (
                SELECT __e, unnest(l) AS __json, unnest(range(1, len(l) + 1)) AS __i
                FROM (SELECT __e, {within} AS l FROM __elements WHERE __reject IS NULL)
            )
            UNION ALL
            SELECT __e, 0, CAST(NULL AS JSON), __reject, __raw FROM __elements WHERE __reject IS NOT NULL
        )
        """
    )
    con.execute("DROP TABLE __elements")
    if salvaged is not None:
        _add_document_reject(con, salvaged)


def _query_records(con: duckdb.DuckDBPyConnection, query: JsonQuery, salvaged: _Salvaged | None) -> None:
    """``__records`` from the feed's query; a salvaged document's broken elements are rejected after
    the query's records (their position among the records is not known)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE __records AS {query.sql}")
    names = columns(con, "__records")
    for name, kind in (("__reject", "VARCHAR"), ("__raw", "VARCHAR")):
        if name not in names:
            con.execute(f"ALTER TABLE __records ADD COLUMN {name} {kind}")
    if salvaged is None:
        return
    con.execute(
        "INSERT INTO __records (__ordinal, __reject, __raw) "
        "SELECT (SELECT coalesce(max(__ordinal), 0) FROM __records) + row_number() OVER (ORDER BY __e), "
        "__reject, __raw FROM __elements WHERE __reject IS NOT NULL"
    )
    con.execute("DROP TABLE __elements")
    _add_document_reject(con, salvaged)


def _keep_records(con: duckdb.DuckDBPyConnection, record_limit: int, max_keys: int) -> list[str]:
    """Reject what is not a usable record, and make ``__raw`` of the rest."""
    text = "CAST(__json AS VARCHAR)"
    # json_keys on a huge record costs little next to parsing it; strlen counts bytes.
    reason = (
        "CASE WHEN __reject IS NOT NULL THEN __reject "
        "WHEN json_type(__json) IS DISTINCT FROM 'OBJECT' THEN 'record is not a JSON object' "
        f"WHEN strlen({text}) > {record_limit} THEN "
        f"{lit(f'record is larger than {record_limit:,} bytes (the limit ingest.max_line_bytes); its first ')} "
        f"|| {lit(f'{RAW_CAP:,} bytes are kept')} "
        f"WHEN len(json_keys(__json)) > {max_keys} THEN {lit(f'record has more than {max_keys:,} keys')} END"
    )
    raw = f"coalesce(__raw, CASE WHEN strlen({text}) > {record_limit} THEN left({text}, {RAW_CAP}) ELSE {text} END)"
    con.execute(f"CREATE OR REPLACE TEMP TABLE __checked AS SELECT *, {reason} AS __why FROM __records")
    con.execute(f"INSERT INTO {REJECTS} SELECT __ordinal, __why, {raw} FROM __checked WHERE __why IS NOT NULL")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {RAW} AS SELECT * EXCLUDE (__why, __reject, __raw) FROM __checked "
        "WHERE __why IS NULL"
    )
    con.execute("DROP TABLE __records; DROP TABLE __checked; DROP TABLE IF EXISTS __document")
    return [c for c in columns(con, RAW) if c != "__ordinal"]


@dataclass
class _Salvaged:
    """What :func:`_salvage` learnt about a broken document: the reject that describes it, if any."""

    reason: str | None = None
    raw: str | None = None


def _salvage(
    con: duckdb.DuckDBPyConnection, path: Path, limit: int, json_path: str | JsonQuery, error: str
) -> _Salvaged:
    """Read a document DuckDB could not parse element by element (``__elements``, and for a query a
    repaired ``__document``), or refuse it with where it breaks."""
    data = source.read_capped(path, limit)
    text, bad_utf8 = _decode(data)
    where = _where(text, _duckdb_offset(error, data), bad_utf8, error)
    array = json_path.salvage if isinstance(json_path, JsonQuery) else _array_of(json_path)
    keys = _keys_of(array) if array else None
    scan = _Scanner(text, _MAX_DEPTH).records(keys) if keys is not None else None
    if scan is None:
        raise FileRejected(f"not valid JSON: {where}")
    # Which elements DuckDB reads, and why the others are not JSON (few: one query each).
    spans = scan.elements
    texts, problems = [], []
    for start, end, problem in spans:
        piece = text[start:end]
        bad = _SURROGATE.search(piece)
        if bad is not None:
            byte = piece[bad.start()].encode("utf-8", errors="surrogateescape")[0]
            problem = f"record is not valid UTF-8 (byte 0x{byte:02x} at {_line_col(text, start + bad.start())})"
            piece = _printable(piece)
        texts.append(piece)
        problems.append(problem)
    table = pa.table(
        {
            "__e": pa.array(range(1, len(spans) + 1), pa.int64()),
            "__text": pa.array(texts, pa.string()),
            "__problem": pa.array(problems, pa.string()),
        }
    )
    con.register("__spans", table)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE __elements AS SELECT __e, "
        "CASE WHEN __problem IS NULL AND json_valid(__text) THEN CAST(__text AS JSON) END AS __elem, "
        "CASE WHEN __problem IS NOT NULL THEN __problem "
        "WHEN NOT json_valid(__text) THEN 'record is not valid JSON' END AS __reject, "
        "CASE WHEN __problem IS NOT NULL OR NOT json_valid(__text) THEN left(__text, ?) END AS __raw FROM __spans",
        [RAW_CAP],
    )
    con.unregister("__spans")
    for number, raw in con.execute(
        "SELECT __e, __raw FROM __elements WHERE __reject = 'record is not valid JSON' ORDER BY __e"
    ).fetchall():
        start = spans[number - 1][0]
        reason = f"record is not valid JSON: {_json_problem(con, raw)} (the record starts at {_line_col(text, start)})"
        con.execute("UPDATE __elements SET __reject = ? WHERE __e = ?", [reason, number])
    salvaged = _Salvaged()
    if scan.broken is not None:
        position, why = scan.broken
        salvaged.reason = f"unreadable JSON from {_line_col(text, position)} on: {why}"
        salvaged.raw = _printable(text[position : position + RAW_CAP])
    if isinstance(json_path, JsonQuery):
        _repair(con, text, scan, where)
    elif salvaged.reason is None:
        skeleton = text[: scan.start] + "[]" + text[scan.end :]
        problem = _json_problem(con, skeleton)
        if problem:
            salvaged.reason = f"the document around its records is not valid JSON: {problem}"
            salvaged.raw = _printable(skeleton[:RAW_CAP])
        elif not con.execute("SELECT count(*) FROM __elements WHERE __reject IS NOT NULL").fetchone()[0]:  # type: ignore[index]
            # Every element is valid, yet DuckDB refused the whole: a missing or doubled comma between
            # records, or an element deeper than its reader allows.  Say so once.
            salvaged.reason = f"the document is not valid JSON ({where}); its records were read one by one"
            salvaged.raw = _printable(_window(text, _duckdb_offset(error, data)))
    return salvaged


def _repair(con: duckdb.DuckDBPyConnection, text: str, scan: _Scan, where: str) -> None:
    """``__document`` for a query: the document with only the valid elements in its salvaged array, and
    (when the document breaks inside the array) the brackets it leaves open closed."""
    kept = con.execute(
        "SELECT string_agg(CAST(__elem AS VARCHAR), ',' ORDER BY __e) FROM __elements WHERE __reject IS NULL"
    ).fetchone()[0]  # type: ignore[index]
    body = "[" + (kept or "") + "]"
    tries = []
    if scan.broken is None:
        tries.append(text[: scan.start] + body + text[scan.end :])
    tries.append(text[: scan.start] + body + scan.closers)
    for repaired in tries:
        try:
            con.execute("CREATE OR REPLACE TEMP TABLE __document AS SELECT CAST(? AS JSON) AS json", [repaired])
            return
        except duckdb.Error:
            continue
    raise FileRejected(f"not valid JSON: {where}")


def _add_document_reject(con: duckdb.DuckDBPyConnection, salvaged: _Salvaged) -> None:
    if salvaged.reason is None:
        return
    con.execute(
        "INSERT INTO __records (__ordinal, __reject, __raw) "
        "SELECT (SELECT coalesce(max(__ordinal), 0) FROM __records) + 1, ?, ?",
        [salvaged.reason, salvaged.raw],
    )


def _array_of(json_path: str) -> str | None:
    """The array a path's records are salvaged from: its first ``[*]``, or the root for ``$``."""
    split = _split_path(json_path)
    if split:
        return split[0]
    return "$[*]" if json_path == "$" else None


_KEYS = re.compile(r"\$((?:\.[A-Za-z0-9_-]+)*)\[\*\]")


def _keys_of(array: str) -> list[str] | None:
    """``$.a.b[*]`` → ``["a", "b"]``; None for paths the scanner does not follow (indexes, quoted keys)."""
    found = _KEYS.fullmatch(array)
    return found.group(1).split(".")[1:] if found else None


def _json_problem(con: duckdb.DuckDBPyConnection, text: str) -> str | None:
    """DuckDB's reason why ``text`` is not JSON (None when it is), without its echo of the input."""
    try:
        con.execute("SELECT CAST(? AS JSON)", [text]).fetchall()
    except duckdb.Error as exc:
        message = first_line(exc).split(": ", 1)[-1].removeprefix("Malformed JSON ")
        # "at byte 7 of input: unexpected character.  Input: …" → "unexpected character at byte 7".
        message = message.split("  Input:", 1)[0].strip().rstrip(".")
        found = re.fullmatch(r"at byte (\d+) of input: (.*)", message)
        return f"{found.group(2)} at byte {found.group(1)}" if found else message
    return None


def _decode(data: bytes) -> tuple[str, int | None]:
    """The text of the document, and the byte offset of its first invalid UTF-8.  Invalid bytes stay
    in the text as lone surrogates (``surrogateescape``), which valid UTF-8 never decodes to, so the
    elements that hold one are told apart and rejected on their own."""
    try:
        return data.decode("utf-8").removeprefix("\ufeff"), None
    except UnicodeDecodeError as exc:
        return data.decode("utf-8", errors="surrogateescape").removeprefix("\ufeff"), exc.start


_SURROGATE = re.compile("[\udc80-\udcff]")


def _printable(text: str) -> str:
    """Text with its invalid bytes (lone surrogates) shown as U+FFFD, fit for storing."""
    if _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="replace")


_DUCKDB_OFFSET = re.compile(r"at byte (\d+)")


def _duckdb_offset(error: str, data: bytes) -> int | None:
    """The character offset DuckDB's message names (it counts bytes from 1)."""
    found = _DUCKDB_OFFSET.search(error)
    if not found:
        return None
    byte = max(int(found.group(1)) - 1, 0)
    return len(data[:byte].decode("utf-8", errors="replace").removeprefix("\ufeff"))


def _where(text: str, offset: int | None, bad_utf8: int | None, error: str) -> str:
    """Where and why a document is not JSON, for a person: ``unexpected character at line 3, column 9``."""
    message = error.removeprefix("Invalid Input Error: ")
    why = message.rsplit(": ", 1)[-1].strip().rstrip(".") if "Malformed JSON" in message else message
    if bad_utf8 is not None and offset is None:
        bad = _SURROGATE.search(text)
        return f"not valid UTF-8 at {_line_col(text, bad.start() if bad else len(text))}"
    if offset is None:
        return why
    return f"{why} at {_line_col(text, min(offset, len(text)))}"


def _line_col(text: str, position: int) -> str:
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    return f"line {line}, column {column}"


def _window(text: str, offset: int | None) -> str:
    """A few lines around a position: the raw text of a reject that is not one record."""
    if offset is None:
        return text[:RAW_CAP]
    start = text.rfind("\n", 0, max(text.rfind("\n", 0, offset), 0)) + 1
    end = text.find("\n", text.find("\n", offset) + 1)
    return text[start : end if end > 0 else len(text)][:RAW_CAP]


@dataclass
class _Scan:
    """An array found by :class:`_Scanner`: where it starts and ends, its elements as ``(start, end,
    problem)`` spans, where its structure broke (``(position, why)``, then ``end`` is unknown) and the
    brackets that are open where it starts, closed."""

    start: int
    end: int = -1
    elements: list[tuple[int, int, str | None]] = field(default_factory=list)
    broken: tuple[int, str] | None = None
    closers: str = ""


# Text that holds no bracket: anything but quotes and brackets, or a complete string on one line (JSON
# strings hold no raw newline, so a lone quote cannot swallow the lines after it).
_PLAIN = re.compile(r'(?:[^"\[\]{}]+|"(?:[^"\\\n]|\\.)*")*')
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_SEPARATORS = re.compile(r"[\s,]*")
_SPACE = re.compile(r"\s*")
_SCALAR = re.compile(r"[^,\]}\s]+")
_PAIRS = {"]": "[", "}": "{"}
_CLOSING = {"[": "]", "{": "}"}


class _Scanner:
    """Finds a JSON document's array of records and the text of each element, without parsing them.

    It follows only strings and brackets, so it costs one regular-expression step per bracket, and it
    tolerates what it does not follow: each element's text is checked by DuckDB afterwards.  An
    element whose brackets match is kept apart from its neighbours even when it is not valid JSON
    inside, so one broken record does not take the following ones with it; a bracket that does not
    match, or the end of the text inside an element, is where the structure breaks.
    """

    def __init__(self, text: str, max_depth: int) -> None:
        self.text = text
        self.max_depth = max_depth

    def records(self, keys: list[str]) -> _Scan | None:
        """The array at ``keys`` (``[]``: the document itself), or None when it cannot be found."""
        text = self.text
        pos = _SPACE.match(text, 0).end()  # type: ignore[union-attr]
        opened = ""
        for key in keys:
            if not text.startswith("{", pos):
                return None
            opened += "{"
            found = self._member(pos + 1, key)
            if found is None:
                return None
            pos = found
        if not text.startswith("[", pos):
            return None
        scan = _Scan(start=pos, closers="".join(_CLOSING[c] for c in reversed(opened)))
        self._elements(scan)
        return scan

    def _member(self, pos: int, wanted: str) -> int | None:
        """The position of the value of member ``wanted`` of the object whose ``{`` is before ``pos``."""
        text = self.text
        while True:
            pos = _SEPARATORS.match(text, pos).end()  # type: ignore[union-attr]
            key = _STRING.match(text, pos)
            if key is None:
                return None
            pos = _SPACE.match(text, key.end()).end()  # type: ignore[union-attr]
            if not text.startswith(":", pos):
                return None
            pos = _SPACE.match(text, pos + 1).end()  # type: ignore[union-attr]
            if _key_text(key.group()) == wanted:
                return pos
            end = self._value_end(pos)
            if end is None:
                return None
            pos = end

    def _value_end(self, pos: int) -> int | None:
        text = self.text
        if pos >= len(text):
            return None
        if text[pos] in "[{":
            end, _problem, broken = self._container(pos)
            return None if broken else end
        found = (_STRING if text[pos] == '"' else _SCALAR).match(text, pos)
        return found.end() if found else None

    def _elements(self, scan: _Scan) -> None:
        text = self.text
        pos = scan.start + 1
        while True:
            pos = _SEPARATORS.match(text, pos).end()  # type: ignore[union-attr]
            if pos >= len(text):
                scan.broken = (pos, "the document ends before its records do")
                return
            char = text[pos]
            if char == "]":
                scan.end = pos + 1
                return
            if char in "[{":
                end, problem, broken = self._container(pos)
                if broken:
                    scan.broken = (pos, problem or "")
                    return
                scan.elements.append((pos, end, problem))
                pos = end
            elif char == "}":
                scan.broken = (pos, "a } where a record or the end of the records was expected")
                return
            else:
                found = (_STRING if char == '"' else _SCALAR).match(text, pos)
                if found:
                    end = found.end()
                else:
                    # A quote that does not close on its line: the rest of the line is one bad element.
                    newline = text.find("\n", pos)
                    end = len(text) if newline < 0 else newline
                scan.elements.append((pos, end, None))
                pos = end

    def _container(self, pos: int) -> tuple[int, str | None, bool]:
        """``(end, problem, broken)`` of the array or object at ``pos``: ``problem`` is why the element
        is bad although it ends (too deep), ``broken`` that its end cannot be told."""
        text = self.text
        stack: list[str] = []
        depth = 0
        problem = None
        while True:
            pos = _PLAIN.match(text, pos).end()  # type: ignore[union-attr]
            if pos >= len(text):
                return pos, "the document ends inside this record", True
            char = text[pos]
            if char == '"':
                # A string that does not close on its line: skip that line; DuckDB rejects the element.
                newline = text.find("\n", pos)
                pos = len(text) if newline < 0 else newline
                continue
            if char in "[{":
                depth += 1
                if depth <= self.max_depth:
                    stack.append(char)
                elif problem is None:
                    problem = f"record is nested deeper than {self.max_depth} levels"
            else:
                if depth <= self.max_depth and (not stack or stack[-1] != _PAIRS[char]):
                    return pos, f"a {char} that does not match its opening bracket", True
                if depth <= self.max_depth:
                    stack.pop()
                depth -= 1
                if depth == 0:
                    return pos + 1, problem, False
            pos += 1


def _key_text(token: str) -> str | None:
    try:
        value = json.loads(token)
    except ValueError:
        return None
    return value if isinstance(value, str) else None
