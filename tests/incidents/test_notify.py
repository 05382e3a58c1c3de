"""Partner notifications through a real SMTP server on loopback (aiosmtpd, STARTTLS, login)."""

from __future__ import annotations

import csv
import email
import io
import ssl
import subprocess
from datetime import timedelta
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from typer.testing import CliRunner

from sitrep.cli import app
from sitrep.incidents.db import session_scope
from sitrep.incidents.desk import Desk
from sitrep.incidents.models import Incident, Partner, utcnow
from sitrep.incidents.notify import NotifyError, send_notifications
from sitrep.incidents.partners import PartnerSpec, upsert_partner
from sitrep.incidents.vocabulary import Status
from sitrep.incidents.workflow import Home, add_asset, add_request, create_incident, transition
from sitrep.taxonomy import IncidentCategory, PartnerType
from smtp_inbox import Inbox, authenticator

from .conftest import free_port, make_workspace

USER, PASSWORD = "cert-bot", "s3cret-pw"


@pytest.fixture(scope="session")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def smtp_server(certificate):
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=context,
        require_starttls=True,
        authenticator=authenticator(USER, PASSWORD),
        auth_require_tls=True,
    )
    controller.start()
    yield controller, inbox
    controller.stop()


def _workspace(tmp_path, backend, port, cert):
    return make_workspace(
        tmp_path / "ws",
        backend or None,
        smtp={
            "host": "127.0.0.1",
            "port": port,
            "starttls": True,
            "username": USER,
            "password_env": "TEST_SITREP_SMTP_PW",
            "sender": "cert@cert.example.cn",
            "ca_file": str(cert),
        },
    )


def _seed(ws):
    """Two partners (zh and en) with triaged incidents, and one new incident that must not be mailed."""
    home = Home.of(ws)
    with session_scope(ws) as session:
        cloud, _ = upsert_partner(
            session,
            PartnerSpec.build(name="阿里云", type=PartnerType.CLOUD, country="CN", email="abuse@aliyun.example.cn"),
            actor="t",
        )
        jp, _ = upsert_partner(
            session,
            PartnerSpec.build(
                name="JPCERT/CC", type=PartnerType.FOREIGN_CERT, country="JP", email="info@jpcert.example.jp"
            ),
            actor="t",
        )
        nomail, _ = upsert_partner(session, PartnerSpec.build(name="无邮箱机构", type=PartnerType.OTHER), actor="t")
        for ref, partner, assets in (
            ("N-1", cloud, ["http://icbc-login.example.cn/a", "203.0.113.5"]),
            ("N-2", cloud, ["http://taobao-gift.example.cn/"]),
            ("N-3", jp, ["http://boc-verify.example.jp/"]),
            ("N-4", nomail, ["http://x.example.cn/"]),
        ):
            incident = create_incident(
                session, ref=ref, title=f"仿冒页面 {ref}", category=IncidentCategory.PHISHING, actor="t"
            )
            for asset in assets:
                add_asset(session, incident, asset, actor="t", home=home)
            add_request(session, incident, partner, actor="t")
            transition(session, incident, Status.TRIAGED, actor="t")
        fresh = create_incident(session, ref="N-5", title="untriaged", category=IncidentCategory.PHISHING, actor="t")
        add_request(session, fresh, cloud, actor="t")


def test_notifications_arrive_over_starttls_in_each_language(tmp_path, backend, smtp_server, certificate, monkeypatch):
    controller, inbox = smtp_server
    ws = _workspace(tmp_path, backend, controller.port, certificate[0])
    monkeypatch.setenv("TEST_SITREP_SMTP_PW", PASSWORD)
    _seed(ws)
    report = send_notifications(Desk.open(ws), actor="duty")
    assert [s["partner"] for s in report.sent] == ["阿里云", "JPCERT/CC"]
    assert report.skipped == [{"kind": "request", "partner": "无邮箱机构", "reason": "no e-mail address"}]
    assert len(inbox.messages) == 2
    by_rcpt = {rcpts[0]: email.message_from_bytes(raw, policy=policy.default) for _, rcpts, raw in inbox.messages}
    zh = by_rcpt["abuse@aliyun.example.cn"]
    assert zh["Subject"] == "[TLP:AMBER] CNCERT 网络安全事件协调处置请求（2起）"
    body = zh.get_body(("plain",)).get_content()
    assert "请协助核实并处置" in body and "N-1" in body and "N-2" in body and "N-5" not in body
    attachment = next(zh.iter_attachments())
    assert attachment.get_content_type() == "text/csv"
    rows = list(csv.DictReader(io.StringIO(attachment.get_payload(decode=True).decode("utf-8-sig"))))
    assert [(r["ref"], r["asset"]) for r in rows] == [
        ("N-1", "http://icbc-login.example.cn/a"),
        ("N-1", "203.0.113.5"),
        ("N-2", "http://taobao-gift.example.cn/"),
    ]
    en = by_rcpt["info@jpcert.example.jp"]
    assert en["Subject"] == "[TLP:AMBER] CNCERT/CC request for incident handling (1 incident)"
    assert "Please verify and take action" in en.get_body(("plain",)).get_content()
    with session_scope(ws) as session:
        incidents = {i.ref: i for i in session.scalars(select(Incident))}
        for ref in ("N-1", "N-2", "N-3"):
            assert incidents[ref].requests[0].sent_at is not None
            assert incidents[ref].status == "coordinating"
        assert incidents["N-4"].requests[0].sent_at is None
        assert incidents["N-5"].requests[0].sent_at is None and incidents["N-5"].status == "new"
    # Nothing is pending any more: a second run sends nothing.
    assert send_notifications(Desk.open(ws), actor="duty").sent == []
    assert len(inbox.messages) == 2


def test_missing_password_variable_is_a_clear_error(tmp_path, smtp_server, certificate, monkeypatch):
    controller, inbox = smtp_server
    ws = _workspace(tmp_path, "", controller.port, certificate[0])
    monkeypatch.delenv("TEST_SITREP_SMTP_PW", raising=False)
    _seed(ws)
    with pytest.raises(NotifyError, match="TEST_SITREP_SMTP_PW"):
        send_notifications(Desk.open(ws), actor="duty")
    assert inbox.messages == []


def test_wrong_password_is_refused_and_nothing_is_recorded(tmp_path, smtp_server, certificate, monkeypatch):
    controller, _ = smtp_server
    ws = _workspace(tmp_path, "", controller.port, certificate[0])
    monkeypatch.setenv("TEST_SITREP_SMTP_PW", "wrong")
    _seed(ws)
    with pytest.raises(NotifyError, match="cannot use the SMTP relay"):
        send_notifications(Desk.open(ws), actor="duty")
    with session_scope(ws) as session:
        assert all(r.sent_at is None for i in session.scalars(select(Incident)) for r in i.requests)


def test_an_untrusted_certificate_is_refused(tmp_path, smtp_server, certificate, monkeypatch):
    controller, inbox = smtp_server
    ws = make_workspace(
        tmp_path / "ws",
        None,
        smtp={
            "host": "127.0.0.1",
            "port": controller.port,
            "username": USER,
            "password_env": "TEST_SITREP_SMTP_PW",
        },
    )
    monkeypatch.setenv("TEST_SITREP_SMTP_PW", PASSWORD)
    _seed(ws)
    with pytest.raises(NotifyError, match="CERTIFICATE_VERIFY_FAILED"):
        send_notifications(Desk.open(ws), actor="duty")
    assert inbox.messages == []


def test_dry_run_writes_eml_files_and_records_nothing(tmp_path, backend):
    ws = make_workspace(tmp_path / "ws", backend or None)
    _seed(ws)
    outbox = tmp_path / "outbox"
    report = send_notifications(Desk.open(ws), actor="duty", dry_run=True, out_dir=outbox)
    files = sorted(outbox.glob("*.eml"))
    assert len(files) == 2 and report.dry_run
    messages = [email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]
    assert {m["To"].addresses[0].addr_spec for m in messages} == {
        "abuse@aliyun.example.cn",
        "info@jpcert.example.jp",
    }
    assert all(any(True for _ in m.iter_attachments()) for m in messages)
    with session_scope(ws) as session:
        assert all(r.sent_at is None for i in session.scalars(select(Incident)) for r in i.requests)
        assert {i.status for i in session.scalars(select(Incident)) if i.ref != "N-5"} == {"triaged"}


def _server_workspace(tmp_path, backend, controller, certificate, monkeypatch):
    monkeypatch.setenv("TEST_SITREP_SMTP_PW", PASSWORD)
    return _workspace(tmp_path, backend, controller.port, certificate[0])


def test_one_refused_partner_is_reported_and_the_others_are_sent(
    tmp_path, backend, smtp_server, certificate, monkeypatch
):
    controller, inbox = smtp_server
    ws = _server_workspace(tmp_path, backend, controller, certificate, monkeypatch)
    with session_scope(ws) as session:
        # Created first, so it is mailed first: the partners after it must still be mailed.
        upsert_partner(
            session,
            PartnerSpec.build(name="一个拒收的", type=PartnerType.CLOUD, email="refused@x.example.cn"),
            actor="t",
        )
    _seed(ws)
    with session_scope(ws) as session:
        broken = session.scalars(select(Partner).where(Partner.name == "一个拒收的")).one()
        incident = create_incident(session, ref="N-0", title="t", category=IncidentCategory.PHISHING, actor="t")
        add_request(session, incident, broken, actor="t")
        transition(session, incident, Status.TRIAGED, actor="t")
    report = send_notifications(Desk.open(ws), actor="duty")
    assert [f["partner"] for f in report.failed] == ["一个拒收的"]
    assert "not accepted by the relay" in report.failed[0]["reason"] and "no such mailbox" in report.failed[0]["reason"]
    assert [s["partner"] for s in report.sent] == ["阿里云", "JPCERT/CC"]
    assert len(inbox.messages) == 2
    with session_scope(ws) as session:
        incidents = {i.ref: i for i in session.scalars(select(Incident))}
        assert incidents["N-0"].requests[0].sent_at is None and incidents["N-0"].status == "triaged"
        assert incidents["N-1"].requests[0].sent_at is not None


def test_overdue_requests_get_a_reminder_every_reminder_hours(tmp_path, backend, smtp_server, certificate, monkeypatch):
    controller, inbox = smtp_server
    ws = _server_workspace(tmp_path, backend, controller, certificate, monkeypatch)
    _seed(ws)
    desk = Desk.open(ws)
    first = send_notifications(desk, actor="duty")
    assert [s["kind"] for s in first.sent] == ["request", "request"]
    # 阿里云 (cloud: 24 h) was mailed 30 hours ago, JPCERT/CC (120 h) too: only 阿里云's requests are overdue.
    with session_scope(ws) as session:
        for incident in session.scalars(select(Incident)):
            incident.reported_at = utcnow() - timedelta(days=3)
            for request in incident.requests:
                if request.sent_at is not None:
                    request.sent_at -= timedelta(hours=30)
                    request.due_at -= timedelta(hours=30)
    second = send_notifications(desk, actor="duty")
    assert [(s["kind"], s["partner"], s["incidents"]) for s in second.sent] == [("reminder", "阿里云", ["N-1", "N-2"])]
    reminder = email.message_from_bytes(inbox.messages[-1][2], policy=policy.default)
    assert reminder["Subject"] == "[TLP:AMBER] CNCERT 网络安全事件处置催办（2起）"
    assert "已超过处置时限" in reminder.get_body(("plain",)).get_content()
    with session_scope(ws) as session:
        reminded = [r.reminded_at for i in session.scalars(select(Incident)) for r in i.requests if r.reminded_at]
    assert len(reminded) == 2
    # Within [incidents] reminder_hours (24) nobody is reminded again; --no-reminders sends none at all.
    assert send_notifications(desk, actor="duty").sent == []
    assert send_notifications(desk, actor="duty", reminders=False).sent == []
    assert len(inbox.messages) == 3


def test_the_attachment_never_carries_a_live_formula(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    with session_scope(ws) as session:
        partner, _ = upsert_partner(
            session,
            PartnerSpec.build(name="阿里云", type=PartnerType.CLOUD, email="abuse@aliyun.example.cn"),
            actor="t",
        )
        for ref in ("=cmd|'/C calc'!A0", "+1+1", "-2", "@SUM(A1)", "plain"):
            incident = create_incident(session, ref=ref, title="t", category=IncidentCategory.PHISHING, actor="t")
            add_asset(session, incident, "http://x.example.cn/", actor="t")
            add_request(session, incident, partner, actor="t")
            transition(session, incident, Status.TRIAGED, actor="t")
    report = send_notifications(Desk.open(ws), actor="duty", dry_run=True, out_dir=tmp_path / "out")
    message = email.message_from_bytes(Path(report.sent[0]["file"]).read_bytes(), policy=policy.default)
    text = next(message.iter_attachments()).get_payload(decode=True).decode("utf-8-sig")
    refs = [row["ref"] for row in csv.DictReader(io.StringIO(text))]
    assert refs == ["'=cmd|'/C calc'!A0", "'+1+1", "'-2", "'@SUM(A1)", "plain"]


def test_the_cli_notifies_one_partner_when_named(tmp_path, backend):
    ws = make_workspace(tmp_path / "ws", backend or None)
    _seed(ws)
    outbox = tmp_path / "outbox"
    base = ["--home", str(ws.root), "incidents", "notify", "--dry-run", "--out", str(outbox)]
    result = CliRunner().invoke(app, [*base, "--partner", "JPCERT/CC"])
    assert result.exit_code == 0, result.output
    files = list(outbox.glob("*.eml"))
    assert len(files) == 1
    message = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert message["To"].addresses[0].addr_spec == "info@jpcert.example.jp"
    unknown = CliRunner().invoke(app, [*base, "--partner", "无此伙伴"])
    assert unknown.exit_code == 2 and "无此伙伴" in unknown.output and "Traceback" not in unknown.output
