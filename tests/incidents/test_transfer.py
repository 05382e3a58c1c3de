"""``sitrep database copy``: a workspace's database moved from its SQLite file to a real PostgreSQL
server, row for row — incidents with their audit trail, the partner directory, accounts and tokens —
and a target that already holds data refused."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from sitrep.accounts.service import authenticate
from sitrep.cli import app
from sitrep.incidents.db import close_stores, open_store

from .conftest import DATA, make_workspace

runner = CliRunner()
PASSWORD = "correct horse battery"


def _run(ws, *args, code: int = 0, input: str | None = None):
    result = runner.invoke(app, ["--home", str(ws.root), *args], env={"SITREP_USER": "analyst"}, input=input)
    assert result.exit_code == code, result.output
    return result


def _listing(ws) -> list[dict]:
    return json.loads(_run(ws, "incidents", "list", "--limit", "10000", "--json").stdout)


def test_a_sqlite_workspace_moves_to_postgresql_whole(tmp_path, postgres):
    source = make_workspace(tmp_path / "source")
    _run(source, "incidents", "import", str(DATA / "acceptance_2025w01.csv"), code=1)  # one bad row, 72 kept
    _run(source, "incidents", "note", "CN-2025-W01-001", "电话已通知")
    _run(source, "users", "add", "alice", "--role", "analyst", "--password-stdin", input=PASSWORD + "\n")
    url = postgres.create_database()

    copied = json.loads(_run(source, "database", "copy", "--to", url, "--json").stdout)
    rows = {c["table"]: c["rows"] for c in copied}
    assert rows["incidents"] == 72 and rows["users"] == 1 and rows["incident_notes"] == 1
    assert rows["audit_log"] > 72

    target = make_workspace(tmp_path / "target", url)
    close_stores()
    assert _listing(target) == _listing(source)
    assert authenticate(open_store(target), "alice", PASSWORD) is not None
    # New rows are numbered after the copied ones (PostgreSQL's sequences were moved past them; an id
    # taken again would be refused by the primary key).
    added = json.loads(_run(target, "incidents", "add", "-c", "phishing", "--title", "新", "--json").stdout)
    assert [i["ref"] for i in _listing(target)].count(added["ref"]) == 1 and len(_listing(target)) == 73

    refused = _run(source, "database", "copy", "--to", url, code=2)
    assert "already holds data" in refused.output and "copy into an empty database" in refused.output


def test_bad_targets_are_one_line_errors(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    for url, said in (
        ("nonsense", "is not a database URL Sitrep can use"),
        (ws.database_url, "is the workspace's own database"),
    ):
        result = _run(ws, "database", "copy", "--to", url, code=2)
        assert said in result.output and "Traceback" not in result.output
