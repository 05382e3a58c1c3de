"""Reading hostile CSV/JSON input record by record, and reporting what was rejected and why.

A record carries its line (CSV: the physical line where the record starts; JSON: the 1-based position
of the object in the array or the line of a JSON-lines file), so every reject names where to look.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict


class InputError(ValueError):
    """The file as a whole cannot be read (unknown format, not UTF-8, not a JSON array…)."""


class UnknownFormat(InputError):
    """The format was not given and the file's suffix does not tell it."""


@dataclass(frozen=True)
class Reject:
    """A record that was not imported: where it was and why."""

    line: int
    reason: str


@dataclass
class ImportReport:
    """What an import did; ``read == created + updated + unchanged + rejected``."""

    file: str
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejects: list[Reject] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len(self.rejects)

    def as_dict(self) -> ImportSummary:
        return {
            "file": self.file,
            "read": self.read,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "rejects": [{"line": r.line, "reason": r.reason} for r in self.rejects],
        }


class RejectRow(TypedDict):
    line: int
    reason: str


class ImportSummary(TypedDict):
    """:class:`ImportReport` as JSON."""

    file: str
    read: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    rejects: list[RejectRow]


def detect_format(path: Path, given: str | None = None) -> str:
    """``csv`` or ``json``: as given, else from the suffix (``.jsonl``/``.ndjson`` are JSON lines)."""
    fmt = (given or path.suffix.lstrip(".")).lower()
    if fmt in ("jsonl", "ndjson"):
        return "json"
    if fmt not in ("csv", "json"):
        raise UnknownFormat(f"{path}: cannot tell the format from {path.suffix!r} (csv, json, jsonl or ndjson)")
    return fmt


def _csv_records(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.reader(text.splitlines(keepends=True))
    try:
        header = next(reader)
    except StopIteration:
        return
    names = [h.strip().lower() for h in header]
    start = reader.line_num + 1
    for row in reader:
        line, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(names):
            yield line, {"__error__": f"{len(row)} fields but the header has {len(names)}"}
            continue
        yield line, dict(zip(names, row, strict=False))


def _as_record(item: Any) -> dict[str, Any]:
    if isinstance(item, dict):
        return {str(k).strip().lower(): v for k, v in item.items()}
    return {"__error__": f"record is a {type(item).__name__}, not an object"}


def _json_records(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if text.lstrip().startswith("["):
            raise InputError(f"not valid JSON: {exc}") from None
        data = None
    if data is None:
        # JSON lines: one object per line; a broken line is one reject, not a failed file.
        for number, raw in enumerate(text.splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                yield number, _as_record(json.loads(raw))
            except json.JSONDecodeError as exc:
                yield number, {"__error__": f"not valid JSON: {exc.msg}"}
        return
    if isinstance(data, dict) and len(data) == 1 and isinstance(next(iter(data.values())), list):
        data = next(iter(data.values()))  # ``{"incidents": [...]}``
    if not isinstance(data, list):
        data = [data]
    for number, item in enumerate(data, start=1):
        yield number, _as_record(item)


def read_records(path: Path, fmt: str | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line, record)`` from a CSV (header row) or JSON (array or JSON lines) file.

    A record that cannot be parsed at all comes back as ``{"__error__": reason}`` so that the caller
    reports it and carries on.
    """
    kind = detect_format(path, fmt)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror}") from None
    yield from (_csv_records(text) if kind == "csv" else _json_records(text))


def split_list(value: Any) -> list[str]:
    """A ``;``-separated cell (or a JSON list) as a list of trimmed, non-empty strings."""
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in str(value).split(";") if part.strip()]


def cell(record: dict[str, Any], name: str) -> str:
    """A record's value as trimmed text ('' when missing or null)."""
    value = record.get(name)
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value).strip()
