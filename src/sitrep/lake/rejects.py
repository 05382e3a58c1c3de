"""Rejected rows: every row a feed file could not turn into an event, with file, line and reason."""

from __future__ import annotations

from typing import Any

from sitrep.config import Workspace
from sitrep.lake.store import Lake, connect, rejects_source


def list_rejects(workspace: Workspace, *, file: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Rejected rows, newest ingest first, optionally only those of files whose name contains ``file``."""
    lake = Lake.of(workspace)
    con = connect(workspace)
    try:
        where = "WHERE contains(file, ?)" if file else ""
        params: list[Any] = [file] if file else []
        sql = (
            f"SELECT ingest_id, file, format, line, reason, raw FROM {rejects_source(lake)} {where} "
            "ORDER BY ingest_id DESC, line"
        )
        if limit:
            sql += f" LIMIT {int(limit)}"
        cursor = con.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()
