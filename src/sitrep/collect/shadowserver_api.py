"""Shadowserver's reports API (``kind = "shadowserver-api"``): list the reports of the last days,
download each one not taken yet, and remember it by its id once ingested.

The API, as Shadowserver documents and uses it:

* every call is an HTTP POST of a JSON object, carrying ``apikey``, to ``<api_url><method>``
  (``https://transform.shadowserver.org/api2/``), with the header ``HMAC2``: the hex HMAC-SHA256 of the
  exact body bytes keyed with the secret (the wiki's "call_api Documentation" and Shadowserver's
  ``call-api.py``, github.com/The-Shadowserver-Foundation/api_utils);
* ``reports/list`` takes ``date``, one day ``YYYY-MM-DD`` or a range ``YYYY-MM-DD:YYYY-MM-DD``, and
  optionally ``reports`` (mailing-list names) and ``type`` (one report type), and answers a JSON list of
  ``{"id", "report", "type", "file", "timestamp"}`` (the wiki's "API: Reports Query"; Shadowserver's
  ``report-manager.py``, which lists the two days before today, and
  ``elasticsearch/shadowserver_ecs_logger.py``, which lists ``<today - 2>:<today>`` and keeps the
  entries whose ``type`` is wanted; IntelMQ's ``collectors/shadowserver/collector_reports_api.py``);
* one query answers at most 10,000 results (the wiki's "call_api Documentation");
* each report is a CSV file fetched with a GET from ``https://dl.shadowserver.org/<id>`` and named by
  the entry's ``file`` (``report-manager.py``; ``shadowserver_ecs_logger.py``'s ``DLROOT``) — the name
  by which Sitrep recognises the report (``feeds/shadowserver.py``);
* a refused call answers a status other than 200 with a JSON ``{"error": "…"}`` (the ``shadowserver-api``
  library's ``api_call``); IntelMQ also looks for ``error`` in an answer.

The report id is a download token: messages name a report by its file, never by its id or address,
and never carry the key or the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from sitrep.collect.delivery import Delivery, Outcome, downloaded, safe_name
from sitrep.collect.http import DownloadError, fetch_file
from sitrep.collect.records import ShadowserverReport
from sitrep.config import ShadowserverApiSource, Workspace
from sitrep.feeds.shadowserver import named_report
from sitrep.incidents.db import open_store

# The most results one query answers; asked for, so that a long list is not cut at a smaller default.
LIST_LIMIT = 10_000
# An id is appended to download_url: it may not reach another path or host.
_REPORT_ID = re.compile(r"^[A-Za-z0-9._~-]{1,200}$")


class ApiError(OSError):
    """The reports API could not be used: a secret missing, a refused call, an answer that is not a
    list of reports, reports that could not be downloaded (the message names which and why)."""


@dataclass(frozen=True)
class Credentials:
    """The API key and secret, and where they were read from (what messages name instead)."""

    key: str
    secret: str
    origin: str

    def hide(self, text: str) -> str:
        """``text`` with the key and the secret blanked out (a server may echo what it was sent)."""
        for value in (self.key, self.secret):
            if len(value) >= 4:
                text = text.replace(value, "[hidden]")
        return text


@dataclass(frozen=True)
class Listed:
    """One report of the list: its id (a download token), its file name made safe, its type, its day."""

    id: str
    file: str
    type: str | None
    day: str


def deliveries(workspace: Workspace, source: ShadowserverApiSource, work: Path, now: datetime) -> Iterator[Delivery]:
    """The reports of the last ``days`` days not taken yet, each downloaded and yielded in turn (oldest
    first); a report is remembered as taken once ingested, and one that failed is fetched again on the
    next runs until it has failed ``max_attempts`` times.  Reports that could not be downloaded are the
    source's error once the others were delivered."""
    credentials = read_credentials(workspace, source)
    listed, cut = list_reports(source, credentials, work, now.astimezone(UTC).date())
    with open_store(workspace).read() as session:
        rows = session.scalars(select(ShadowserverReport).where(ShadowserverReport.source == source.name))
        known = {row.report_id: (row.status, row.attempts) for row in rows}
    # A full list may have been cut: what it holds is taken, and the run says some may be missing.
    problems = (
        [f"reports/list answered {LIST_LIMIT:,} reports, the most one query gives: list fewer days"] if cut else []
    )
    for number, report in enumerate(listed):
        status, attempts = known.get(report.id, (None, 0))
        if status == "ingested" or attempts >= source.max_attempts:
            continue
        folder = work / f"report-{number}"
        folder.mkdir()
        url = source.download_url.rstrip("/") + "/" + report.id
        try:
            fetched = fetch_file(source, report.file, url, folder, report.file)
        except DownloadError as exc:
            problems.append(credentials.hide(str(exc)).replace(report.id, "[id]"))
            continue
        if fetched is None:  # no validators were sent: a 304 is a server's mistake
            problems.append(f"{report.file}: the server answered 304")
            continue
        yield _delivery(workspace, source, report, fetched.path, attempts)
    if problems:
        raise ApiError("; ".join(problems))


def read_credentials(workspace: Workspace, source: ShadowserverApiSource) -> Credentials:
    """The API key and secret, from their files (inside the workspace when relative) or else from their
    environment variables; :class:`ApiError` naming the file or variable when one is missing."""
    key, key_origin = _secret(workspace.root, "apikey", source.apikey_file, source.apikey_env)
    secret, secret_origin = _secret(workspace.root, "secret", source.secret_file, source.secret_env)
    return Credentials(key, secret, f"{key_origin} and {secret_origin}")


def _secret(root: Path, what: str, file: str, variable: str) -> tuple[str, str]:
    if file:
        path = root / Path(file).expanduser()
        try:
            value = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
            raise ApiError(f"{what}_file {path}: cannot be read ({why})") from None
        if not value:
            raise ApiError(f"{what}_file {path} is empty")
        return value, f"{what}_file {path}"
    value = os.environ.get(variable, "").strip()
    if not value:
        raise ApiError(
            f"the environment variable {variable} ({what}_env) is not set: set it, or name a file with {what}_file"
        )
    return value, f"{what}_env {variable}"


def list_reports(
    source: ShadowserverApiSource, credentials: Credentials, work: Path, today: date
) -> tuple[list[Listed], bool]:
    """The reports ``reports/list`` gives for ``today`` and the ``days`` before it (UTC), those of
    ``types`` only when it is set, each once, oldest first; and whether the list was cut at
    :data:`LIST_LIMIT`.  Raises :class:`ApiError`."""
    first = today - timedelta(days=source.days)
    request: dict[str, Any] = {
        "apikey": credentials.key,
        "date": f"{first.isoformat()}:{today.isoformat()}" if source.days else today.isoformat(),
        "limit": LIST_LIMIT,
    }
    if source.reports:
        request["reports"] = source.reports
    if len(source.types) == 1:  # the API filters by one type; several are kept below
        request["type"] = source.types[0]
    body = json.dumps(request).encode("utf-8")
    signature = hmac.new(credentials.secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    headers = {"HMAC2": signature, "Content-Type": "application/json", "Accept": "application/json"}
    url = label = source.api_url.rstrip("/") + "/reports/list"
    try:
        fetched = fetch_file(
            source, label, url, work, "reports-list.json", headers=headers, method="POST", content=body
        )
    except DownloadError as exc:
        raise ApiError(_refusal(exc, label, credentials)) from None
    if fetched is None:
        raise ApiError(f"{label}: the server answered 304")
    raw = fetched.path.read_bytes()
    fetched.path.unlink()
    entries = _entries(raw, label, credentials)
    wanted = set(source.types)
    listed: dict[str, Listed] = {}
    for entry in entries:
        if not wanted or (entry.type or named_report(entry.file)) in wanted:
            listed.setdefault(entry.id, entry)
    return sorted(listed.values(), key=lambda r: (r.day, r.file)), len(entries) >= LIST_LIMIT


def _refusal(exc: DownloadError, label: str, credentials: Credentials) -> str:
    """A refused or failed call in words: the server's own reason when it gave one, and where the key
    and secret came from when it refused them."""
    if exc.status is None:
        return credentials.hide(str(exc))
    reason = ""
    try:
        answer = json.loads(exc.body)
        if isinstance(answer, dict) and isinstance(answer.get("error"), str):
            reason = answer["error"]
    except ValueError:
        reason = exc.body.decode("utf-8", "replace")
    reason = " ".join(credentials.hide(reason).split())[:200]
    said = f"{label}: Shadowserver refused the request ({exc.status}{': ' + reason if reason else ''})"
    if exc.status in (401, 403):
        said += f"; check the API key and secret ({credentials.origin})"
    return said


def _entries(raw: bytes, label: str, credentials: Credentials) -> list[Listed]:
    try:
        answer = json.loads(raw)
    except ValueError:
        start = " ".join(credentials.hide(raw[:60].decode("utf-8", "replace")).split())
        raise ApiError(f"{label}: the answer is not JSON (it starts {start!r})") from None
    if isinstance(answer, dict) and "error" in answer:
        reason = " ".join(credentials.hide(str(answer["error"])).split())[:200]
        raise ApiError(f"{label}: Shadowserver answered an error: {reason}")
    if not isinstance(answer, list):
        raise ApiError(f"{label}: the answer is not a list of reports (a JSON {type(answer).__name__})")
    entries = []
    for number, entry in enumerate(answer, 1):
        if not isinstance(entry, dict):
            raise ApiError(f"{label}: entry {number} of the list is not an object")
        report_id, file = entry.get("id"), entry.get("file")
        named = f" ({safe_name(file, '')})" if isinstance(file, str) and safe_name(file, "") else ""
        if not isinstance(report_id, str) or not report_id:
            raise ApiError(f"{label}: entry {number} of the list{named} has no id")
        if not _REPORT_ID.match(report_id) or not report_id.strip("."):
            raise ApiError(f"{label}: entry {number} of the list{named} has an id that is not a report id")
        if not isinstance(file, str) or not safe_name(file, ""):
            raise ApiError(f"{label}: entry {number} of the list has no file name")
        kind, day = entry.get("type"), entry.get("timestamp")
        entries.append(
            Listed(
                report_id,
                safe_name(file, ""),
                kind.lower() if isinstance(kind, str) and kind else None,
                str(day)[:10] if day is not None else "",
            )
        )
    return entries


def _delivery(
    workspace: Workspace, source: ShadowserverApiSource, report: Listed, path: Path, attempts: int
) -> Delivery:
    """The downloaded report: kept in the source's failed folder when it cannot be ingested (its reason
    says whether it will be tried again), and its outcome recorded by its id."""
    kept = downloaded(workspace, source.name, path)

    def finish(outcome: Outcome, reason: str | None) -> str | None:
        tried = attempts + (outcome == "failed")
        if outcome == "failed":
            again = "tried again on the next run" if tried < source.max_attempts else "not tried again"
            reason = f"{reason} (attempt {tried} of {source.max_attempts}: {again})"
        where = kept.finish(outcome, reason)
        _record(workspace, source, report, "ingested" if outcome == "done" else "failed", tried)
        return where

    return Delivery(path, finish)


def _record(workspace: Workspace, source: ShadowserverApiSource, report: Listed, status: str, attempts: int) -> None:
    with open_store(workspace).write() as session:
        row = session.get(ShadowserverReport, (source.name, report.id))
        if row is None:
            row = ShadowserverReport(source=source.name, report_id=report.id)
        row.file = report.file
        row.status = status
        row.attempts = attempts
        row.updated_at = datetime.now(UTC)
        session.add(row)
