"""A feed downloaded over HTTP(S) (``kind = "http"``), and the download machinery every downloading kind
shares (:func:`fetch_file`).

Each run asks with the validators of the last download (``If-None-Match`` with its ``ETag``,
``If-Modified-Since`` with its ``Last-Modified``): a feed that has not changed answers 304 and nothing
is fetched.  Connection failures, timeouts and answers 429 and 5xx are tried again ``retries`` times,
``retry_seconds`` apart and doubling; a body larger than ``max_mb`` is refused while it streams.  A body
sent with ``Content-Encoding: gzip`` is unpacked on the way; a ``.gz`` or ``.zip`` file as such is
written as it is and unpacked by the ingest.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx

from sitrep.collect.delivery import Delivery, downloaded, safe_name
from sitrep.collect.records import SourceState
from sitrep.config import DownloadSource, HttpSource, Workspace
from sitrep.incidents.db import open_store

_RETRIED = frozenset({429, 500, 502, 503, 504})
# How much of a refused answer's body is kept, for a kind that words the server's own reason.
_REFUSAL_BYTES = 4096


class DownloadError(OSError):
    """The feed could not be fetched (named with its address and why).  ``status`` is the server's
    answer when it refused (401, 404…), with the start of its body."""

    def __init__(self, message: str, status: int | None = None, body: bytes = b"") -> None:
        super().__init__(message)
        self.status = status
        self.body = body


@dataclass(frozen=True)
class Download:
    """A finished download: the file, and the validators to keep once its data is committed."""

    path: Path
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True)
class Fetched:
    """A body written to a file, with the answer's headers."""

    path: Path
    headers: httpx.Headers


def deliveries(workspace: Workspace, source: HttpSource, work: Path, now: datetime) -> Iterator[Delivery]:
    """The feed, when it changed since the last download; its validators are kept once it is ingested
    (a feed that failed is fetched again next time)."""
    download = fetch(workspace, source, work)
    if download is not None:
        yield downloaded(workspace, source.name, download.path, lambda: remember(workspace, source, download))


def fetch(workspace: Workspace, source: HttpSource, folder: Path) -> Download | None:
    """Download ``source.url`` into ``folder``; None when the feed is unchanged since the last download.
    Raises :class:`DownloadError`."""
    with open_store(workspace).read() as session:
        state = session.get(SourceState, source.name)
    headers = {"Accept-Encoding": "gzip"}
    for header, variable in source.headers_env.items():
        value = os.environ.get(variable)
        if value is None:
            raise DownloadError(f"{source.url}: the environment variable {variable} (header {header}) is not set")
        headers[header] = value
    if state is not None and state.etag:
        headers["If-None-Match"] = state.etag
    if state is not None and state.last_modified:
        headers["If-Modified-Since"] = state.last_modified

    def name(answer: httpx.Headers) -> str:
        found = re.search(
            r'filename\*?=(?:UTF-8\'\')?"?([^";]+)"?', answer.get("Content-Disposition", ""), re.IGNORECASE
        )
        given = unquote(found.group(1)) if found else unquote(urlsplit(source.url).path.rstrip("/").rsplit("/", 1)[-1])
        return safe_name(given, f"{source.name}.download")

    fetched = fetch_file(source, source.url, source.url, folder, name, headers=headers)
    if fetched is None:
        return None
    return Download(fetched.path, fetched.headers.get("ETag"), fetched.headers.get("Last-Modified"))


def fetch_file(
    settings: DownloadSource,
    label: str,
    url: str,
    folder: Path,
    name: str | Callable[[httpx.Headers], str],
    *,
    headers: dict[str, str] | None = None,
    method: str = "GET",
    content: bytes | None = None,
) -> Fetched | None:
    """Send one request and write the answer's body into ``folder`` under ``name`` (or
    ``name(headers)``), with the source's timeouts, retries (connection failures, timeouts, answers
    429/5xx) and size cap; None when the server answered 304.  Messages name ``label``, never ``url``
    (it may carry a token).  Raises :class:`DownloadError`."""
    sent = {"User-Agent": "sitrep-collect", **(headers or {})}
    wait = settings.retry_seconds
    for attempt in range(settings.retries + 1):
        try:
            return _request(settings, label, url, folder, name, sent, method, content)
        except _Retry as exc:
            if attempt == settings.retries:
                raise DownloadError(f"{label}: {exc} (tried {settings.retries + 1} times)") from None
        time.sleep(wait)
        wait *= 2
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


class _Retry(Exception):
    """A failure worth trying again (the network, the server's load)."""


def _request(
    settings: DownloadSource,
    label: str,
    url: str,
    folder: Path,
    name: str | Callable[[httpx.Headers], str],
    headers: dict[str, str],
    method: str,
    content: bytes | None,
) -> Fetched | None:
    limit = settings.max_mb * 1024 * 1024
    client = httpx.Client(timeout=settings.timeout_seconds, follow_redirects=True, max_redirects=5)
    try:
        with client, client.stream(method, url, headers=headers, content=content) as response:
            if response.status_code == 304:
                return None
            if response.status_code in _RETRIED:
                raise _Retry(f"the server answered {response.status_code}")
            if response.status_code != 200:
                body = b""
                for chunk in response.iter_bytes(_REFUSAL_BYTES):
                    body += chunk
                    if len(body) >= _REFUSAL_BYTES:
                        break
                status = response.status_code
                raise DownloadError(f"{label}: the server answered {status}", status, body[:_REFUSAL_BYTES])
            declared = response.headers.get("Content-Length")
            if (
                declared
                and declared.isdigit()
                and int(declared) > limit
                and "gzip" not in response.headers.get("Content-Encoding", "")
            ):
                raise DownloadError(f"{label}: {int(declared):,} bytes is over max_mb = {settings.max_mb}")
            target = folder / (name if isinstance(name, str) else name(response.headers))
            written = 0
            with open(target, "wb") as out:
                for chunk in response.iter_bytes(1 << 20):
                    written += len(chunk)
                    if written > limit:
                        out.close()
                        target.unlink(missing_ok=True)
                        raise DownloadError(f"{label}: the body is over max_mb = {settings.max_mb}")
                    out.write(chunk)
            return Fetched(target, response.headers)
    except (httpx.TimeoutException, httpx.TransportError) as exc:
        raise _Retry(f"{type(exc).__name__}: {exc}") from None
    except httpx.HTTPError as exc:
        raise DownloadError(f"{label}: {exc}") from None


def remember(workspace: Workspace, source: HttpSource, download: Download) -> None:
    """Keep the download's validators for the next run (after its data is committed)."""
    with open_store(workspace).write() as session:
        state = session.get(SourceState, source.name) or SourceState(source=source.name)
        state.etag = download.etag
        state.last_modified = download.last_modified
        state.updated_at = datetime.now(UTC)
        session.add(state)
