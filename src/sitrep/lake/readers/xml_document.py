"""XML documents (CNVD), parsed as a stream into one record per row.

defusedxml refuses entity-expansion attacks, and the decompressed size is capped
(``ingest.max_document_bytes``) while the document is read.  Every record keeps its raw text
(``__xml``); a document that breaks off keeps the records before the break, and the unreadable rest,
from the end of the last good record, is one reject.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as StdTree
import zlib
from pathlib import Path
from typing import Any, BinaryIO

import duckdb
import pyarrow as pa
from defusedxml.ElementTree import DefusedXMLParser

from sitrep.feeds.base import Xml
from sitrep.lake.readers import source
from sitrep.lake.readers._tables import RAW, RAW_CAP, FileRejected, add_rejects, first_line


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
            raise FileRejected(source.too_large(self.limit))
        buffer[: len(data)] = data
        return len(data)


class _Records(StdTree.TreeBuilder):
    """A tree builder that hands each ``record`` element over when it ends, with the byte offset of
    its end tag (expat's position during the callback), and drops it."""

    def __init__(self, reader: Xml) -> None:
        super().__init__()
        self.reader = reader
        self.parser: Any = None
        self.columns: dict[str, list[str | None]] = {p: [] for p in reader.paths}
        self.texts: list[str] = []
        # Byte offset of the end tag of the last complete record (0: none yet).
        self.last_end = 0

    def end(self, tag: str) -> Any:
        element = super().end(tag)
        if _local(tag) == self.reader.record:
            for p in self.reader.paths:
                values = [(e.text or "").strip() for e in _find_all(element, p)]
                self.columns[p].append(";".join(v for v in values if v) or None)
            self.texts.append(StdTree.tostring(element, encoding="unicode")[:RAW_CAP])
            self.last_end = self.parser.CurrentByteIndex if self.parser is not None else 0
            element.clear()
        return element


def load_xml(con: duckdb.DuckDBPyConnection, path: Path, reader: Xml, limit: int) -> list[str]:
    """``__raw (__ordinal, <paths>…, __xml)``: one row per ``record`` element, parsed as a stream.

    defusedxml refuses entity-expansion attacks.  A document that breaks off is read up to the break:
    the records before it are kept and the unreadable rest, from the end of the last good record, is
    one reject (with its text, capped).
    """
    records = _Records(reader)
    parser = DefusedXMLParser(target=records)
    records.parser = parser.parser
    try:
        with source.open_bytes(path) as handle:
            capped = io.BufferedReader(_Capped(handle, limit))
            while chunk := capped.read(1024 * 1024):
                parser.feed(chunk)
            parser.close()
    except FileRejected:
        raise
    except Exception as exc:  # ParseError, EntitiesForbidden, decoding errors: the rest is unreadable
        count = len(records.texts)
        # expat's message names the line and column where the document breaks.
        reason = f"unreadable XML after record {count}: {first_line(exc)}"
        add_rejects(con, [(count + 1, reason, _text_after(path, records.last_end))])
    count = len(records.texts)
    table = pa.table(
        {
            "__ordinal": pa.array(range(1, count + 1), pa.int64()),
            **{p: pa.array(v, pa.string()) for p, v in records.columns.items()},
            "__xml": pa.array(records.texts, pa.string()),
        }
    )
    con.register("__xml_records", table)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {RAW} AS SELECT * FROM __xml_records")
    con.unregister("__xml_records")
    return [*reader.paths, "__xml"]


def _text_after(path: Path, offset: int) -> str:
    """The document's text after the end tag at byte ``offset`` (at most ``RAW_CAP`` bytes): the raw
    text of its unreadable rest."""
    data = b""
    try:
        with source.open_bytes(path) as handle:
            skipped = 0
            while skipped < offset and (chunk := handle.read(min(1024 * 1024, offset - skipped))):
                skipped += len(chunk)
            data = handle.read(RAW_CAP + 1024)
    except (EOFError, OSError, zlib.error):
        pass
    if offset:
        # Skip the rest of the end tag itself.
        close = data.find(b">")
        data = data[close + 1 :] if close >= 0 else data
    return data[:RAW_CAP].decode("utf-8", errors="replace").lstrip("\r\n")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find_all(element: object, child_path: str) -> list:
    nodes = [element]
    for part in child_path.split("/"):
        nodes = [child for node in nodes for child in node if _local(child.tag) == part]  # type: ignore[attr-defined]
    return nodes
