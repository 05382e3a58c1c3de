"""``kind = "imap"``: feeds mailed as attachments, taken from a real Dovecot on loopback (TLS with a
certificate made by the test, STARTTLS, plain) — the attachments of unseen messages that match the
sender and subject patterns are ingested once, the message is marked or moved only after its data is
committed (a killed ``collect`` loses no mail), other mail is left alone, hostile mail crashes
nothing and escapes nothing, and every mailbox failure is its source's own error."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

import pytest
import tomli_w
from sqlalchemy import select
from typer.testing import CliRunner

from dovecot import PASSWORD, USER
from helpers import SAMPLES, lake_rows
from sitrep.cli import app
from sitrep.collect import mailbox
from sitrep.collect.imap import attachments
from sitrep.collect.mailbox import open_mailbox
from sitrep.collect.records import CollectedFile
from sitrep.config import ConfigError, parse_settings
from sitrep.incidents.db import open_store
from sitrep.workspace import init_workspace

runner = CliRunner()
PASSWORD_ENV = "SITREP_TEST_IMAP_PASSWORD"
SHADOWSERVER = "Shadowserver <autoreports@shadowserver.org>"
FROM_PATTERN = r"@shadowserver\.org>?$"
SINKHOLE = "2025-01-01-event4_sinkhole-cncert-cn.csv"
WEBSITES = "2025-01-06-compromised_website-cncert-cn.csv"
SCAN = "2025-01-07-scan_exchange-cncert-cn.csv"
OPENPHISH = "openphish-feed.txt"


@pytest.fixture(autouse=True)
def _password(monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)


def _mail(subject: str, *files: tuple[str, bytes], sender: str = SHADOWSERVER, body: str = "Report attached.") -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, "cert@example.cn", subject
    message["Date"] = formatdate()
    message.set_content(body)
    for name, data in files:
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return message.as_bytes()


def _sample(name: str) -> tuple[str, bytes]:
    return name, (SAMPLES / name).read_bytes()


def _zipped(name: str) -> tuple[str, bytes]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, (SAMPLES / name).read_bytes())
    return f"{name}.zip", buffer.getvalue()


def _workspace(tmp_path: Path, dovecot, *sources: dict):
    root = tmp_path / "ws"
    root.mkdir()
    shutil.copy(dovecot.certificate, root / "imap-ca.pem")
    defaults = {
        "kind": "imap",
        "host": "127.0.0.1",
        "port": dovecot.tls_port,
        "ca_file": "imap-ca.pem",
        "user": USER,
        "password_env": PASSWORD_ENV,
        "from_pattern": FROM_PATTERN,
        "timeout_seconds": 10,
    }
    config = {"sources": [{**defaults, **s} for s in sources]}
    (root / "sitrep.toml").write_text(tomli_w.dumps(config), encoding="utf-8")
    return init_workspace(root)


def _collect(ws, *args, code: int = 0) -> dict:
    result = runner.invoke(app, ["--home", str(ws.root), "collect", "--json", *args])
    assert result.exit_code == code, result.output
    return {run["source"]: run for run in json.loads(result.stdout)}


def _utf7(folder: str) -> str:
    """A folder name in IMAP's modified UTF-7 (made here independently of the code under test)."""
    return '"' + folder.encode("utf-7").decode().replace("+", "&").replace("/", ",") + '"'


def test_matching_unseen_mail_is_ingested_once_then_marked(tmp_path, dovecot):
    mails = {
        "Shadowserver Sinkhole Events Report 2025-01-01": [_sample(SINKHOLE), _zipped(WEBSITES)],
        # A sender's names are hostile: they name no other place, and a broken file fails alone.
        "Shadowserver Report: odd names": [
            ("../../../../tmp/sitrep-escape.csv", (SAMPLES / SCAN).read_bytes()),
            ("..\\..\\phish.txt", (SAMPLES / OPENPHISH).read_bytes()),
            ("broken.csv", b"\x00\x01 not a feed at all"),
            ("notes.pdf", b"%PDF-1.4 not taken: not a feed's kind of file"),
        ],
        "Shadowserver newsletter report": [],  # no attachment: a person reads it
        "Shadowserver Report: only a pdf": [("summary.pdf", b"%PDF-1.4")],
    }
    for subject, files in mails.items():
        dovecot.deliver("INBOX", _mail(subject, *files))
    dovecot.deliver("INBOX", _mail("Report from a stranger", _sample(OPENPHISH), sender="x@example.com"))
    dovecot.deliver("INBOX", _mail("Shadowserver Report already read", _sample(OPENPHISH)), seen=True)
    dovecot.deliver("INBOX", _mail("Shadowserver survey", _sample(OPENPHISH)))  # not a report: subject

    ws = _workspace(tmp_path, dovecot, {"name": "shadowserver", "subject_pattern": r"\breport\b"})
    run = _collect(ws, code=1)["shadowserver"]  # broken.csv failed; everything else went through
    assert run["error"] is None
    taken = {f["name"]: f for f in run["files"]}
    assert list(taken) == [SINKHOLE, f"{WEBSITES}.zip", "sitrep-escape.csv", "phish.txt", "broken.csv"]
    assert {n: f["status"] for n, f in taken.items()} == {
        SINKHOLE: "ingested",
        f"{WEBSITES}.zip": "ingested",
        "sitrep-escape.csv": "ingested",
        "phish.txt": "ingested",
        "broken.csv": "failed",
    }
    # Each message is marked with its last attachment, once every one of them is finished.
    assert taken[SINKHOLE]["moved_to"] is None and taken[f"{WEBSITES}.zip"]["moved_to"].endswith("marked seen")
    kept = taken["broken.csv"]["moved_to"]
    assert kept.startswith("collected/shadowserver/failed/") and kept.endswith("-broken.csv; mail UID 2 marked seen")
    failed = ws.root / "collected" / "shadowserver" / "failed"
    assert sorted(p.name.split("-", 1)[1] for p in failed.iterdir()) == ["broken.csv", "broken.csv.reason.txt"]
    assert not Path("/tmp/sitrep-escape.csv").exists() and not (tmp_path / "phish.txt").exists()

    feeds = {e["feed_name"] for e in lake_rows(ws)}
    assert {"shadowserver-event4-sinkhole", "openphish"} <= feeds and len(feeds) == 4
    flags = dovecot.flags("INBOX")
    seen = {subject for subject, f in flags.items() if r"\Seen" in f}
    assert seen == {
        "Shadowserver Sinkhole Events Report 2025-01-01",
        "Shadowserver Report: odd names",
        "Shadowserver Report already read",
    }

    # Nothing new: nothing is fetched, nothing ingested twice.
    events = len(lake_rows(ws))
    again = _collect(ws, "--source", "shadowserver")["shadowserver"]
    assert again["files"] == [] and again["error"] is None and len(lake_rows(ws)) == events

    # The same report mailed again: its bytes are known, the new message is marked all the same.
    dovecot.deliver("INBOX", _mail("Shadowserver Sinkhole Events Report 2025-01-01 (resent)", _sample(SINKHOLE)))
    resent = _collect(ws, "--source", "shadowserver")["shadowserver"]
    assert [(f["name"], f["status"]) for f in resent["files"]] == [(SINKHOLE, "duplicate")]
    assert r"\Seen" in dovecot.flags("INBOX")["Shadowserver Sinkhole Events Report 2025-01-01 (resent)"]
    assert len(lake_rows(ws)) == events


def test_a_dry_run_marks_nothing_and_then_move_moves(tmp_path, dovecot):
    folder, archive = "Shadowserver 报告", "已处理"
    dovecot.create(_utf7(folder))
    dovecot.create(_utf7(archive))
    dovecot.deliver(_utf7(folder), _mail("Shadowserver Scan Report", _sample(SCAN)))
    source = {
        "name": "moved",
        "port": dovecot.port,
        "security": "starttls",
        "folder": folder,
        "then": "move",
        "move_to": archive,
    }
    ws = _workspace(tmp_path, dovecot, source)

    listed = _collect(ws, "--dry-run")["moved"]
    assert [(f["name"], f["status"]) for f in listed["files"]] == [(SCAN, "pending")]
    assert dovecot.flags(_utf7(folder)) == {"Shadowserver Scan Report": set()} and lake_rows(ws) == []

    [file] = _collect(ws)["moved"]["files"]
    assert file["status"] == "ingested" and file["moved_to"] == f"mail UID 1 moved to {archive}"
    assert dovecot.flags(_utf7(folder)) == {}
    assert dovecot.flags(_utf7(archive)) == {"Shadowserver Scan Report": {r"\Seen"}}


def test_hostile_mail_crashes_nothing(tmp_path, dovecot):
    dovecot.create("Hostile")
    deep = b"Content-Type: text/plain\r\n\r\nhi\r\n"
    for level in range(1500):
        deep = (
            f'Content-Type: multipart/mixed; boundary="b{level}"\r\n\r\n--b{level}\r\n'.encode()
            + deep
            + f"\r\n--b{level}--\r\n".encode()
        )
    hostile = [
        b"From: " + SHADOWSERVER.encode() + b"\r\nSubject: Shadowserver Report nested\r\nMIME-Version: 1.0\r\n" + deep,
        b"From: " + SHADOWSERVER.encode() + b"\r\nSubject: Shadowserver Report no end\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="never"\r\n\r\n--never\r\n'
        b'Content-Type: text/csv\r\nContent-Disposition: attachment; filename="=?utf-8?b?5ZGo5oqlLmNzdg==?="\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n!!not base64 at all!!\r\n",
        _mail("Shadowserver Report huge", ("big.csv", os.urandom(1024 * 1024 + 10))),
        _mail("Shadowserver Report named in Chinese", ("周报\x00.txt", (SAMPLES / OPENPHISH).read_bytes())),
    ]
    for message in hostile:
        dovecot.deliver("Hostile", message)
    ws = _workspace(tmp_path, dovecot, {"name": "hostile", "folder": "Hostile", "max_mb": 1})
    result = runner.invoke(app, ["--home", str(ws.root), "collect", "--json"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    [run] = json.loads(result.stdout)
    # The nested and the huge one are left unseen, and said so; the others are taken.
    assert "message UID 1 from" in run["error"] and "cannot be read (RecursionError" in run["error"]
    assert "message UID 3 from" in run["error"] and "over max_mb = 1: left unseen" in run["error"]
    assert [(f["name"], f["status"]) for f in run["files"]] == [("周报.csv", "failed"), ("周报_.txt", "ingested")]
    flags = dovecot.flags("Hostile")
    assert {s for s, f in flags.items() if r"\Seen" in f} == {
        "Shadowserver Report no end",
        "Shadowserver Report named in Chinese",
    }


def test_a_killed_collect_loses_no_mail(tmp_path, dovecot):
    """SIGKILL once the first attachment of a message is committed: the message stays unseen, and
    the next run takes it, recognising the attachment already ingested; the lake holds each event once."""
    dovecot.create("Killed")
    dovecot.deliver("Killed", _mail("Shadowserver Reports", _sample(SINKHOLE), _sample(WEBSITES), _sample(SCAN)))
    ws = _workspace(tmp_path, dovecot, {"name": "killed", "folder": "Killed"})
    sitrep = str(Path(sys.executable).with_name("sitrep"))
    collect = subprocess.Popen(
        [sitrep, "--home", str(ws.root), "collect"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    recorded: list[str] = []
    while not recorded and collect.poll() is None and time.monotonic() < deadline:
        with open_store(ws).read() as session:
            recorded = list(session.scalars(select(CollectedFile.name)))
        time.sleep(0.01)
    collect.send_signal(signal.SIGKILL)
    assert collect.wait(timeout=30) == -signal.SIGKILL, collect.stderr.read()
    with open_store(ws).read() as session:
        recorded = list(session.scalars(select(CollectedFile.name)))
    assert recorded[:1] == [SINKHOLE] and len(recorded) < 3, "the kill came after the message's last file"
    assert dovecot.flags("Killed") == {"Shadowserver Reports": set()}  # not marked: no mail lost

    run = _collect(ws)["killed"]
    assert [(f["name"], f["status"]) for f in run["files"]] == [
        (name, "duplicate" if name in recorded else "ingested") for name in (SINKHOLE, WEBSITES, SCAN)
    ]
    assert dovecot.flags("Killed") == {"Shadowserver Reports": {r"\Seen"}}
    ids = [e["event_id"] for e in lake_rows(ws)]
    assert len(ids) == len(set(ids)) and {e["feed_name"] for e in lake_rows(ws)} >= {"shadowserver-event4-sinkhole"}


def test_the_mailbox_interface_deletes_and_reopens_a_dropped_connection(tmp_path, dovecot, monkeypatch):
    """What a mailbox kind builds on (``collect.mailbox``): the waiting messages, one fetched without
    being marked, then marked (here deleted) over a connection the server dropped meanwhile."""
    dovecot.create("Api")
    dovecot.deliver("Api", _mail("Shadowserver Report one", _sample(OPENPHISH)))
    dovecot.deliver("Api", _mail("Shadowserver Report two", _sample(OPENPHISH)), seen=True)
    dovecot.deliver("Api", _mail("Stranger's report", sender="x@example.com"))
    ws = _workspace(tmp_path, dovecot, {"name": "api", "folder": "Api", "then": "delete"})
    with open_mailbox(ws, ws.settings.sources[0]) as box:
        [envelope] = box.waiting()
        assert (envelope.uid, envelope.sender, envelope.subject) == (1, SHADOWSERVER, "Shadowserver Report one")
        raw = box.fetch(envelope)
        assert raw is not None and raw.startswith(b"From: " + SHADOWSERVER.encode())
        [file] = attachments(raw, tmp_path / "work", [".txt"], envelope.received)
        assert file.read_bytes() == (SAMPLES / OPENPHISH).read_bytes()
        assert r"\Seen" not in dovecot.flags("Api")["Shadowserver Report one"]  # fetched, not marked
        box._imap.shutdown()  # the server's side of a connection dropped during a long ingest
        monkeypatch.setattr(mailbox, "_IDLE_SECONDS", 0.0)
        assert box.mark(envelope.uid) == "mail UID 1 deleted"
    assert set(dovecot.flags("Api")) == {"Shadowserver Report two", "Stranger's report"}


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"from_pattern": "(unclosed"}, "from_pattern = '(unclosed' is not a regular expression"),
        ({"subject_pattern": "*report"}, "subject_pattern = '*report' is not a regular expression"),
        ({"host": "mail.example.cn", "security": "none"}, 'security = "none" would send the password to mail.exa'),
        ({"then": "move"}, 'then = "move" needs move_to'),
        ({"move_to": "Done"}, "move_to = 'Done' is set but then = \"seen\""),
        ({"password_file": "pw.txt"}, "set one of password_env"),
        ({"password_env": ""}, "set one of password_env"),
        ({"attachments": ["csv"]}, "attachments: 'csv' is not a file name ending"),
    ],
)
def test_bad_mailbox_settings_are_refused_naming_the_value(tmp_path, entry, message):
    source = {"name": "mail", "kind": "imap", "host": "127.0.0.1", "user": "u", "password_env": "PW", **entry}
    with pytest.raises(ConfigError) as error:
        parse_settings({"sources": [source]}, tmp_path / "sitrep.toml")
    assert "sources.0.imap" in str(error.value) and message in str(error.value)


def test_the_port_follows_the_security():
    sources = [
        {"name": f"m{n}", "kind": "imap", "host": "localhost", "user": "u", "password_env": "PW", "security": s}
        for n, s in enumerate(("ssl", "starttls", "none"))
    ]
    settings = parse_settings({"sources": [*sources, {**sources[0], "name": "own", "port": 1993}]}, Path("x"))
    assert [s.port for s in settings.sources] == [993, 143, 143, 1993]


def test_mailbox_failures_are_each_sources_own(tmp_path, dovecot, monkeypatch):
    """(The module's last test of the server: see wrong-password.)"""
    dovecot.create("Quiet")
    (tmp_path / "secret.txt").write_text(PASSWORD + "\n", encoding="utf-8")
    down = dovecot.port + 1 if dovecot.port + 1 != dovecot.tls_port else dovecot.port + 2
    ws = _workspace(
        tmp_path,
        dovecot,
        {"name": "by-file", "folder": "Quiet", "password_env": "", "password_file": "../secret.txt"},
        {"name": "no-variable", "password_env": "SITREP_TEST_IMAP_UNSET"},
        {"name": "down", "port": down},
        {"name": "not-tls", "port": dovecot.port},
        {"name": "untrusted", "ca_file": ""},
        {"name": "no-ca", "ca_file": "missing-ca.pem"},
        {"name": "no-folder", "folder": "Nowhere"},
        {"name": "no-archive", "folder": "Quiet", "then": "move", "move_to": "Nowhere"},
        # Last: after a failed login Dovecot makes the next one from the same address wait seconds.
        {"name": "wrong-password", "password_env": "SITREP_TEST_IMAP_WRONG"},
    )
    monkeypatch.setenv("SITREP_TEST_IMAP_WRONG", "not-the-password")
    monkeypatch.delenv("SITREP_TEST_IMAP_UNSET", raising=False)
    result = runner.invoke(app, ["--home", str(ws.root), "collect", "--all", "--json"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    runs = {run["source"]: run for run in json.loads(result.stdout)}
    errors = {name: run["error"] for name, run in runs.items()}
    server = f"127.0.0.1:{dovecot.tls_port}"
    assert errors["by-file"] is None and runs["by-file"]["files"] == []
    assert errors["wrong-password"].startswith(f"{server} refused the login of 'feeds': [AUTHENTICATIONFAILED]")
    assert errors["no-variable"] == "the environment variable SITREP_TEST_IMAP_UNSET (password_env) is not set"
    assert errors["down"] == f"127.0.0.1:{down} refused the connection (is an IMAP server listening there?)"
    assert "did not answer in TLS: is security right for this port?" in errors["not-tls"]
    assert "certificate is not trusted" in errors["untrusted"] and "set ca_file" in errors["untrusted"]
    assert (
        errors["no-ca"]
        == f"ca_file {ws.root / 'missing-ca.pem'}: cannot be read as PEM certificates (No such file or directory)"
    )
    assert errors["no-folder"].startswith(f"{server} has no folder 'Nowhere' (folder)")
    assert errors["no-archive"].startswith(f"{server} has no folder 'Nowhere' (move_to): create it")
    assert PASSWORD not in result.output
