"""A feed downloaded over HTTP(S) (``kind = "http"``).

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
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx

from sitrep.collect.delivery import Delivery, downloaded, safe_name
from sitrep.collect.records import SourceState
from sitrep.config import HttpSource, Workspace
from sitrep.incidents.db import open_store

_RETRIED = frozenset({429, 500, 502, 503, 504})


class DownloadError(OSError):
    """The feed could not be fetched (named with its address and why)."""


@dataclass(frozen=True)
class Download:
    """A finished download: the file, and the validators to keep once its data is committed."""

    path: Path
    etag: str | None
    last_modified: str | None


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
    headers = {"User-Agent": "sitrep-collect", "Accept-Encoding": "gzip"}
    for header, variable in source.headers_env.items():
        value = os.environ.get(variable)
        if value is None:
            raise DownloadError(f"{source.url}: the environment variable {variable} (header {header}) is not set")
        headers[header] = value
    if state is not None and state.etag:
        headers["If-None-Match"] = state.etag
    if state is not None and state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    wait = source.retry_seconds
    for attempt in range(source.retries + 1):
        try:
            return _get(source, headers, folder)
        except _Retry as exc:
            if attempt == source.retries:
                raise DownloadError(f"{source.url}: {exc} (tried {source.retries + 1} times)") from None
        time.sleep(wait)
        wait *= 2
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


class _Retry(Exception):
    """A failure worth trying again (the network, the server's load)."""


def _get(source: HttpSource, headers: dict[str, str], folder: Path) -> Download | None:
    limit = source.max_mb * 1024 * 1024
    client = httpx.Client(timeout=source.timeout_seconds, follow_redirects=True, max_redirects=5)
    try:
        with client, client.stream("GET", source.url, headers=headers) as response:
            if response.status_code == 304:
                return None
            if response.status_code in _RETRIED:
                raise _Retry(f"the server answered {response.status_code}")
            if response.status_code != 200:
                raise DownloadError(f"{source.url}: the server answered {response.status_code}")
            declared = response.headers.get("Content-Length")
            if (
                declared
                and declared.isdigit()
                and int(declared) > limit
                and "gzip" not in response.headers.get("Content-Encoding", "")
            ):
                raise DownloadError(f"{source.url}: {int(declared):,} bytes is over max_mb = {source.max_mb}")
            target = folder / _file_name(source, response.headers.get("Content-Disposition", ""))
            written = 0
            with open(target, "wb") as out:
                for chunk in response.iter_bytes(1 << 20):
                    written += len(chunk)
                    if written > limit:
                        out.close()
                        target.unlink(missing_ok=True)
                        raise DownloadError(f"{source.url}: the feed is over max_mb = {source.max_mb}")
                    out.write(chunk)
            return Download(target, response.headers.get("ETag"), response.headers.get("Last-Modified"))
    except (httpx.TimeoutException, httpx.TransportError) as exc:
        raise _Retry(f"{type(exc).__name__}: {exc}") from None
    except httpx.HTTPError as exc:
        raise DownloadError(f"{source.url}: {exc}") from None


def _file_name(source: HttpSource, disposition: str) -> str:
    """The file's name: the server's (``Content-Disposition``), else the address's last part, made safe
    (it names the file in the work folder and in the records), else the source's."""
    found = re.search(r'filename\*?=(?:UTF-8\'\')?"?([^";]+)"?', disposition, re.IGNORECASE)
    name = unquote(found.group(1)) if found else unquote(urlsplit(source.url).path.rstrip("/").rsplit("/", 1)[-1])
    return safe_name(name, f"{source.name}.download")


def remember(workspace: Workspace, source: HttpSource, download: Download) -> None:
    """Keep the download's validators for the next run (after its data is committed)."""
    with open_store(workspace).write() as session:
        state = session.get(SourceState, source.name) or SourceState(source=source.name)
        state.etag = download.etag
        state.last_modified = download.last_modified
        state.updated_at = datetime.now(UTC)
        session.add(state)
