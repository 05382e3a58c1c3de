"""The coordination ledger through HTTP: what a viewer sees, sending refused to a viewer and without
the CSRF token, one partner's notification written to the outbox ([smtp] left at its defaults), and
hostile partner names and titles shown as text."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from sitrep.accounts import service as accounts
from sitrep.config import Workspace
from sitrep.incidents import service
from sitrep.incidents.db import open_store
from sitrep.incidents.desk import Desk
from sitrep.web.app import create_app
from sitrep.workspace import init_workspace

from .conftest import HOSTILE, PASSWORD, RunningDesk, csrf_of, login
from .serving import serve

PENDING = f"阿里云{HOSTILE}"  # a partner with a request waiting to be sent
LATE = "Registrar B"  # a partner with an overdue request
QUIET = "Nobody Asked"  # a partner with no request


@dataclass(frozen=True)
class Ledger:
    desk: RunningDesk
    outbox: Path


def _populate(ws: Workspace) -> None:
    store = open_store(ws)
    for role in ("analyst", "viewer"):
        accounts.add_user(store, role, role, PASSWORD)
    desk = Desk.open(ws)
    service.add_partner(desk, PENDING, "cloud", actor="test", email="abuse@cloud.example", language="zh")
    service.add_partner(desk, LATE, "registrar", actor="test", email="abuse@registrar.example", language="en")
    service.add_partner(desk, QUIET, "other", actor="test", email="x@quiet.example")
    service.add_incident(
        desk, title=f"仿冒{HOSTILE}", category="phishing", actor="test", ref="INC-P-1", partner_names=[PENDING]
    )
    service.update_incident(desk, "INC-P-1", service.IncidentChanges(status="triaged"), actor="test")
    sent = datetime.now(UTC) - timedelta(days=3)
    service.add_incident(
        desk, title="Late takedown", category="phishing", actor="test", ref="INC-L-1", reported_at=sent
    )
    service.update_incident(
        desk,
        "INC-L-1",
        service.IncidentChanges(status="triaged", partner=LATE, sent=sent, due=sent + timedelta(hours=4)),
        actor="test",
    )


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    ws = init_workspace(Path(tmp_path_factory.mktemp("ledger")) / "ws")
    _populate(ws)
    with serve(create_app(ws)) as url:
        yield Ledger(RunningDesk(url, ws, None), ws.root / "outbox")  # type: ignore[arg-type]


def test_a_viewer_sees_every_partner_with_what_is_pending_and_overdue(ledger):
    browser = login(ledger.desk, "viewer")
    page = browser.get("/ledger")
    assert page.status_code == 200, page.text
    text = page.text
    assert "协调台账" in text and "请求 1，催办 0" in text  # the pending request of PENDING
    assert "INC-L-1" in text and "Late takedown" in text  # LATE's overdue request
    assert "阿里云&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in text
    assert "<img src=x" not in text and "<script>alert" not in text
    assert "另有 1 个协调对象没有相关请求" in text and QUIET not in text
    assert 'action="/ledger/notify"' not in text  # a viewer gets no send button
    card = browser.get("/ledger", params={"weeks": 2})
    assert card.status_code == 200 and "共 2 周" in card.text
    assert browser.get("/ledger", params={"weeks": 0}).status_code == 400


def test_the_partner_page_lists_its_requests_in_either_language(ledger):
    browser = login(ledger.desk, "analyst")
    page = browser.get("/ledger/partner", params={"name": LATE})
    assert page.status_code == 200
    assert "INC-L-1" in page.text and "已逾期" in page.text and "待发送的催办：INC-L-1" in page.text
    assert 'action="/ledger/notify"' in page.text and "生成通知邮件" in page.text  # no [smtp]: the outbox
    token = csrf_of(page.text)
    browser.post("/language", data={"lang": "en", "next": "/", "csrf_token": token})
    english = browser.get("/ledger/partner", params={"name": LATE})
    assert "Reminders to send: INC-L-1" in english.text and "overdue" in english.text
    assert "[smtp] of sitrep.toml is not set up" in english.text
    browser.post("/language", data={"lang": "zh", "next": "/", "csrf_token": token})
    unknown = browser.get("/ledger/partner", params={"name": "No Such Partner"})
    assert unknown.status_code == 400 and "No Such Partner" in unknown.text


def test_sending_is_refused_to_a_viewer_and_without_the_csrf_token(ledger):
    viewer = login(ledger.desk, "viewer")
    token = csrf_of(viewer.get("/ledger").text)
    refused = viewer.post("/ledger/notify", data={"partner": LATE, "csrf_token": token})
    assert refused.status_code == 403 and "notify_partners" in refused.text
    analyst = login(ledger.desk, "analyst")
    forged = analyst.post("/ledger/notify", data={"partner": LATE, "csrf_token": token})  # the viewer's token
    assert forged.status_code == 403 and "表单已过期" in forged.text
    assert analyst.post("/ledger/notify", data={"partner": LATE}).status_code == 403
    assert not ledger.outbox.exists() or not list(ledger.outbox.glob("*reminder-Registrar-B.eml"))


def test_one_partner_is_notified_into_the_outbox_and_nothing_is_recorded(ledger):
    browser = login(ledger.desk, "analyst")
    before = set(ledger.outbox.glob("*.eml")) if ledger.outbox.exists() else set()
    token = csrf_of(browser.get("/ledger").text)
    done = browser.post("/ledger/notify", data={"partner": PENDING, "csrf_token": token})
    assert done.status_code == 200, done.text
    assert "邮件未发出，已写入" in done.text and str(ledger.outbox) in done.text
    assert "<img src=x" not in done.text
    written = set(ledger.outbox.glob("*.eml")) - before
    assert len(written) == 1  # only PENDING's message, not LATE's reminder
    (eml,) = written
    assert str(eml) in done.text
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert "abuse@cloud.example" in message["To"] and "INC-P-1" in message.get_body().get_content()
    # A dry run records nothing: the request is still waiting to be sent.
    assert "请求 1，催办 0" in browser.get("/ledger").text
    unknown = browser.post("/ledger/notify", data={"partner": "No Such Partner", "csrf_token": token})
    assert unknown.status_code == 400 and "No Such Partner" in unknown.text
