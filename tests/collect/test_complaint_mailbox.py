"""``kind = "complaints"``: an abuse mailbox on a real Dovecot — each unseen mail becomes a proposed
incident with its URLs as assets (or joins the open incident it names, or is quarantined), the mail is
marked only once the intake recorded it, and a mail handed over again adds nothing."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import tomli_w
from typer.testing import CliRunner

from dovecot import PASSWORD, USER
from sitrep.cli import app
from sitrep.workspace import init_workspace

runner = CliRunner()
MAILS = Path(__file__).parents[1] / "incidents" / "data" / "complaints"
PASSWORD_ENV = "SITREP_TEST_ABUSE_PASSWORD"
FOLDER = "Abuse"


@pytest.fixture(autouse=True)
def _password(monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)


def _workspace(tmp_path: Path, dovecot, **source) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    shutil.copy(dovecot.certificate, root / "imap-ca.pem")
    settings = {
        "name": "abuse",
        "kind": "complaints",
        "host": "127.0.0.1",
        "port": dovecot.tls_port,
        "ca_file": "imap-ca.pem",
        "user": USER,
        "password_env": PASSWORD_ENV,
        "folder": FOLDER,
        "timeout_seconds": 10,
    }
    config = {"sources": [settings | source]}
    (root / "sitrep.toml").write_text(tomli_w.dumps(config), encoding="utf-8")
    return init_workspace(root).root


def _sitrep(home: Path, *args: str, code: int = 0) -> str:
    result = runner.invoke(app, ["--home", str(home), *args])
    assert result.exit_code == code, result.output
    return result.stdout


def test_each_complaint_mail_becomes_a_proposal_or_joins_one_and_is_marked_after(tmp_path, dovecot):
    dovecot.create(FOLDER)
    for name in ("phishing-defanged.eml", "follow-up-same-url.eml", "auto-reply.eml"):
        dovecot.deliver(FOLDER, (MAILS / name).read_bytes())
    home = _workspace(tmp_path, dovecot)

    dry = json.loads(_sitrep(home, "collect", "--dry-run", "--json"))[0]
    assert [(f["status"], f["complaint_mail"]) for f in dry["files"]] == [("pending", True)] * 3
    assert not any(r"\Seen" in flags for flags in dovecot.flags(FOLDER).values())

    [run] = json.loads(_sitrep(home, "collect", "--json", code=1))  # the auto-reply is quarantined
    assert run["error"] is None
    taken = [f["complaint"] for f in run["files"]]
    assert [c["action"] for c in taken] == ["proposed", "attached", "quarantined"]
    proposed = taken[0]["incident"]
    # Proposed in the week the server received the mail (now), like a proposal from that week's events.
    assert re.fullmatch(r"P-\d{4}-W\d\d-[0-9a-f]+", proposed) and taken[1]["incident"] == proposed
    assert "https://icbc-verify.example.com/login.php?card=1" in taken[0]["assets"]
    assert [f["status"] for f in run["files"]] == ["ingested", "ingested", "failed"]
    assert all(f["moved_to"].endswith("marked seen") for f in run["files"])
    assert all(r"\Seen" in flags for flags in dovecot.flags(FOLDER).values())
    assert (home / taken[2]["kept"]).is_file()

    listed = json.loads(_sitrep(home, "incidents", "list", "--status", "proposed", "--json"))
    assert proposed in [i["ref"] for i in listed]
    shown = json.loads(_sitrep(home, "incidents", "show", proposed, "--json"))
    assert shown["category"] == "phishing" and len(shown["complaints"]) == 2
    assert "https://icbc-verify.example.com/login.php?card=1" in [a["value"] for a in shown["assets"]]

    # Nothing waits: nothing is taken.  The same mail delivered again is known by its bytes, and marked.
    assert json.loads(_sitrep(home, "collect", "--all", "--json"))[0]["files"] == []
    dovecot.deliver(FOLDER, (MAILS / "phishing-defanged.eml").read_bytes())
    [again] = json.loads(_sitrep(home, "collect", "--all", "--json"))
    assert [(f["status"], f["complaint_mail"]) for f in again["files"]] == [("duplicate", True)]
    assert len(json.loads(_sitrep(home, "incidents", "show", proposed, "--json"))["complaints"]) == 2
    text = _sitrep(home, "collect", "--all")
    assert "abuse: nothing new" in text
