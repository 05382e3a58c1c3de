"""The web desk under a real Uvicorn server on a free loopback port, started once for the session.

Its workspace holds users of every role, a partner and incidents whose text is hostile markup (one
with an overdue coordination request, one resolved in the published week), and one published issue.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from sitrep.accounts import service as accounts
from sitrep.accounts.roles import Action
from sitrep.config import Workspace
from sitrep.incidents import service
from sitrep.incidents.db import close_stores, open_store
from sitrep.incidents.desk import Desk
from sitrep.report.publish import publish
from sitrep.web.app import create_app
from sitrep.web.auth import needs
from sitrep.weeks import Week
from sitrep.workspace import init_workspace

from .serving import serve

HOSTILE = '"><img src=x onerror=alert(1)><script>alert(2)</script>'
PASSWORD = "a long enough password"
ROLES = ("admin", "analyst", "publisher", "viewer")


@dataclass(frozen=True)
class RunningDesk:
    url: str
    workspace: Workspace
    week: Week


def _populate(ws: Workspace) -> Week:
    store = open_store(ws)
    for role in ROLES:
        accounts.add_user(store, role, role, PASSWORD)
    desk = Desk.open(ws)
    service.add_partner(desk, f"阿里云{HOSTILE}", "cloud", actor="test", email="abuse@example.com")
    week = Week.last_complete(ws.timezone) - 1
    sent = datetime.combine(week.monday, datetime.min.time(), tzinfo=UTC) + timedelta(hours=10)
    service.add_incident(
        desk,
        title=f"仿冒{HOSTILE}",
        category="phishing",
        actor="test",
        ref="INC-HOSTILE-1",
        partner_names=[f"阿里云{HOSTILE}"],
        reported_at=sent - timedelta(hours=1),
        tlp="CLEAR",
    )
    service.update_incident(
        desk,
        "INC-HOSTILE-1",
        service.IncidentChanges(partner=f"阿里云{HOSTILE}", sent=sent, due=sent + timedelta(hours=4)),
        actor="test",
    )
    service.add_incident(
        desk,
        title=f"已处理{HOSTILE}",
        category="phishing",
        actor="test",
        ref="INC-HOSTILE-2",
        reported_at=sent,
        tlp="CLEAR",
    )
    for step in ("triaged", "coordinating"):  # the way to resolved
        changes = service.IncidentChanges(status=step, at=sent + timedelta(hours=1))
        service.update_incident(desk, "INC-HOSTILE-2", changes, actor="test")
    resolved = service.resolve_incidents(desk, ["INC-HOSTILE-2"], actor="test", at=sent + timedelta(hours=2))
    assert resolved.closed == ["INC-HOSTILE-2"], resolved.refused
    publish(ws, week, force_reason="web tests: a week without feeds")
    return week


@pytest.fixture(scope="session")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDesk]:
    """The running desk: its base URL, workspace and published week."""
    ws = init_workspace(Path(tmp_path_factory.mktemp("web")) / "ws")
    week = _populate(ws)
    app = create_app(ws)
    # An analyst-only route (the desk's edit pages are still to come) for the role test.
    app.get("/probe/edit", dependencies=[needs(Action.EDIT_INCIDENTS)])(lambda: {"ok": True})
    with serve(app) as url:
        yield RunningDesk(url, ws, week)
    close_stores()


def csrf_of(page: str) -> str:
    """The CSRF token of the first form of a page."""
    marker = 'name="csrf_token" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


def client(web: RunningDesk) -> httpx.Client:
    return httpx.Client(base_url=web.url, follow_redirects=False, timeout=60)


def login(web: RunningDesk, name: str, password: str = PASSWORD) -> httpx.Client:
    """A browser logged in as ``name``."""
    browser = client(web)
    token = csrf_of(browser.get("/login").text)
    response = browser.post("/login", data={"name": name, "password": password, "csrf_token": token})
    assert response.status_code == 303, response.text
    return browser
