"""Whole documents: JSON (NVD, PhishTank…) and XML (CNVD), read into one record per row.

A document is read whole, so its decompressed size is capped (``ingest.max_document_bytes``): a small
gzip that inflates to gigabytes is refused with that reason before anything is parsed.  Every record
keeps its raw text (``__json``, ``__xml``), so a rejected record can be fixed and ingested again.
"""

from __future__ import annotations

import io
import zlib
from pathlib import Path
from typing import BinaryIO

import duckdb
import pyarrow as pa
from defusedxml import ElementTree

from sitrep.feeds.base import Xml
from sitrep.feeds.sql import lit
from sitrep.lake.readers import source
from sitrep.lake.readers._tables import RAW, REJECTS, FileRejected, add_rejects, first_line

# The raw text kept of a record that cannot be read (the rest of a broken XML document).
_RAW_CAP = 64 * 1024


def content_size(path: Path, limit: int) -> int:
    """The decompressed size in bytes, counted by streaming; :class:`FileRejected` beyond ``limit``."""
    size = 0
    try:
        with source.open_bytes(path) as handle:
            while chunk := handle.read(1024 * 1024):
                size += len(chunk)
                if size > limit:
                    raise FileRejected(_too_large(limit))
    except (EOFError, OSError, zlib.error) as exc:
        raise FileRejected(f"the compressed stream is truncated or corrupt ({exc})") from None
    return size


def _too_large(limit: int) -> str:
    return f"content is larger than {limit:,} bytes (the limit ingest.max_document_bytes); split the file"


def load_json_records(con: duckdb.DuckDBPyConnection, path: Path, json_path: str, limit: int) -> list[str]:
    """``__raw (__ordinal, __json)``: the records at ``json_path`` (see :class:`~sitrep.feeds.base.JsonRecords`)."""
    size = content_size(path, limit)
    # DuckDB allocates twice the maximum object size up front: size the buffer to the document.
    maximum = max(size + 1, 1024 * 1024)
    compression = lit("gzip" if source.is_gzip(path) else "none")
    document = (
        f"read_json({lit(str(path))}, format='unstructured', records=false, "
        f"maximum_object_size={maximum}, compression={compression})"
    )
    if "*" in json_path:
        records = f"json_extract(json, {lit(json_path)})"
    else:
        # A path without a wildcard names one value: an array of records, or a single record.
        value = f"json_extract(json, {lit(json_path)})"
        records = f"CASE WHEN json_type({value}) = 'ARRAY' THEN json_extract({value}, '$[*]') ELSE [{value}] END"
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE __records AS SELECT unnest({records}) AS __json FROM {document}")
    except duckdb.Error as exc:
        raise FileRejected(f"not a readable JSON document: {first_line(exc)}") from None
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {RAW} AS SELECT row_number() OVER () AS __ordinal, __json FROM __records"
    )
    con.execute(
        f"INSERT INTO {REJECTS} SELECT __ordinal, 'record is not a JSON object', CAST(__json AS VARCHAR) "
        f"FROM {RAW} WHERE json_type(__json) IS DISTINCT FROM 'OBJECT'"
    )
    con.execute(f"DELETE FROM {RAW} WHERE json_type(__json) IS DISTINCT FROM 'OBJECT'")
    con.execute("DROP TABLE __records")
    return ["__json"]


class _Capped(io.RawIOBase):
    """A stream that fails once more than ``limit`` bytes have been read from it."""

    def __init__(self, inner: BinaryIO, limit: int) -> None:
        self.inner, self.limit, self.seen = inner, limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def, override]
        data = self.inner.read(len(buffer))
        self.seen += len(data)
        if self.seen > self.limit:
            raise FileRejected(_too_large(self.limit))
        buffer[: len(data)] = data
        return len(data)


def load_xml(con: duckdb.DuckDBPyConnection, path: Path, reader: Xml, limit: int) -> list[str]:
    """``__raw (__ordinal, <paths>…, __xml)``: one row per ``record`` element, parsed as a stream.

    defusedxml refuses entity-expansion attacks.  A document that breaks off is read up to the break:
    the records before it are kept and the unreadable rest is one reject (with its text, capped).
    """
    columns: dict[str, list[str | None]] = {p: [] for p in reader.paths}
    texts: list[str] = []
    count = 0
    try:
        with source.open_bytes(path) as handle:
            capped = io.BufferedReader(_Capped(handle, limit))
            for _event, element in ElementTree.iterparse(capped, events=("end",)):
                if _local(element.tag) != reader.record:
                    continue
                count += 1
                for p in reader.paths:
                    values = [(e.text or "").strip() for e in _find_all(element, p)]
                    columns[p].append(";".join(v for v in values if v) or None)
                texts.append(ElementTree.tostring(element, encoding="unicode")[:_RAW_CAP])
                element.clear()
    except FileRejected:
        raise
    except Exception as exc:  # ParseError, EntitiesForbidden, decoding errors: the rest is unreadable
        where = getattr(exc, "position", (1, 0))[0]
        reason = f"unreadable XML after record {count}: {first_line(exc)}"
        add_rejects(con, [(count + 1, reason, _text_from(path, where))])
    table = pa.table(
        {
            "__ordinal": pa.array(range(1, count + 1), pa.int64()),
            **{p: pa.array(v, pa.string()) for p, v in columns.items()},
            "__xml": pa.array(texts, pa.string()),
        }
    )
    con.register("__xml_records", table)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {RAW} AS SELECT * FROM __xml_records")
    con.unregister("__xml_records")
    return [*reader.paths, "__xml"]


def _text_from(path: Path, line: int) -> str:
    """The document's text from ``line`` on (at most ``_RAW_CAP`` bytes): the raw of its unreadable end."""
    kept = b""
    try:
        with source.open_bytes(path) as handle:
            for number, data in enumerate(handle, 1):
                if number >= line:
                    kept += data
                if len(kept) >= _RAW_CAP:
                    break
    except (EOFError, OSError, zlib.error):
        pass
    return kept[:_RAW_CAP].decode("utf-8", errors="replace")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find_all(element: object, child_path: str) -> list:
    nodes = [element]
    for part in child_path.split("/"):
        nodes = [child for node in nodes for child in node if _local(child.tag) == part]  # type: ignore[attr-defined]
    return nodes
