"""Twenty analysts add incidents at the same moment: real ``sitrep incidents add`` processes of the
installed CLI, on SQLite and on PostgreSQL.  Every one lands, each with its own ref."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from sitrep.incidents.db import open_store
from sitrep.incidents.models import AuditEntry, Incident

from .conftest import make_workspace

SITREP = Path(sys.executable).with_name("sitrep")
WRITERS = 20


def test_twenty_concurrent_adds_all_land_with_distinct_refs(tmp_path, backend):
    ws = make_workspace(tmp_path / "ws", backend or None, incidents={"ref_prefix": "RACE"})
    env = {**os.environ, "SITREP_USER": "analyst", "NO_COLOR": "1"}
    command = [str(SITREP), "--home", str(ws.root), "incidents", "add", "-c", "phishing", "--json"]
    # All started before any is waited for: they open the store, migrate-check and write at once.
    writers = [
        subprocess.Popen(
            [*command, "--title", f"仿冒页面 {n}", "--asset", f"http://bank-{n}.example.cn/login"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(WRITERS)
    ]
    results = [(w.wait(timeout=120), *w.communicate()) for w in writers]
    failures = [f"exit {code}: {err or out}" for code, out, err in results if code != 0]
    assert failures == []
    assert all("Traceback" not in err for _, _, err in results)
    refs = [json.loads(out)["ref"] for _, out, _ in results]
    assert len(refs) == WRITERS and len(set(refs)) == WRITERS
    assert all(re.fullmatch(r"RACE-\d{8}-\d{4}", ref) for ref in refs)
    # The counter handed out 1 … 20 of the day, no gaps and no repeats.
    assert sorted(int(ref.rsplit("-", 1)[1]) for ref in refs) == list(range(1, WRITERS + 1))
    with open_store(ws).read() as session:
        stored = set(session.scalars(select(Incident.ref)))
        created = session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.field == "created"))
    assert stored == set(refs) and created == WRITERS
    if not backend:
        with open_store(ws).read() as session:
            assert session.connection().exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_a_writer_that_waits_too_long_says_the_database_stayed_busy(tmp_path):
    ws = make_workspace(tmp_path / "ws", incidents={"busy_timeout_seconds": 0.5})
    holder = sqlite3.connect(ws.root / "sitrep.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock and does not let go
    try:
        result = subprocess.run(
            [str(SITREP), "--home", str(ws.root), "incidents", "add", "--title", "t", "-c", "phishing"],
            env={**os.environ, "SITREP_USER": "analyst"},
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.returncode == 2
    assert "stayed busy" in result.stderr and "database is locked" in result.stderr
    assert "longer than [incidents] busy_timeout_seconds; try again" in result.stderr
    assert "Traceback" not in result.stderr
