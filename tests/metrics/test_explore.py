"""The event explorer on hand-made lakes: each filter, the time bound, cursor pages, the events behind
a report's numbers (draft and published), and the exports."""

from __future__ import annotations

import ast
import csv
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from helpers import write_events
from sitrep.config import Workspace
from sitrep.lake.schema import ARROW_SCHEMA
from sitrep.metrics.explore import (
    MAX_LIMIT,
    ExploreError,
    days_around,
    events_behind,
    export_events,
    search_events,
    window,
)
from sitrep.metrics.explore_model import EventPage, EventQuery
from sitrep.metrics.source import cursor
from sitrep.metrics.weekly import compute, evidence
from sitrep.report.publish import publish, unpublish
from sitrep.weeks import Week

W01 = Week(2025, 1)
WEEK = "2025-W01"
# 2025-W01 in Asia/Shanghai is [2024-12-29T16:00Z, 2025-01-05T16:00Z).
FIRST = datetime(2024, 12, 29, 16, 0, tzinfo=UTC)
LAST = datetime(2025, 1, 5, 15, 59, 59, tzinfo=UTC)
MID = datetime(2025, 1, 2, 8, 0, tzinfo=UTC)


def event(ip=None, t=MID, **more):
    row = {
        "time_source": t,
        "source_ip": ip,
        "classification_taxonomy": "malicious-code",
        "classification_type": "infected-system",
        "domestic": True,
    }
    row.update(more)
    return row


def ids(page: EventPage) -> list[str]:
    return [e.event_id for e in page.events]


def found(ws: Workspace, limit: int = MAX_LIMIT, **query) -> set[str]:
    return set(ids(search_events(ws, EventQuery(week=WEEK, limit=limit, **query))))


@pytest.fixture
def lake(workspace):
    write_events(
        workspace,
        [
            event("10.1.2.3"),  # 0
            event("10.1.200.4"),  # 1
            event("10.2.0.1"),  # 2
            event("192.168.17.9"),  # 3: in 192.168.16.0/20
            event("192.168.32.1"),  # 4: not in it
            event("203.0.113.5"),  # 5: in 203.0.113.4/30
            event("203.0.113.8"),  # 6: not in it
            event("2001:0db8:0:0::1"),  # 7: 2001:db8::1 spelled long
            event("2001:db9::1"),  # 8
            event(
                "1.1.1.1",
                site="www.x.gov.cn",
                classification_taxonomy="information-content-security",
                classification_type="unauthorised-information-modification",
                classification_identifier="defacement",
                feed_name="zoneh-defacements",
                tlp="AMBER",
            ),  # 9
            event("1.1.1.2", site="agov.cn", feed_name="zoneh-defacements"),  # 10: not under gov.cn
            event(
                "1.1.1.3",
                source_url="http://phish.example.com/login?a=1",
                site="phish.example.com",
                classification_taxonomy="fraud",
                classification_type="phishing",
                feed_name="openphish",
                tlp="RED",
            ),  # 11
            event("1.1.1.4", source_url="http://phish.example.com/", site="phish.example.com"),  # 12
            event("1.1.1.5", source_url="http://phish.example.com.evil.net/", site="phish.example.com.evil.net"),
            event("10.1.2.3", t=FIRST - timedelta(seconds=1)),  # 14: the week before
            event("10.1.2.3", t=LAST),  # 15: the last second of the week
        ],
    )
    return workspace


def test_ip_exact_and_cidr(lake):
    assert found(lake, ip="10.1.2.3") == {"fixture-0000", "fixture-0015"}
    assert found(lake, ip="10.1.0.0/16") == {"fixture-0000", "fixture-0001", "fixture-0015"}
    assert found(lake, ip="10.0.0.0/8") == {"fixture-0000", "fixture-0001", "fixture-0002", "fixture-0015"}
    assert found(lake, ip="192.168.16.0/20") == {"fixture-0003"}
    assert found(lake, ip="203.0.113.4/30") == {"fixture-0005"}
    assert found(lake, ip="203.0.113.5/32") == {"fixture-0005"}
    assert len(found(lake, ip="0.0.0.0/0")) == 13  # every IPv4 event of the week, no IPv6 one
    assert found(lake, ip="10.1.2.99/16") == found(lake, ip="10.1.0.0/16")  # host bits are ignored


def test_ipv6_matches_every_spelling(lake):
    assert found(lake, ip="2001:db8::1") == {"fixture-0007"}
    assert found(lake, ip="2001:db8::/32") == {"fixture-0007"}
    assert found(lake, ip="2001:db8::/31") == {"fixture-0007", "fixture-0008"}
    assert found(lake, ip="2001:db8::2") == set()


@pytest.mark.parametrize("bad", ["10.0.0.0/33", "10.0.0", "300.1.1.1", "10.0.0.0/8/8", "x", ""])
def test_a_bad_ip_or_network_is_named(lake, bad):
    with pytest.raises(ExploreError, match="is not an IP address or a network in CIDR form") as info:
        search_events(lake, EventQuery(week=WEEK, ip=bad))
    assert repr(bad) in str(info.value)


def test_domain_is_the_host_or_under_it(lake):
    assert found(lake, domain="gov.cn") == {"fixture-0009"}
    assert found(lake, domain="WWW.X.GOV.CN.") == {"fixture-0009"}
    assert found(lake, domain="example.com") == {"fixture-0011", "fixture-0012"}
    with pytest.raises(ExploreError, match="not a host name"):
        search_events(lake, EventQuery(week=WEEK, domain="http://x.cn/"))


def test_url_exact_normalised_or_prefix(lake):
    assert found(lake, url="HTTP://Phish.Example.COM") == {"fixture-0012"}
    assert found(lake, url="http://phish.example.com/login?a=1") == {"fixture-0011"}
    assert found(lake, url="http://phish.example.com/*") == {"fixture-0011", "fixture-0012"}
    assert found(lake, url="http://phish.example.com*") == {"fixture-0011", "fixture-0012", "fixture-0013"}
    with pytest.raises(ExploreError, match="empty"):
        search_events(lake, EventQuery(week=WEEK, url="*"))


def test_feed_class_and_tlp(lake):
    assert found(lake, feed="openphish") == {"fixture-0011"}
    assert found(lake, feed="zoneh-*") == {"fixture-0009", "fixture-0010"}
    assert found(lake, classification="fraud") == {"fixture-0011"}
    assert found(lake, classification="Information-Content-Security/unauthorised-information-modification") == {
        "fixture-0009"
    }
    assert found(lake, classification="information-content-security/x") == set()
    assert found(lake, classification="information-content-security/unauthorised-information-modification/defacement")
    assert found(lake, tlp="red") == {"fixture-0011"}
    assert found(lake, tlp="TLP:AMBER") == {"fixture-0009"}
    assert found(lake, tlp="amber", domain="gov.cn") == {"fixture-0009"}
    assert found(lake, tlp="amber", domain="example.com") == set()
    with pytest.raises(ExploreError, match="'purple' is not a TLP label"):
        search_events(lake, EventQuery(week=WEEK, tlp="purple"))
    with pytest.raises(ExploreError, match="is not taxonomy"):
        search_events(lake, EventQuery(week=WEEK, classification="a//b"))


def test_one_event_by_its_id_within_the_window_around_a_moment(lake, workspace):
    assert found(workspace, event_id="fixture-0009") == {"fixture-0009"}
    assert found(workspace, event_id=" fixture-0009 ", tlp="AMBER") == {"fixture-0009"}
    assert found(workspace, event_id="fixture-0009", tlp="RED") == set()
    first, last = days_around(workspace, MID)
    assert (last - first).days + 1 == workspace.settings.explorer.max_days - 1  # a day short: DST
    assert first < MID.date() < last
    around = EventQuery(event_id="fixture-0003", start=str(first), end=str(last))
    assert ids(search_events(workspace, around)) == ["fixture-0003"]  # the window is within the bound
    for bad in ("", "a\tb", "x" * 129):
        with pytest.raises(ExploreError, match="is not an event ID"):
            search_events(workspace, EventQuery(week=WEEK, event_id=bad))


def test_pages_carry_each_events_tlp(lake):
    page = search_events(lake, EventQuery(week=WEEK, limit=MAX_LIMIT))
    tlp = {e.event_id: e.tlp for e in page.events}
    assert tlp["fixture-0011"] == "RED" and tlp["fixture-0009"] == "AMBER" and tlp["fixture-0000"] == "CLEAR"


def test_the_week_is_cut_in_the_workspace_time_zone(lake):
    everything = found(lake)
    assert "fixture-0014" not in everything and "fixture-0015" in everything
    start, end = window(lake, EventQuery(week=WEEK))
    assert (start, end) == (FIRST, LAST + timedelta(seconds=1))


def test_start_and_end_dates_are_local_and_the_end_date_is_inclusive(lake):
    start, end = window(lake, EventQuery(start="2024-12-30", end="2025-01-05"))
    assert (start, end) == W01.bounds(lake.timezone)
    start, end = window(lake, EventQuery(start="2025-01-02T08:00Z", end="2025-01-02T08:00:01+00:00"))
    assert (start, end) == (MID, MID + timedelta(seconds=1))
    assert set(ids(search_events(lake, EventQuery(start="2024-12-29T15:00Z", end="2024-12-29T16:00Z")))) == {
        "fixture-0014"
    }


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (EventQuery(start="2025-01-01"), "has a start but no end: every search is bounded"),
        (EventQuery(end="2025-01-01"), "has an end but no start"),
        (EventQuery(start="2024-01-01", end="2024-12-31"), r"spans 366 days; a search covers at most 31 days"),
        (EventQuery(start="2025-01-05", end="2025-01-01"), "ends .* before it starts"),
        (EventQuery(week=WEEK, start="2025-01-01", end="2025-01-02"), "not both"),
        (EventQuery(week="2025-W54"), "2025 has ISO weeks 1 to 52"),
        (EventQuery(start="soon", end="2025-01-02"), "start 'soon' is not a date"),
    ],
)
def test_an_unbounded_or_bad_window_is_refused(lake, query, message):
    with pytest.raises(ExploreError, match=message):
        search_events(lake, query)


def test_the_longest_window_is_configurable(tmp_path):
    from sitrep.config import load_workspace
    from sitrep.workspace import init_workspace

    ws = init_workspace(tmp_path / "ws")
    text = ws.config_path.read_text(encoding="utf-8")
    assert "[explorer]\nmax_days = 31\n" in text  # 'sitrep init' writes the default
    ws.config_path.write_text(text.replace("[explorer]\nmax_days = 31", "[explorer]\nmax_days = 3"), encoding="utf-8")

    ws = load_workspace(ws.root)
    window(ws, EventQuery(start="2025-01-01", end="2025-01-03"))
    with pytest.raises(ExploreError, match=r"spans 7 days; a search covers at most 3 days \(\[explorer\] max_days"):
        window(ws, EventQuery(week=None, start="2024-12-30", end="2025-01-05"))
    window(ws, EventQuery(week=WEEK))  # a week is always allowed


def test_the_limit_has_a_maximum(lake):
    with pytest.raises(ExploreError, match=f"1 to {MAX_LIMIT}"):
        search_events(lake, EventQuery(week=WEEK, limit=MAX_LIMIT + 1))
    with pytest.raises(ExploreError, match=f"1 to {MAX_LIMIT}"):
        search_events(lake, EventQuery(week=WEEK, limit=0))


@pytest.fixture
def many(workspace):
    # 53 events, two at each time (the cursor must break ties by event_id), every 3 hours back from the
    # week's last second: pages straddle the newest day, which is read first.
    rows = [event(f"10.0.{i % 7}.{i}", t=LAST - timedelta(hours=3 * (i // 2))) for i in range(53)]
    write_events(workspace, rows[:30], "a")
    write_events(workspace, rows[30:], "b")
    return workspace


def test_cursor_pages_have_no_duplicate_and_no_gap(many):
    everything = search_events(many, EventQuery(week=WEEK, limit=MAX_LIMIT))
    assert len(everything.events) == 53 and everything.next_cursor is None
    keys = [(e.time_source, e.event_id) for e in everything.events]
    assert keys == sorted(keys, reverse=True)  # newest first, ties by event_id
    pages, after = [], None
    while True:
        page = search_events(many, EventQuery(week=WEEK, limit=7, after=after))
        pages.append(ids(page))
        after = page.next_cursor
        if after is None:
            break
    assert [len(p) for p in pages] == [7] * 7 + [4]
    assert [i for p in pages for i in p] == ids(everything)


def test_a_cursor_of_another_search_is_refused(many):
    page = search_events(many, EventQuery(week=WEEK, limit=5))
    assert page.next_cursor
    # The same search with another page size continues; another filter does not.
    assert len(search_events(many, EventQuery(week=WEEK, limit=9, after=page.next_cursor)).events) == 9
    with pytest.raises(ExploreError, match="not one this search returned"):
        search_events(many, EventQuery(week=WEEK, ip="10.0.0.0/8", after=page.next_cursor))
    with pytest.raises(ExploreError, match="not one this search returned"):
        search_events(many, EventQuery(week=WEEK, after="bm9wZQ"))


def test_an_empty_lake_gives_an_empty_page(workspace):
    page = search_events(workspace, EventQuery(week=WEEK))
    assert page.events == () and page.next_cursor is None


# -- the events behind a number ---------------------------------------------------------------------


@pytest.fixture
def report_lake(workspace):
    from test_weekly import infected, phish, site_event, vuln

    write_events(
        workspace,
        [
            infected("1.1.1.1", MID),
            infected("1.1.1.1", MID, family="andromeda"),
            infected("2.2.2.2", FIRST),
            infected("8.8.8.8", MID, domestic=False),
            infected("6.6.6.6", FIRST - timedelta(days=2)),
            site_event("defacement", "www.x.gov.cn", MID, gov=True),
            site_event("defacement", "shop.example.cn", MID),
            phish("http://icbc-login.top/a", MID, target="ICBC"),
            phish("http://paypal-verify.com/d", MID, target="PayPal"),
            vuln("CNVD-2025-00001", MID, cve="CVE-2025-0001", severity="高"),
            vuln("CNVD-2025-00002", MID, severity="中"),
            vuln("CNVD-2024-00009", FIRST - timedelta(days=3), cve="CVE-2024-0009", severity="高"),
            vuln("CNVD-2025-00010", MID, cve="CVE-2024-0009", severity="高"),  # not new: first seen last week
            {
                "time_source": MID,
                "classification_taxonomy": "malicious-code",
                "classification_type": "malware-distribution",
                "source_url": "http://bad.example.com/x.apk",
                "site": "bad.example.com",
            },
        ],
    )
    return workspace


def _all_behind(ws: Workspace, number: str) -> tuple[list[str], EventPage]:
    pages, after = [], None
    while True:
        page = events_behind(ws, W01, number, limit=2, after=after)
        pages.append(page)
        after = page.next_cursor
        if after is None:
            return [i for p in pages for i in ids(p)], pages[0]


def test_events_behind_a_draft_number_are_the_indicators_evidence(report_lake):
    metrics = compute(report_lake, W01)
    expected = evidence(report_lake, W01)
    for number, want in expected.items():
        got, first = _all_behind(report_lake, number)
        assert sorted(got) == want, number
        assert first.behind is not None and not first.behind.frozen and first.behind.events == len(want)
    page = events_behind(report_lake, WEEK, "infected_hosts", limit=MAX_LIMIT)
    assert len({e.source_ip for e in page.events}) == metrics.indicators["infected_hosts"].value == 2
    assert ids(events_behind(report_lake, W01, "new_vulnerabilities")) == ["fixture-0010", "fixture-0009"]
    assert ids(events_behind(report_lake, W01, "new_high_vulnerabilities")) == ["fixture-0009"]
    assert ids(events_behind(report_lake, W01, "malware_hosting")) == ["fixture-0013"]


def test_events_behind_a_published_number_are_the_frozen_ids(report_lake):
    publish(report_lake, W01, force_reason="test", now=datetime(2025, 1, 8, tzinfo=UTC))
    frozen = evidence(report_lake, W01)
    # An infected host ingested after publication: the draft would count it, the published issue does not.
    write_events(report_lake, [event("9.9.9.9", t=MID)], "late")
    assert len(evidence(report_lake, W01)["infected_hosts"]) == len(frozen["infected_hosts"]) + 1
    got, first = _all_behind(report_lake, "infected_hosts")
    assert sorted(got) == frozen["infected_hosts"]
    assert first.behind is not None and first.behind.frozen and first.behind.events == 3
    got, _ = _all_behind(report_lake, "malware_hosting")
    assert got == ["fixture-0013"]
    # Withdrawn, the week is a draft again: the late event is behind its number now.
    unpublish(report_lake, W01, reason="test", now=datetime(2025, 1, 9, tzinfo=UTC))
    got, first = _all_behind(report_lake, "infected_hosts")
    assert "late-0000" in got and first.behind is not None and not first.behind.frozen


def test_an_unknown_number_is_named(report_lake):
    with pytest.raises(ExploreError, match=r"no number 'hosts'.*infected_hosts.*malware_hosting"):
        events_behind(report_lake, W01, "hosts")
    with pytest.raises(ExploreError, match="not an ISO week"):
        events_behind(report_lake, "last week", "infected_hosts")


# -- exports ----------------------------------------------------------------------------------------


HOSTILE = ["=cmd|'/C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\tx", "plain"]


@pytest.fixture
def hostile(workspace):
    write_events(
        workspace,
        [
            event("10.0.0.1", t=MID + timedelta(minutes=i), source_url=f"http://x.example.com/{v}", malware_name=v)
            for i, v in enumerate(HOSTILE)
        ],
    )
    return workspace


def test_csv_export_neutralises_formulas(hostile, tmp_path):
    path = tmp_path / "out" / "events.csv"
    done = export_events(hostile, EventQuery(week=WEEK), path, "csv")
    assert done.events == len(HOSTILE) and done.format == "csv" and Path(done.path) == path
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ARROW_SCHEMA.names
    families = [r["malware_name"] for r in rows]
    assert families == ["'" + v if v != "plain" else v for v in reversed(HOSTILE)]  # newest first
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    assert not [p for p in path.parent.iterdir() if p.name != "events.csv"]  # no work file left


def test_parquet_export_round_trips(hostile, tmp_path):
    path = tmp_path / "events.parquet"
    done = export_events(hostile, EventQuery(week=WEEK, ip="10.0.0.0/24"), path, "parquet")
    table = pq.read_table(path)
    assert [(f.name, f.type) for f in table.schema] == [(f.name, f.type) for f in ARROW_SCHEMA]
    assert done.events == table.num_rows == len(HOSTILE)
    assert table.column("malware_name").to_pylist() == list(reversed(HOSTILE))  # values as in the lake
    page = search_events(hostile, EventQuery(week=WEEK, limit=MAX_LIMIT))
    assert table.column("event_id").to_pylist() == ids(page)


def test_export_checks_the_format_and_the_bound(hostile, tmp_path):
    with pytest.raises(ExploreError, match="export format 'xlsx'"):
        export_events(hostile, EventQuery(week=WEEK), tmp_path / "x.xlsx", "xlsx")
    with pytest.raises(ExploreError, match="at most 31 days"):
        export_events(hostile, EventQuery(start="2024-01-01", end="2025-01-01"), tmp_path / "x.csv", "csv")
    assert [p.name for p in tmp_path.iterdir()] == ["ws"]  # nothing written


def test_nothing_public_is_built_from_the_explorer():
    """The explorer's pages hold TLP:AMBER/RED events: the report and the site never import it."""
    import sitrep

    report = Path(sitrep.__file__).parent / "report"
    for path in report.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
            a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
        }
        assert not {m for m in names if m and m.startswith("sitrep.metrics.explore")}, path


# -- one definition of each filter: pages bind values as parameters, exports as literals ---------------


EVERY_FILTER = [
    {},
    {"ip": "10.1.2.3"},
    {"ip": "10.0.0.0/8"},
    {"ip": "192.168.16.0/20"},
    {"ip": "203.0.113.4/30"},
    {"ip": "0.0.0.0/0"},
    {"ip": "2001:db8::/32"},
    {"domain": "gov.cn"},
    {"url": "http://phish.example.com/login?a=1"},
    {"url": "http://phish.example.com*"},
    {"feed": "zoneh-defacements"},
    {"feed": "zoneh*"},
    {"classification": "fraud/phishing"},
    {"tlp": "amber"},
    {"ip": "1.1.1.0/24", "feed": "zoneh*", "domain": "gov.cn"},
]


@pytest.mark.parametrize("query", EVERY_FILTER, ids=lambda q: ",".join(f"{k}={v}" for k, v in q.items()) or "all")
def test_a_search_pages_by_cursor_and_exports_the_same_events(lake, tmp_path, query):
    pages, after = [], None
    while True:
        page = search_events(lake, EventQuery(week=WEEK, limit=2, after=after, **query))
        pages += ids(page)
        if (after := page.next_cursor) is None:
            break
    export_events(lake, EventQuery(week=WEEK, **query), tmp_path / "all.parquet", "parquet")
    assert pages == pq.read_table(tmp_path / "all.parquet").column("event_id").to_pylist()
    assert pages  # every filter above selects some event of the lake


@pytest.mark.parametrize("field", ["feed", "url", "domain", "event_id", "classification"])
def test_a_value_with_sql_in_it_is_a_value(lake, tmp_path, field):
    value = {"domain": "x'or'1'='1", "classification": "x' OR '1'='1/y"}.get(field, "x' OR '1'='1")
    assert found(lake, **{field: value}) == set()
    done = export_events(lake, EventQuery(week=WEEK, **{field: value}), tmp_path / "none.csv", "csv")
    assert done.events == 0


def test_the_query_database_spills_outside_the_current_folder_and_the_lake(workspace, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spill = Path(cursor(workspace).execute("SELECT current_setting('temp_directory')").fetchone()[0])
    assert spill.is_absolute() and spill.is_relative_to(tempfile.gettempdir())
    assert not spill.is_relative_to(workspace.root) and not spill.is_relative_to(Path.cwd())
