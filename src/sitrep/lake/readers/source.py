"""Opening a feed file: compression and text encoding are told from its first bytes, never its name.

A ``.csv`` that is really gzip is read as gzip, a ``.gz`` that is plain text as text; UTF-16 files (with
a byte-order mark) are copied to UTF-8 once so that every reader sees UTF-8.  Reading stops at a size
limit, so a small gzip that inflates to gigabytes is refused instead of filling memory or disk.
"""

from __future__ import annotations

import codecs
import gzip
import io
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sitrep.feeds.base import Sample
from sitrep.lake.readers._tables import FileRejected

SAMPLE_BYTES = 64 * 1024
GZIP_MAGIC = b"\x1f\x8b"
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class SourceError(Exception):
    """The file's bytes cannot be read at all (a truncated or corrupt compressed stream)."""


@dataclass(frozen=True)
class Limits:
    """Size limits of one ingest (``[ingest]`` in ``sitrep.toml``)."""

    max_line_bytes: int = 1024 * 1024
    max_document_bytes: int = 256 * 1024 * 1024
    max_json_keys: int = 1000


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(2) == GZIP_MAGIC


def open_bytes(path: Path) -> BinaryIO:
    """The file's content as a binary stream, decompressed when it is gzip."""
    if is_gzip(path):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def head(path: Path, size: int = SAMPLE_BYTES) -> bytes:
    """Up to ``size`` bytes of the file's content; a truncated gzip gives what it holds before the cut."""
    with open(path, "rb") as handle:
        raw = handle.read(size)
        if not raw.startswith(GZIP_MAGIC):
            return raw
        inflate = zlib.decompressobj(wbits=31)
        out = b""
        try:
            while raw and len(out) < size:
                out += inflate.decompress(raw, size - len(out))
                raw = inflate.unconsumed_tail or handle.read(size)
        except zlib.error:
            pass
        return out[:size]


def decode(data: bytes) -> str:
    """Text of a file's first bytes for recognising it: UTF-8 (BOM dropped) or UTF-16 with a BOM."""
    if data.startswith(_UTF16_BOMS):
        return data.decode("utf-16", errors="replace")
    return data.decode("utf-8", errors="replace").lstrip("\ufeff")


def sample_of(path: Path, display_name: str | None = None) -> Sample:
    """The decoded beginning of a file, for format recognition."""
    return Sample(display_name or path.name, decode(head(path)))


def is_utf16(path: Path) -> bool:
    return head(path, 2).startswith(_UTF16_BOMS)


def utf8_copy(path: Path, target: Path) -> Path:
    """Copy a UTF-16 file (decompressed) to ``target`` as UTF-8 and return ``target``."""
    try:
        with open_bytes(path) as raw, open(target, "wb") as out:
            text = io.TextIOWrapper(raw, encoding="utf-16", errors="replace", newline="")
            while chunk := text.read(1024 * 1024):
                out.write(chunk.encode("utf-8"))
    except (EOFError, OSError, zlib.error) as exc:
        raise SourceError(f"the compressed stream is truncated or corrupt ({exc})") from None
    return target


def read_capped(path: Path, limit: int) -> bytes:
    """The whole (decompressed) content, refused when it is larger than ``limit`` bytes."""
    try:
        with open_bytes(path) as handle:
            data = handle.read(limit + 1)
    except (EOFError, OSError, zlib.error) as exc:
        raise SourceError(f"the compressed stream is truncated or corrupt ({exc})") from None
    if len(data) > limit:
        raise SourceError(f"content is larger than {limit:,} bytes (limit ingest.max_document_bytes); split the file")
    return data


def content_size(path: Path, limit: int) -> int:
    """The decompressed size in bytes, counted by streaming; :class:`FileRejected` beyond ``limit``."""
    size = 0
    try:
        with open_bytes(path) as handle:
            while chunk := handle.read(1024 * 1024):
                size += len(chunk)
                if size > limit:
                    raise FileRejected(too_large(limit))
    except (EOFError, OSError, zlib.error) as exc:
        raise FileRejected(f"the compressed stream is truncated or corrupt ({exc})") from None
    return size


def too_large(limit: int) -> str:
    """Why a document over the size limit is refused."""
    return f"content is larger than {limit:,} bytes (the limit ingest.max_document_bytes); split the file"
