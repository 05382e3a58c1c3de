"""``sitrep send``: the published issue mailed through a real SMTP server on loopback (aiosmtpd):
plain, STARTTLS with a self-signed certificate and a login, implicit TLS, a dry run, a refused
recipient, a server that is down, a draft or withdrawn week, and a second send of a revision."""

from __future__ import annotations

import email
import json
import shutil
import socket
import ssl
import subprocess
import tomllib
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from aiosmtpd.controller import Controller
from typer.testing import CliRunner

from sitrep.cli import app
from sitrep.config import ConfigError, Settings, Workspace, load_workspace, parse_settings
from sitrep.report import wording as w
from sitrep.report.distribution.errors import DistributionError
from sitrep.report.distribution.log import AlreadySent, sent_log
from sitrep.report.distribution.relay import password_of, relay_of
from sitrep.report.distribution.send import send_issue
from sitrep.report.publish import publish, unpublish
from smtp_inbox import Inbox, authenticator

from .data import RESTRICTED_STRINGS, WEEK, build_workspace, week_events, write_events

runner = CliRunner()
USER, PASSWORD, PASSWORD_ENV = "weekly-bot", "s3cret-pw", "TEST_SITREP_SEND_PW"
SENDER = "weekly@cert.example.cn"
ZH = ["alice@example.cn", "bob@example.cn"]
EN = ["carol@example.org"]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (aiosmtpd cannot be given port 0 and report the one it got)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (openssl, made at test time)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def _server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


@pytest.fixture
def plain_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port, inbox
    controller.stop()


@pytest.fixture
def tls_server(certificate):
    """STARTTLS required, login required (only over TLS)."""
    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=_server_context(certificate),
        require_starttls=True,
        authenticator=authenticator(USER, PASSWORD),
        auth_required=True,
        auth_require_tls=True,
    )
    controller.start()
    yield controller.port, inbox
    controller.stop()


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    """A workspace with 2025-W01 published (copied for each test, which configures its own relay)."""
    ws = build_workspace(tmp_path_factory.mktemp("send") / "ws")
    publish(ws, WEEK)
    return ws.root


def _configure(root: Path, **distribution: Any) -> Workspace:
    path = root / "sitrep.toml"
    config = tomllib.loads(path.read_text(encoding="utf-8"))
    config["distribution"] = {"sender": SENDER, "recipients": {"zh": ZH}, **distribution}
    path.write_text(tomli_w.dumps(config), encoding="utf-8")
    return load_workspace(root)


@pytest.fixture
def home(published, tmp_path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(published, root)
    return root


def _sitrep(root: Path, *args: str, code: int = 0, env: dict[str, str] | None = None):
    result = runner.invoke(app, ["--home", str(root), "send", *args], env=env)
    # No exception escaped the command.  (Not "no Traceback in the output": the server's thread logs the
    # client's TLS refusal with one into the same captured stderr.)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == code, result.output
    return result


def _text(message: EmailMessage) -> str:
    return "".join(part.get_content() for part in message.walk() if part.get_content_maintype() == "text")


def test_plain_send_one_message_per_language_with_the_pdf_attached(home, plain_server):
    port, inbox = plain_server
    _configure(home, host="127.0.0.1", port=port, security="none", recipients={"zh": ZH, "en": EN})
    result = _sitrep(home, "--week", str(WEEK), "--actor", "duty-officer")
    assert "sent to 2 of 2" in result.stdout and "sent to 1 of 1" in result.stdout

    assert [(sender, rcpts) for sender, rcpts, _ in inbox.messages] == [(SENDER, ZH), (SENDER, EN)]
    zh, en = inbox.parsed()
    for message, lang in ((zh, "zh"), (en, "en")):
        assert message["Subject"] == w.title(WEEK, lang)
        assert message["Date"] and message["Message-ID"].endswith("@cert.example.cn>")
        # Readers are envelope recipients only: no address of theirs is in a header.
        assert message["To"] == SENDER and not message["Cc"] and not message["Bcc"]
        assert all(a not in str(message.items()) for a in ZH + EN)
        assert message["Content-Language"] == ("zh-CN" if lang == "zh" else "en")
        assert message.get_content_type() == "multipart/mixed"
        body, attachment = message.iter_parts()
        assert [p.get_content_type() for p in body.iter_parts()] == ["text/plain", "text/html"]
        assert attachment.get_content_type() == "application/pdf"
        assert attachment.get_filename() == f"report-{WEEK}.{lang}.pdf"
        assert attachment.get_content().startswith(b"%PDF")
        html = body.get_body(("html",)).get_content()
        # What mail clients strip is not relied on: no style sheet, web font or inline SVG.
        assert "<svg" not in html and "@font-face" not in html and "<style" not in html
        plain = body.get_body(("plain",)).get_content()
        assert attachment.get_filename() in plain and attachment.get_filename() in html
        assert not any(s in _text(message) for s in RESTRICTED_STRINGS)
        # The attachment is the public PDF edition (pdftotext: poppler-utils, installed by CI).
        if lang == "zh" and shutil.which("pdftotext"):
            pdf = subprocess.run(
                ["pdftotext", "-", "-"], input=attachment.get_content(), capture_output=True, check=True
            )
            text = pdf.stdout.decode("utf-8")
            assert "整体评价" in text and not any(s in text for s in RESTRICTED_STRINGS)
    assert "2025年第1期" in zh["Subject"] and "整体评价" in _text(zh) and "万" not in en["Subject"]
    assert "Overall rating" in _text(en)

    log = sent_log(load_workspace(home), WEEK)
    assert [(r["lang"], r["accepted"], r["revision"], r["by"]) for r in log] == [
        ("zh", ZH, 1, "duty-officer"),
        ("en", EN, 1, "duty-officer"),
    ]
    assert [r["message_id"] for r in log] == [zh["Message-ID"], en["Message-ID"]]
    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils (pdftotext) missing: the PDF attachment's text was not read")


def test_a_second_send_of_the_same_revision_needs_again(home, plain_server):
    port, inbox = plain_server
    ws = _configure(home, host="127.0.0.1", port=port, security="none")
    _sitrep(home, "--week", str(WEEK))
    again = _sitrep(home, "--week", str(WEEK), code=2)
    assert "already sent" in again.output and "--again" in again.output and len(inbox.messages) == 1
    with pytest.raises(AlreadySent) as refused:
        send_issue(ws, WEEK, actor="t")
    assert refused.value.earlier[0]["accepted"] == ZH
    # An address is the same reader in any case.
    assert (
        "to 1 of these recipients (ALICE@example.cn)"
        in _sitrep(home, "--week", str(WEEK), "--to", "ALICE@example.cn", code=2).output
    )

    # Someone who has not got it yet may be sent it without --again; a dry run only notes it.
    _sitrep(home, "--week", str(WEEK), "--to", "dave@example.cn")
    dry = _sitrep(home, "--week", str(WEEK), "--dry-run")
    assert "already went to alice@example.cn, bob@example.cn" in dry.output
    _sitrep(home, "--week", str(WEEK), "--again")
    assert [rcpts for _, rcpts, _ in inbox.messages] == [ZH, ["dave@example.cn"], ZH]
    assert len(sent_log(ws, WEEK)) == 3

    # A new revision is a new issue to send, and says so in its subject.
    extra = [r for r in week_events(WEEK, planted=False, extra_phishing=2) if r["classification_type"] == "phishing"]
    write_events(ws, extra[-2:], "later")
    assert publish(ws, WEEK, refresh=True).revision == 2
    _sitrep(home, "--week", str(WEEK))
    assert inbox.parsed()[-1]["Subject"] == w.title(WEEK, "zh") + "（修订版2）"
    assert [r["revision"] for r in sent_log(ws, WEEK)] == [1, 1, 1, 2]


def test_starttls_with_login_and_a_private_ca(home, tls_server, certificate):
    port, inbox = tls_server
    cert, _ = certificate
    config = dict(host="127.0.0.1", port=port, username=USER, password_env=PASSWORD_ENV, ca_file=str(cert))
    _configure(home, **config)
    result = _sitrep(home, "--week", str(WEEK), env={PASSWORD_ENV: PASSWORD})
    assert f"127.0.0.1:{port} (starttls, as {USER}; [distribution])" in result.stdout
    assert len(inbox.messages) == 1 and inbox.messages[0][1] == ZH


def test_login_and_tls_failures_name_the_server_and_send_nothing(home, tls_server, certificate):
    port, inbox = tls_server
    cert, _ = certificate
    config = dict(host="127.0.0.1", port=port, username=USER, password_env=PASSWORD_ENV, ca_file=str(cert))
    _configure(home, **config)
    wrong = _sitrep(home, "--week", str(WEEK), code=2, env={PASSWORD_ENV: "wrong"})
    assert f"127.0.0.1:{port} refused the login of '{USER}': 535" in wrong.output
    unset = _sitrep(home, "--week", str(WEEK), code=2, env={PASSWORD_ENV: None})  # type: ignore[dict-item]
    assert f"[distribution] username is set but the environment variable {PASSWORD_ENV}" in unset.output
    # The certificate is self-signed: without ca_file it is not trusted.
    _configure(home, **{**config, "ca_file": ""})
    untrusted = _sitrep(home, "--week", str(WEEK), code=2, env={PASSWORD_ENV: PASSWORD})
    assert f"TLS with 127.0.0.1:{port} failed: its certificate is not trusted (self-signed" in untrusted.output
    # Plain SMTP to a server that wants STARTTLS first: the login is refused before any password is sent.
    _configure(home, **{**config, "security": "none"})
    plain = _sitrep(home, "--week", str(WEEK), code=2, env={PASSWORD_ENV: PASSWORD})
    # One line of ours (the server's thread may still be logging the untrusted handshake above it).
    (line,) = [line for line in plain.output.splitlines() if line.startswith("error:")]
    assert f"127.0.0.1:{port}" in line and plain.output.rstrip().endswith(line)
    assert inbox.messages == [] and sent_log(load_workspace(home), WEEK) == []


def test_implicit_tls(home, certificate):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), ssl_context=_server_context(certificate))
    controller.start()
    try:
        _configure(home, host="127.0.0.1", port=controller.port, security="ssl", ca_file=str(certificate[0]))
        _sitrep(home, "--week", str(WEEK))
    finally:
        controller.stop()
    assert len(inbox.messages) == 1


def test_dry_run_prints_who_gets_what_and_writes_the_eml(home, plain_server, tmp_path):
    port, inbox = plain_server
    _configure(home, host="127.0.0.1", port=port, security="none", recipients={"zh": ZH, "en": EN})
    out = tmp_path / "mail"
    result = _sitrep(home, "--week", str(WEEK), "--dry-run", "--lang", "en", "--output", str(out))
    assert "dry run, nothing sent" in result.stdout
    assert "to 1: carol@example.org" in result.stdout and "zh:" not in result.stdout
    assert w.title(WEEK, "en") in result.stdout and "KB with report-2025-W01.en.pdf" in result.stdout
    written = email.message_from_bytes((out / "mail.en.eml").read_bytes(), policy=policy.default)
    assert written["Subject"] == w.title(WEEK, "en") and written["Message-ID"] in result.stdout
    assert inbox.messages == [] and sent_log(load_workspace(home), WEEK) == []

    data = json.loads(_sitrep(home, "--week", str(WEEK), "--dry-run", "--json", "--lang", "zh").stdout)
    assert data["dry_run"] and [d["lang"] for d in data["deliveries"]] == ["zh"]
    assert data["deliveries"][0]["recipients"] == ZH and data["deliveries"][0]["size"] > 10_000
    assert data["deliveries"][0]["eml"].endswith(f"reports/{WEEK}/mail.zh.eml")
    assert "password" not in json.dumps(data["relay"])


def test_a_refused_recipient_is_reported_and_the_others_get_it(home):
    inbox = Inbox()
    # A server without SMTPUTF8: only the international address fails, in a transaction of its own.
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), enable_SMTPUTF8=False)
    controller.start()
    listed = [*ZH, "refused@example.cn", "张三@例子.中国"]
    _configure(home, host="127.0.0.1", port=controller.port, security="none", recipients={"zh": listed})
    try:
        result = _sitrep(home, "--week", str(WEEK), code=1)
    finally:
        controller.stop()
    assert "sent to 2 of 4: alice@example.cn, bob@example.cn" in result.stdout
    assert "not sent to 张三@例子.中国: not sent: " in result.output and "SMTPUTF8" in result.output
    assert "not sent to refused@example.cn: 550 5.1.1 no such mailbox" in result.output
    assert f"sitrep send --week {WEEK} --lang zh --to refused@example.cn --to 张三@例子.中国" in result.output
    assert [rcpts for _, rcpts, _ in inbox.messages] == [ZH]
    (record,) = sent_log(load_workspace(home), WEEK)
    assert record["accepted"] == ZH and record["refused"]["refused@example.cn"] == "550 5.1.1 no such mailbox"


def test_a_connection_lost_half_way_reports_who_got_it(home, plain_server):
    port, inbox = plain_server
    recipients = {"zh": ["alice@example.cn", "shutdown@example.cn"], "en": EN}
    _configure(home, host="127.0.0.1", port=port, security="none", max_recipients=1, recipients=recipients)
    result = _sitrep(home, "--week", str(WEEK), code=1)
    assert "sent to 1 of 2: alice@example.cn" in result.stdout and "sent to 0 of 1" in result.stdout
    assert "not sent to shutdown@example.cn: message refused: 421 4.3.2 service shutting down" in result.output
    assert "not sent to carol@example.org: not sent: the server closed the connection (421" in result.output
    assert [rcpts for _, rcpts, _ in inbox.messages] == [["alice@example.cn"]]
    (record,) = sent_log(load_workspace(home), WEEK)
    assert record["lang"] == "zh" and record["accepted"] == ["alice@example.cn"]


def test_recipients_go_in_batches(home, plain_server):
    port, inbox = plain_server
    many = ["张三@例子.中国", *(f"reader{i}@example.cn" for i in range(5))]
    _configure(home, host="127.0.0.1", port=port, security="none", max_recipients=2, recipients={"zh": many})
    _sitrep(home, "--week", str(WEEK))
    # An international address goes in a transaction of its own (it needs SMTPUTF8, which this server has).
    assert [rcpts for _, rcpts, _ in inbox.messages] == [many[1:3], many[3:5], many[5:], many[:1]]
    ids = {m["Message-ID"] for m in inbox.parsed()}
    assert len(ids) == 1 and sorted(sent_log(load_workspace(home), WEEK)[0]["accepted"]) == sorted(many)


def test_server_down_and_unknown_host(home):
    _configure(home, host="127.0.0.1", port=free_port(), security="none")
    down = _sitrep(home, "--week", str(WEEK), code=2)
    assert "refused the connection" in down.output and len(down.output.strip().splitlines()) == 1
    _configure(home, host="no-such-relay.invalid", port=25, security="none")
    unknown = _sitrep(home, "--week", str(WEEK), code=2)
    assert "cannot find the SMTP server 'no-such-relay.invalid'" in unknown.output


def test_only_a_published_issue_is_sent(home, plain_server):
    port, inbox = plain_server
    ws = _configure(home, host="127.0.0.1", port=port, security="none")
    draft = _sitrep(home, "--week", str(WEEK - 1), code=2)
    assert f"{WEEK - 1} is not published" in draft.output
    _sitrep(home, "--week", str(WEEK - 1), "--dry-run", code=2)
    unpublish(ws, WEEK, reason="wrong numbers")
    withdrawn = _sitrep(home, "--week", str(WEEK), code=2)
    assert "was withdrawn on" in withdrawn.output and "wrong numbers" in withdrawn.output
    assert inbox.messages == [] and not (ws.reports_dir / str(WEEK - 1) / "mail.zh.eml").exists()


def test_missing_recipients_and_bad_options(home):
    _configure(home, recipients={})
    none = _sitrep(home, "--week", str(WEEK), code=2)
    assert "no recipients" in none.output and "[distribution.recipients]" in none.output
    _configure(home)
    no_en = _sitrep(home, "--week", str(WEEK), "--lang", "en", code=2)
    assert "no recipients for the en edition" in no_en.output
    assert "--lang" in _sitrep(home, "--week", str(WEEK), "--lang", "fr", code=2).output
    assert "not an e-mail address" in _sitrep(home, "--week", str(WEEK), "--to", "nobody", code=2).output
    assert "--dry-run" in _sitrep(home, "--week", str(WEEK), "--output", "x", code=2).output
    assert "not 99" in _sitrep(home, "--week", "2025-W99", code=2).output
    result = runner.invoke(app, ["send", "--help"])
    assert result.exit_code == 0
    for option in ("--week", "--lang", "--to", "--dry-run", "--again", "--output", "--actor", "--json"):
        assert option in result.output


def test_configuration_is_checked():
    with pytest.raises(ConfigError, match=r"distribution.recipients: 'bad' is not an e-mail address"):
        parse_settings({"distribution": {"recipients": {"zh": ["a@example.cn", "bad"]}}}, Path("sitrep.toml"))
    with pytest.raises(ConfigError, match=r"'fr' is not a language of the report"):
        parse_settings({"distribution": {"recipients": {"fr": ["a@example.fr"]}}}, Path("sitrep.toml"))
    with pytest.raises(ConfigError, match=r"distribution.security"):
        parse_settings({"distribution": {"security": "tls"}}, Path("sitrep.toml"))
    twice = Settings.model_validate({"distribution": {"recipients": {"zh": ["A@example.cn", "a@example.cn"]}}})
    assert twice.distribution.recipients == {"zh": ["A@example.cn"]}


def test_the_relay_comes_from_smtp_unless_distribution_names_one(monkeypatch):
    shared = Settings.model_validate({"smtp": {"host": "relay.example.cn", "port": 2525, "starttls": False}})
    relay = relay_of(shared)
    assert (relay.host, relay.port, relay.security, relay.section) == ("relay.example.cn", 2525, "none", "smtp")
    own = relay_of(Settings.model_validate({"distribution": {"host": "list.example.cn", "security": "ssl"}}))
    assert (own.host, own.port, own.security, own.section) == ("list.example.cn", 465, "ssl", "distribution")
    # A password never crosses the network in clear (loopback excepted).
    monkeypatch.setenv("SITREP_DISTRIBUTION_PASSWORD", "pw")
    clear = {"host": "list.example.cn", "security": "none", "username": "u"}
    with pytest.raises(DistributionError, match="in clear"):
        password_of(relay_of(Settings.model_validate({"distribution": clear})))
    local = relay_of(Settings.model_validate({"distribution": {**clear, "host": "127.0.0.1"}}))
    assert password_of(local) == "pw"
