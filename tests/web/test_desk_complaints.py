"""Complaint mails on the web desk, under a real Uvicorn server of its own: a complaint's proposal in the
week's proposals queue, its mails on the incident's page (escaped), and the ``.eml`` to download."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sitrep.accounts import service as accounts
from sitrep.incidents.complaints import take_complaint
from sitrep.incidents.db import close_stores, open_store
from sitrep.incidents.desk import Desk
from sitrep.web.app import create_app
from sitrep.weeks import Week
from sitrep.workspace import init_workspace

from .conftest import PASSWORD, RunningDesk, login
from .serving import serve

MAILS = Path(__file__).parents[1] / "incidents" / "data" / "complaints"
RECEIVED = datetime(2025, 1, 17, 2, 0, tzinfo=UTC)


@pytest.fixture
def desk_site(tmp_path) -> Iterator[tuple[RunningDesk, Desk]]:
    ws = init_workspace(tmp_path / "ws")
    accounts.add_user(open_store(ws), "viewer", "viewer", PASSWORD)
    with serve(create_app(ws)) as url:
        yield RunningDesk(url, ws, Week(2025, 3)), Desk.open(ws)
    close_stores()


def test_a_complaint_is_in_the_proposals_queue_and_its_mail_on_the_incident_page(desk_site):
    site, desk = desk_site
    raw = (MAILS / "html-script.eml").read_bytes()
    outcome = take_complaint(desk, raw, source="abuse-mailbox", received_at=RECEIVED)
    browser = login(site, "viewer")
    queue = browser.get("/incidents/proposals", params={"week": "2025-W03"})
    assert queue.status_code == 200 and outcome.incident in queue.text
    assert "http://alipay-login.example.com/auth" in queue.text
    page = browser.get(f"/incidents/{outcome.incident}")
    assert page.status_code == 200
    assert "Wang Wu &lt;wangwu@example.org&gt;" in page.text
    body = page.text.split("</head>", 1)[1]
    assert "<script" not in body and "document.cookie" not in body and "onerror" not in body
    link = f"/incidents/{outcome.incident}/mail/{outcome.sha256}.eml"
    assert f'href="{link}"' in page.text
    mail = browser.get(link)
    assert mail.status_code == 200 and mail.content == raw
    assert mail.headers["content-type"] == "message/rfc822"
    assert mail.headers["content-disposition"] == f'attachment; filename="{outcome.sha256}.eml"'
    assert browser.get(f"/incidents/{outcome.incident}/mail/{'0' * 64}.eml").status_code == 404
    assert browser.get(f"/incidents/P-nothing/mail/{outcome.sha256}.eml").status_code == 404


def test_the_queue_opens_on_this_week_while_complaints_received_in_it_await_triage(desk_site):
    site, desk = desk_site
    browser = login(site, "viewer")
    last = Week.last_complete(desk.tz)
    assert f'value="{last}"' in browser.get("/incidents/proposals").text  # nothing waits: the last week
    outcome = take_complaint(desk, (MAILS / "phishing-defanged.eml").read_bytes(), source="abuse")
    assert outcome.incident.startswith(f"P-{last + 1}-")
    queue = browser.get("/incidents/proposals")
    assert queue.status_code == 200 and outcome.incident in queue.text and f'value="{last + 1}"' in queue.text
