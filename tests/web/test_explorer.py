"""The event explorer through HTTP: the search form and its errors on the page, cursor pages, CSV and
Parquet downloads (formula cells neutralised), the events behind a dashboard number, and hostile feed
values shown as text."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from markupsafe import escape

from helpers import write_events
from sitrep.accounts import service as accounts
from sitrep.incidents import service
from sitrep.incidents.db import open_store
from sitrep.incidents.desk import Desk
from sitrep.web.app import create_app
from sitrep.workspace import init_workspace

from .conftest import HOSTILE, PASSWORD, RunningDesk, client, csrf_of, login
from .serving import serve

WEEK = "2025-W01"  # [2024-12-29T16:00Z, 2025-01-05T16:00Z) in Asia/Shanghai
MID = datetime(2025, 1, 2, 8, 0, tzinfo=UTC)
FORMULA = "=cmd|'/C calc'!A0"
PHISHING = 5
INFECTED = 7


def _events() -> list[dict]:
    phishing = [
        {
            "time_source": MID + timedelta(minutes=i),
            "source_ip": f"10.1.2.{i}",
            "source_url": f"http://phish.example.com/{i}{HOSTILE}",
            "site": "phish.example.com",
            "classification_taxonomy": "fraud",
            "classification_type": "phishing",
            "malware_name": FORMULA,
            "tlp": "AMBER",
        }
        for i in range(PHISHING)
    ]
    infected = [
        {
            "time_source": MID - timedelta(hours=i + 1),
            "source_ip": f"192.0.2.{i}",
            "classification_taxonomy": "malicious-code",
            "classification_type": "infected-system",
            "domestic": True,
        }
        for i in range(INFECTED)
    ]
    return phishing + infected


@pytest.fixture(scope="module")
def explorer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDesk]:
    ws = init_workspace(Path(tmp_path_factory.mktemp("explorer")) / "ws")
    accounts.add_user(open_store(ws), "viewer", "viewer", PASSWORD)
    write_events(ws, _events())
    with serve(create_app(ws)) as url:
        yield RunningDesk(url, ws, None)  # type: ignore[arg-type]


def _rows(text: str) -> list[str]:
    """The event IDs of a page's table, in order."""
    return [part.split("</code>")[0] for part in text.split("<td><code>")[1:]]


def _no_markup(text: str) -> None:
    assert "<img src=x" not in text and "<script>alert" not in text and "Traceback" not in text


def test_a_viewer_searches_and_hostile_values_are_text(explorer):
    browser = login(explorer, "viewer")
    page = browser.get("/events", params={"week": WEEK, "class": "fraud/phishing"})
    assert page.status_code == 200, page.text
    _no_markup(page.text)
    assert len(_rows(page.text)) == PHISHING
    assert "http://phish.example.com/4&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in page.text
    assert "AMBER" in page.text and 'value="fraud/phishing"' in page.text
    by_ip = browser.get("/events", params={"week": WEEK, "ip": "192.0.2.0/30"})
    assert len(_rows(by_ip.text)) == by_ip.text.count("<td>192.0.2.") == 4 and "10.1.2." not in by_ip.text
    assert client(explorer).get("/events", headers={"accept": "text/html"}).status_code == 303  # logged out


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"ip": "10.0.0.0/33"}, "is not an IP address or a network"),
        ({"start": "2025-01-01"}, "has a start but no end"),
        ({"start": "2024-01-01", "end": "2025-01-01"}, "a search covers at most 31 days"),
        ({"week": WEEK, "after": "not-a-cursor"}, "cursor"),
        ({"week": WEEK, "limit": "many"}, "limit 'many' is not a number"),
        ({"week": WEEK, "tlp": HOSTILE}, "is not a TLP label"),
    ],
)
def test_a_refused_search_is_shown_on_the_page(explorer, params, message):
    page = login(explorer, "viewer").get("/events", params=params)
    assert page.status_code == 400
    assert message in page.text.replace("&#39;", "'")
    assert 'name="ip"' in page.text  # the form is still there, as filled in
    _no_markup(page.text)


def test_pages_follow_the_cursor_without_repeats(explorer):
    browser = login(explorer, "viewer")
    seen: list[str] = []
    link: str | None = f"/events?week={WEEK}&limit=5"
    pages = 0
    while link and pages < 10:
        page = browser.get(link)
        assert page.status_code == 200
        seen += _rows(page.text)
        pages += 1
        found = re.search(r'<a href="([^"]+)" rel="next">', page.text)
        link = html.unescape(found.group(1)) if found else None
    assert pages == 3 and len(seen) == len(set(seen)) == PHISHING + INFECTED
    assert "已是最后一页" in page.text and "← 第一页" in page.text


def test_exports_stream_every_match_with_formulas_neutralised(explorer):
    browser = login(explorer, "viewer")
    params = {"week": WEEK, "class": "fraud", "limit": "1"}
    response = browser.get("/events/export.csv", params=params)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == PHISHING == int(response.headers["x-sitrep-events"])  # every page, not one
    assert {r["malware_name"] for r in rows} == {"'" + FORMULA}
    parquet = browser.get("/events/export.parquet", params=params)
    assert parquet.content[:4] == b"PAR1"
    table = pq.read_table(io.BytesIO(parquet.content))
    assert table.num_rows == PHISHING and set(table.column("malware_name").to_pylist()) == {FORMULA}
    refused = browser.get("/events/export.csv", params={"ip": "300.1.1.1"})
    assert refused.status_code == 400 and "300.1.1.1" in refused.text
    assert browser.get("/events/export.xlsx", params=params).status_code == 400


def test_the_events_behind_a_dashboard_number(explorer):
    browser = login(explorer, "viewer")
    dashboard = browser.get("/", params={"week": WEEK})
    link = f"/events/behind?week={WEEK}&amp;number=infected_hosts"
    assert link in dashboard.text
    page = browser.get(link.replace("&amp;", "&"))
    assert page.status_code == 200, page.text
    assert f"共 {INFECTED} 条事件" in page.text and "草稿" in page.text
    assert len(_rows(page.text)) == page.text.count("<td>192.0.2.") == INFECTED
    unknown = browser.get("/events/behind", params={"week": WEEK, "number": HOSTILE})
    assert unknown.status_code == 400 and "no number" in unknown.text
    _no_markup(unknown.text)


def test_the_language_switch_keeps_the_page_and_its_query(explorer):
    accounts.add_user(open_store(explorer.workspace), "switcher", "viewer", PASSWORD)
    browser = login(explorer, "switcher")
    search = f"/events?domain=phish.example.com&week={WEEK}&limit=2"
    page = browser.get(search)
    kept = html.unescape(re.search(r'name="next" value="([^"]*)"', page.text).group(1))
    assert kept == search
    token = csrf_of(page.text)
    switched = browser.post("/language", data={"csrf_token": token, "lang": "en", "next": kept})
    assert switched.status_code == 303 and switched.headers["location"] == search
    back = browser.get(switched.headers["location"])
    assert "Source IP" in back.text and len(_rows(back.text)) == 2 and 'rel="next"' in back.text
    for elsewhere in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "/x\r\nSet-Cookie: a=b"):
        refused = browser.post("/language", data={"csrf_token": token, "lang": "zh", "next": elsewhere})
        assert refused.status_code == 303 and refused.headers["location"] == "/"


def test_event_ids_link_to_the_explorer_and_event_pages_name_their_incidents(explorer):
    desk = Desk.open(explorer.workspace)
    linked = ["fixture-0000", "fixture-0003"]  # two of the phishing events
    service.add_incident(
        desk, title=f"钓鱼{HOSTILE}", category="phishing", actor="t", ref="EXP-1", reported_at=MID, events=linked
    )
    browser = login(explorer, "viewer")
    page = browser.get("/incidents/EXP-1")
    links = re.findall(r'<li><a href="(/events\?[^"]+)"><code>([^<]+)</code></a>', page.text)
    assert sorted(event for _, event in links) == linked
    for link, event in links:
        found = browser.get(html.unescape(link))
        assert found.status_code == 200 and _rows(found.text) == [event]
        assert 'value="' + event + '"' in found.text  # the search form shows what it looked for
        assert '<br><a class="incident-ref" href="/incidents/EXP-1">EXP-1</a></td>' in found.text
    phishing = browser.get("/events", params={"week": WEEK, "class": "fraud"})
    assert "本页事件关联的事件单（1 起）" in phishing.text and escape(f"钓鱼{HOSTILE}") in phishing.text
    assert phishing.text.count('<a class="incident-ref" href="/incidents/EXP-1">') == len(linked)
    _no_markup(phishing.text)
    # The events behind a number name the incidents too: link the oldest infected host event.
    service.update_incident(desk, "EXP-1", service.IncidentChanges(events=["fixture-0011"]), actor="t")
    behind = browser.get("/events/behind", params={"week": WEEK, "number": "infected_hosts"})
    assert "本页事件关联的事件单（1 起）" in behind.text
    assert behind.text.count('<a class="incident-ref" href="/incidents/EXP-1">') == 1
    unlinked = browser.get("/events/behind", params={"week": WEEK, "number": "infected_hosts", "limit": "1"})
    assert _rows(unlinked.text) == ["fixture-0005"] and "本页事件关联的事件单" not in unlinked.text
    bad = browser.get("/events", params={"event": "a\tb", "week": WEEK})
    assert bad.status_code == 400 and "is not an event ID" in bad.text
