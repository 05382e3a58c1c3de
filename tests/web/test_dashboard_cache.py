"""The dashboard keeps the week's report and check between requests, and never shows an old number:
an ingest, an incident change, a publication or a withdrawal makes it compute afresh; a login does not."""

from __future__ import annotations

import re
from pathlib import Path

from report.data import WEEK, build_workspace, week_events, write_events
from sitrep.accounts import service as accounts
from sitrep.incidents.db import close_stores, session_scope
from sitrep.incidents.desk import Desk
from sitrep.incidents.importer import import_incidents
from sitrep.report.publish import publish, unpublish
from sitrep.web.app import create_app
from sitrep.web.dashboard import Dashboard, DashboardCache, dashboard

from .conftest import PASSWORD, RunningDesk, login
from .serving import serve

LATE = (
    "ref,title,category,reported_at,resolved_at,status,partner,partner_type,asset,tlp\n"
    "LATE-1,迟到事件,phishing,2025-01-03T09:00,2025-01-03T10:00,resolved,阿里云万网,registrar,"
    "http://late.example.com/,CLEAR\n"
)


def _value(view: Dashboard, key: str) -> int:
    return next(line.row.value for line in view.indicators if line.row.key == key)


def _ingest_two_phishing_pages(ws) -> None:
    extra = [r for r in week_events(WEEK, planted=False, extra_phishing=2) if r["classification_type"] == "phishing"]
    write_events(ws, extra[-2:], "later")


def _resolve_one_more(ws, tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    path.write_text(LATE, encoding="utf-8")
    with session_scope(ws) as session:
        assert not import_incidents(session, path, workspace=ws, actor="t").rejects


def test_the_report_is_kept_until_an_input_changes(tmp_path):
    ws = build_workspace(tmp_path / "ws")
    desk, cache = Desk.open(ws), DashboardCache()
    try:
        first = dashboard(ws, desk, WEEK, "en", cache)
        assert dashboard(ws, desk, WEEK, "en", cache).report is first.report
        assert dashboard(ws, desk, WEEK, "zh", cache).report is not first.report  # by language
        assert _value(first, "phishing_pages") == 6 and first.report.published_at is None

        _ingest_two_phishing_pages(ws)
        ingested = dashboard(ws, desk, WEEK, "en", cache)
        assert _value(ingested, "phishing_pages") == 8 == _value(dashboard(ws, desk, WEEK, "en"), "phishing_pages")

        _resolve_one_more(ws, tmp_path)
        changed = dashboard(ws, desk, WEEK, "en", cache)
        assert changed.check.incidents_handled == ingested.check.incidents_handled + 1

        accounts.add_user(desk.store, "alice", "analyst", PASSWORD)  # not case data
        assert dashboard(ws, desk, WEEK, "en", cache).report is changed.report

        publish(ws, WEEK)
        published = dashboard(ws, desk, WEEK, "en", cache)
        assert published.report.published_at and published.report.revision == 1

        unpublish(ws, WEEK, reason="a number to correct")
        withdrawn = dashboard(ws, desk, WEEK, "en", cache)
        assert withdrawn.report.published_at is None and withdrawn.report is not changed.report
    finally:
        close_stores()


def _phishing_on_page(html: str) -> int:
    found = re.search(r'number=phishing_pages">([\d,]+)</a>', html)
    assert found, "no phishing pages number on the dashboard"
    return int(found.group(1).replace(",", ""))


def test_the_served_dashboard_shows_the_new_numbers_after_an_ingest(tmp_path):
    ws = build_workspace(tmp_path / "ws")
    try:
        accounts.add_user(Desk.open(ws).store, "duty", "viewer", PASSWORD)
        with serve(create_app(ws)) as url:
            browser = login(RunningDesk(url, ws, WEEK), "duty")
            assert _phishing_on_page(browser.get(f"/?week={WEEK}").text) == 6
            assert _phishing_on_page(browser.get(f"/?week={WEEK}").text) == 6
            _ingest_two_phishing_pages(ws)
            assert _phishing_on_page(browser.get(f"/?week={WEEK}").text) == 8
    finally:
        close_stores()
