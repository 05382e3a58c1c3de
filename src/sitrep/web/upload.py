"""Receiving an uploaded file as a stream: the multipart body is parsed as it arrives and the file
part written straight to its folder, never held in memory or spooled elsewhere first.

What it guarantees, in order: the body is a multipart form; the CSRF token (form field before the
file, or the header) is checked before a byte of the file is kept; the file stays within
``max_bytes`` (a body declared larger is refused before it is read, a longer stream as soon as it
passes the limit); the name it was sent under is kept only as text.  A refused upload leaves nothing
behind, and the rest of its body is read and dropped so the browser gets the page that says why.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from fastapi import Request
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from sitrep.jobs.uploads import stored_name
from sitrep.web.auth import check_csrf
from sitrep.web.security import CSRF_FIELD, CSRF_HEADER

MAX_FIELDS = 16
MAX_FIELD_BYTES = 8192
# What a form adds around the file (boundaries, part headers, the other fields).
FORM_OVERHEAD = MAX_FIELDS * MAX_FIELD_BYTES
# How much of a refused body is read and dropped so that the browser reads the answer.
DRAIN_LIMIT = 1 << 30


class UploadRefused(Exception):
    """The upload was not taken: the HTTP status, the message key and its values (web/i18n.py)."""

    def __init__(self, status: int, key: str, **values: object) -> None:
        super().__init__(key)
        self.status = status
        self.key = key
        self.values = values


@dataclass(frozen=True)
class Upload:
    """A received file: the form's other fields, the name it was sent under (hostile: shown as text
    only), where it was stored and its size."""

    fields: dict[str, str]
    name: str
    path: Path
    size: int


class _Receiver:
    """The parser's callbacks: collect the text fields, write the one file part."""

    def __init__(self, request: Request, folder: Path, file_field: str, max_bytes: int) -> None:
        self.request = request
        self.folder = folder
        self.file_field = file_field
        self.max_bytes = max_bytes
        self.fields: dict[str, str] = {}
        self.name: str | None = None
        self.path: Path | None = None
        self.size = 0
        self._header = b""
        self._value = b""
        self._disposition = b""
        self._part: str | None = None
        self._data = bytearray()
        self._file: IO[bytes] | None = None

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self.part_begin,
            "on_part_data": self.part_data,
            "on_part_end": self.part_end,
            "on_header_field": self.header_field,
            "on_header_value": self.header_value,
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
        }

    def part_begin(self) -> None:
        self._disposition, self._part, self._data = b"", None, bytearray()

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self._header += data[start:end]

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def header_end(self) -> None:
        if self._header.lower() == b"content-disposition":
            self._disposition = self._value
        self._header, self._value = b"", b""

    def headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        name = options.get(b"name")
        if name is None:
            raise UploadRefused(400, "upload_bad_form", reason="a part without a name")
        self._part = name.decode("utf-8", "replace")
        if b"filename" not in options:
            if len(self.fields) >= MAX_FIELDS:
                raise UploadRefused(400, "upload_bad_form", reason="too many fields")
            return
        if self._part != self.file_field or self.path is not None:
            raise UploadRefused(400, "upload_bad_form", reason=f"an unexpected file in field {self._part!r}")
        # Nothing of the file is kept before the form has shown it comes from this site.
        check_csrf(self.request, self.request.headers.get(CSRF_HEADER) or self.fields.get(CSRF_FIELD))
        self.name = options[b"filename"].decode("utf-8", "replace")
        self.path = self.folder / stored_name(self.name)
        self._file = open(self.path, "xb")  # noqa: SIM115 (closed at the part's end, or by discard)

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if self._file is not None:
            self.size += end - start
            if self.size > self.max_bytes:
                raise UploadRefused(413, "upload_too_large", limit=self.max_bytes // (1 << 20))
            self._file.write(data[start:end])
            return
        if len(self._data) + end - start > MAX_FIELD_BYTES:
            raise UploadRefused(400, "upload_bad_form", reason=f"field {self._part!r} is too long")
        self._data += data[start:end]

    def part_end(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        elif self._part is not None:
            self.fields[self._part] = self._data.decode("utf-8", "replace")

    def discard(self) -> None:
        if self._file is not None:
            self._file.close()
        if self.path is not None:
            self.path.unlink(missing_ok=True)


async def _drain(chunks: AsyncIterator[bytes]) -> None:
    """Read and drop what is left of a refused body (up to :data:`DRAIN_LIMIT`)."""
    read = 0
    try:
        async for chunk in chunks:
            read += len(chunk)
            if read > DRAIN_LIMIT:
                return
    except Exception:  # the client went away: there is nobody to answer
        return


async def receive_upload(request: Request, folder: Path, *, file_field: str, max_bytes: int) -> Upload:
    """Receive the multipart form of ``request`` with one file in ``file_field``, stored in ``folder``
    under :func:`~sitrep.jobs.uploads.stored_name` of the name it was sent under.

    Raises :class:`UploadRefused` (nothing kept) or :class:`~sitrep.web.auth.CsrfFailed`.
    """
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    chunks = request.stream()
    receiver = _Receiver(request, folder, file_field, max_bytes)
    try:
        if kind != b"multipart/form-data" or b"boundary" not in options:
            raise UploadRefused(400, "upload_not_multipart")
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes + FORM_OVERHEAD:
            raise UploadRefused(413, "upload_too_large", limit=max_bytes // (1 << 20))
        parser = MultipartParser(options[b"boundary"], receiver.callbacks())  # type: ignore[arg-type]
        async for chunk in chunks:
            parser.write(chunk)
        parser.finalize()
        if receiver.path is None:
            check_csrf(request, request.headers.get(CSRF_HEADER) or receiver.fields.get(CSRF_FIELD))
            raise UploadRefused(400, "upload_no_file")
        if receiver.size == 0:
            raise UploadRefused(400, "upload_empty")
    except FormParserError as exc:
        receiver.discard()
        await _drain(chunks)
        raise UploadRefused(400, "upload_bad_form", reason=str(exc)) from None
    except BaseException:
        receiver.discard()
        await _drain(chunks)
        raise
    return Upload(receiver.fields, receiver.name or "", receiver.path, receiver.size)
