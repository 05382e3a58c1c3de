"""The send log: every message the relay accepted, in ``reports/sent/<week>.json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypedDict

from sitrep.config import Workspace
from sitrep.report.distribution.errors import DistributionError
from sitrep.report.errors import OutputError
from sitrep.report.render import write_json_file
from sitrep.weeks import Week

SENT_SCHEMA = "sitrep.sent/1"


class SentRecord(TypedDict):
    """One message the relay accepted, as ``reports/sent/<week>.json`` keeps it."""

    at: str
    by: str
    week: str
    revision: int
    lang: str
    message_id: str
    subject: str
    relay: str
    accepted: list[str]
    refused: dict[str, str]


class AlreadySent(DistributionError):
    """The revision already went to some of the recipients; ``earlier`` are those sends."""

    def __init__(self, message: str, earlier: list[SentRecord]) -> None:
        super().__init__(message)
        self.earlier = earlier


def sent_path(workspace: Workspace, week: Week) -> Path:
    """Where the sends of ``week`` are recorded."""
    return workspace.reports_dir / "sent" / f"{week}.json"


def sent_log(workspace: Workspace, week: Week) -> list[SentRecord]:
    """Every recorded send of ``week``, oldest first; :class:`DistributionError` when the file is damaged."""
    path = sent_path(workspace, week)
    if not path.exists():
        return []
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DistributionError(f"{path}: the send log cannot be read ({exc})") from None
    if not isinstance(document, dict) or document.get("schema") != SENT_SCHEMA:
        raise DistributionError(f"{path}: not a send log (expected schema {SENT_SCHEMA!r})")
    return list(document.get("sends", []))


def record_send(workspace: Workspace, week: Week, record: SentRecord) -> None:
    """Append ``record`` to the send log of ``week`` (the file rewritten atomically)."""
    path = sent_path(workspace, week)
    document: dict[str, Any] = {"schema": SENT_SCHEMA, "week": str(week), "sends": [*sent_log(workspace, week), record]}
    try:
        write_json_file(path, document)
    except OutputError as exc:
        raise DistributionError(f"the message went out but cannot be recorded: {exc}") from None
