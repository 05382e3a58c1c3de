"""``sitrep users …`` end to end through the Typer app, on SQLite (the core is tested on both)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from sitrep.accounts import service
from sitrep.cli import app
from sitrep.incidents.db import open_store

runner = CliRunner()
PASSWORD = "a long enough password"


@pytest.fixture
def home(workspace):
    return workspace


def _run(ws, *args, input=None):
    return runner.invoke(app, ["--home", str(ws.root), "users", *args], input=input)


def test_add_list_token_revoke_deactivate(home):
    result = _run(home, "add", "Alice", "--role", "analyst", "--password-stdin", input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "Added user alice (analyst)" in result.output
    assert service.authenticate(open_store(home), "alice", PASSWORD) is not None

    result = _run(home, "token", "alice")
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[0]
    assert service.token_user(open_store(home), token).name == "alice"

    listed = json.loads(_run(home, "list", "--json").stdout)
    assert [(u["name"], u["role"], u["active"], u["tokens"]) for u in listed] == [("alice", "analyst", True, 1)]
    assert "password" not in json.dumps(listed)

    assert _run(home, "revoke", "alice", "--token", "1").exit_code == 0
    assert service.token_user(open_store(home), token) is None
    assert _run(home, "deactivate", "alice").exit_code == 0
    assert json.loads(_run(home, "list", "--json").stdout)[0]["active"] is False
    assert service.authenticate(open_store(home), "alice", PASSWORD) is None


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["add", "bob", "--role", "boss", "--password-stdin"], PASSWORD, "unknown role 'boss'"),
        (["add", "bob", "--role", "viewer", "--password-stdin"], "short", "at least 10 are needed"),
        (["add", "bob", "--role", "viewer", "--password-stdin"], "", "no password on standard input"),
        (["add", "bob", "--role", "viewer"], PASSWORD, "not a terminal"),
        (["token", "ghost"], None, "no user 'ghost' (see 'sitrep users list')"),
        (["revoke", "ghost"], None, "no user 'ghost'"),
    ],
)
def test_refusals_are_one_line_with_a_hint(home, args, stdin, message):
    result = _run(home, *args, input=None if stdin is None else stdin + "\n" if stdin else "")
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_duplicate_is_refused_before_the_password_is_asked(home):
    _run(home, "add", "carol", "--role", "viewer", "--password-stdin", input=PASSWORD + "\n")
    result = _run(home, "add", "CAROL", "--role", "viewer")
    assert result.exit_code == 2
    assert "a user 'carol' exists already (change its password with 'sitrep users password carol')" in result.output
