"""The acknowledgement of a complaint, through a real SMTP server on loopback (aiosmtpd): sent with the
ref to the reporter, never to automatic mail, lists, bounces, ourselves or a loop."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiosmtpd.controller import Controller

from sitrep.incidents import service
from sitrep.incidents.complaints import take_complaint
from sitrep.incidents.desk import Desk
from smtp_inbox import Inbox

from .conftest import DATA, free_port, make_workspace

MAILS = DATA / "complaints"
RECEIVED = datetime(2025, 1, 17, 2, 0, tzinfo=UTC)


@pytest.fixture
def relay():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port, inbox
    controller.stop()


def _desk(tmp_path, port: int, **complaints) -> Desk:
    smtp = {"host": "127.0.0.1", "port": port, "starttls": False, "sender": "abuse@cert.example.cn"}
    rules = {"auto_reply": True, "own_addresses": ["report@cert.example.cn"], **complaints}
    return Desk.open(make_workspace(tmp_path / "ws", smtp=smtp, incidents={"complaints": rules}))


def _take(desk: Desk, raw: bytes):
    return take_complaint(desk, raw, source="abuse-mailbox", received_at=RECEIVED)


def test_the_reporter_gets_the_ref_and_nothing_of_the_complaint(tmp_path, relay):
    port, inbox = relay
    desk = _desk(tmp_path, port)
    outcome = _take(desk, (MAILS / "phishing-defanged.eml").read_bytes())
    [(envelope_from, recipients, _)] = inbox.messages
    [reply] = inbox.parsed()
    assert (envelope_from, recipients) == ("abuse@cert.example.cn", ["zhangsan@example.cn"])
    assert reply["Subject"] == f"[{outcome.incident}] 已收到您的报告 / Report received"
    assert reply["To"] == "zhangsan@example.cn"
    assert reply["Auto-Submitted"] == "auto-replied"
    assert reply["In-Reply-To"] == "<20250107091500.4711@mail.example.cn>"
    assert "sitrep-ack" in reply["Message-ID"]
    body = reply.get_content()
    assert outcome.incident in body and "tracking reference" in body
    assert "icbc" not in body and "举报" not in body  # nothing of the complaint is sent back
    assert outcome.reply == f"sent to zhangsan@example.cn ({reply['Message-ID'].strip()})"
    detail = service.show_incident(desk, outcome.incident)
    assert detail["complaints"][0]["reply"] == outcome.reply
    assert any(e["field"] == "complaint.reply" and e["new"] == outcome.reply for e in detail["audit"])


def test_a_mail_attached_to_an_open_incident_is_acknowledged_with_that_ref(tmp_path, relay):
    port, inbox = relay
    desk = _desk(tmp_path, port)
    first = _take(desk, (MAILS / "phishing-defanged.eml").read_bytes())
    follow = _take(desk, (MAILS / "follow-up-same-url.eml").read_bytes())
    assert follow.action == "attached"
    reply = inbox.parsed()[-1]
    assert reply["To"] == "lisi@example.net" and f"[{first.incident}]" in reply["Subject"]
    assert "added it to a case already being handled" in reply.get_content()


def _with_headers(headers: bytes) -> bytes:
    return headers + b"To: abuse@cert.example.cn\nSubject: phishing\n\nhxxp://x-phish[.]example[.]com/\n"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ((MAILS / "auto-generated-report.eml").read_bytes(), "sent automatically (Auto-Submitted: auto-generated)"),
        ((MAILS / "mailing-list.eml").read_bytes(), "bulk mail (Precedence: list)"),
        (
            _with_headers(b"From: a@example.com\nList-Id: <l.example.com>\nMessage-ID: <l1@example.com>\n"),
            "mailing list",
        ),
        (_with_headers(b"From: a@example.com\nX-Auto-Response-Suppress: OOF, AutoReply\n"), "asks for no automatic"),
        (_with_headers(b"From: postmaster@example.com\n"), "comes from a mail system"),
        (_with_headers(b"From: Us <ABUSE@cert.example.cn>\n"), "our own address"),
        (_with_headers(b"From: Us <report@cert.example.cn>\n"), "our own address"),
        (_with_headers(b"From: nobody\n"), "no sender address"),
        (
            _with_headers(b"From: bot@example.com\nIn-Reply-To: <1.2.3.sitrep-ack@cert.example.cn>\n"),
            "answers one of our acknowledgements",
        ),
    ],
)
def test_automatic_list_and_own_mail_gets_no_acknowledgement(tmp_path, relay, raw, reason):
    port, inbox = relay
    desk = _desk(tmp_path, port)
    outcome = _take(desk, raw)
    assert outcome.action == "proposed"
    assert outcome.reply.startswith("not sent: ") and reason in outcome.reply
    assert inbox.messages == []


@pytest.mark.parametrize("name", ["auto-reply.eml", "bounce.eml"])
def test_an_automatic_answer_is_quarantined_and_never_answered(tmp_path, relay, name):
    port, inbox = relay
    outcome = _take(_desk(tmp_path, port), (MAILS / name).read_bytes())
    assert outcome.action == "quarantined" and outcome.reply is None
    assert inbox.messages == []


def test_a_sender_gets_at_most_the_daily_number_of_acknowledgements(tmp_path, relay):
    port, inbox = relay
    desk = _desk(tmp_path, port, replies_per_sender_per_day=2)
    outcomes = [
        _take(desk, _with_headers(f"From: loop@example.com\nMessage-ID: <m{i}@example.com>\n".encode()))
        for i in range(3)
    ]
    assert [o.reply.split(" ")[0] for o in outcomes] == ["sent", "sent", "not"]
    assert "already got 2 acknowledgements in 24 hours" in outcomes[2].reply
    assert len(inbox.messages) == 2


def test_an_injected_header_never_reaches_the_acknowledgement(tmp_path, relay):
    port, inbox = relay
    outcome = _take(_desk(tmp_path, port), (MAILS / "header-injection.eml").read_bytes())
    [(_, recipients, raw)] = inbox.messages
    assert recipients == ["attacker@example.com"]
    assert b"Bcc" not in raw and b"victim" not in raw
    assert outcome.reply.startswith("sent to attacker@example.com")


def test_an_unreachable_relay_leaves_the_incident_and_says_why(tmp_path):
    desk = _desk(tmp_path, free_port())
    outcome = _take(desk, (MAILS / "gb2312-base64.eml").read_bytes())
    assert outcome.action == "proposed"
    assert outcome.reply.startswith("not sent: ") and "refused the connection" in outcome.reply
    assert service.show_incident(desk, outcome.incident)["complaints"][0]["reply"] == outcome.reply


def test_acknowledgements_are_off_unless_configured(tmp_path, relay):
    port, inbox = relay
    smtp = {"host": "127.0.0.1", "port": port, "starttls": False}
    desk = Desk.open(make_workspace(tmp_path / "ws", smtp=smtp))
    outcome = _take(desk, (MAILS / "gb2312-base64.eml").read_bytes())
    assert outcome.reply is None and inbox.messages == []
    forced = take_complaint(
        desk, (MAILS / "malware-attachment.eml").read_bytes(), source="intake", received_at=RECEIVED, auto_reply=True
    )
    assert forced.reply.startswith("sent to ops@example.com.cn") and len(inbox.messages) == 1
