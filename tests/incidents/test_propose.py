"""From lake events to proposed incidents, on Parquet files written with the lake's schema."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select

from sitrep.incidents.db import session_scope
from sitrep.incidents.models import Incident
from sitrep.incidents.partners import import_partners
from sitrep.incidents.propose import propose
from sitrep.lake.schema import ARROW_SCHEMA
from sitrep.weeks import Week

from .conftest import DATA

W01 = Week(2025, 1)
IN_WEEK = datetime(2025, 1, 2, 3, 0, tzinfo=UTC)


def _event(event_id, **values):
    row = {name: None for name in ARROW_SCHEMA.names}
    row.update({"event_id": event_id, "time_source": IN_WEEK, "tlp": "AMBER", **values})
    return row


def _phish(event_id, url, site, target, **extra):
    return _event(
        event_id,
        classification_taxonomy="fraud",
        classification_type="phishing",
        classification_identifier="phishing",
        source_url=url,
        site=site,
        site_domain=site.split(".", 1)[-1],
        event_description_target=target,  # the ingest derives target_domain from the named target
        target_domain=target,
        **extra,
    )


EVENTS = [
    # Two pages on one site imitating a domestic bank: one incident for the site, routed by suffix .cn.
    _phish(
        "e1",
        "http://icbc-login.example.cn/a",
        "icbc-login.example.cn",
        "icbc.com.cn",
        domestic=True,
        country="CN",
        region="GD",
    ),
    _phish(
        "e2",
        "http://icbc-login.example.cn/b",
        "icbc-login.example.cn",
        "icbc.com.cn",
        domestic=True,
        country="CN",
        region="GD",
        tlp="RED",
    ),
    # Foreign-hosted page imitating Alipay: no registrar/hosting/cloud matches, JPCERT/CC by country.
    _phish("e3", "http://alipay.example.jp/", "alipay.example.jp", "alipay.com", domestic=False, country="JP"),
    # Phishing a foreign brand: not ours, no proposal.
    _phish("e4", "http://paypal.example.com/", "paypal.example.com", "paypal.com", domestic=False, country="US"),
    # Domestic defacement and webshell: the branch of the region.
    _event(
        "e5",
        classification_taxonomy="information-content-security",
        classification_type="unauthorised-information-modification",
        classification_identifier="defacement",
        site="www.sz.gov.cn",
        source_url="http://www.sz.gov.cn/",
        domestic=True,
        country="CN",
        region="GD",
    ),
    _event(
        "e6",
        classification_taxonomy="intrusions",
        classification_type="system-compromise",
        classification_identifier="webshell",
        site="shop.example.cn",
        domestic=True,
        country="CN",
        region="ZJ",
    ),
    # A foreign defacement is not ours to handle.
    _event(
        "e7",
        classification_taxonomy="information-content-security",
        classification_type="unauthorised-information-modification",
        classification_identifier="defacement",
        site="www.example.fr",
        domestic=False,
        country="FR",
    ),
    # A malicious APK on the app store's CDN, seen twice: one mobile-malware incident for the URL.
    _event(
        "e8",
        classification_taxonomy="malicious-code",
        classification_type="malware-distribution",
        source_url="https://a.dbankcdn.com/x/game.apk",
        site="a.dbankcdn.com",
        domestic=True,
        country="CN",
    ),
    _event(
        "e9",
        classification_taxonomy="malicious-code",
        classification_type="malware-distribution",
        source_url="https://a.dbankcdn.com/x/game.apk",
        site="a.dbankcdn.com",
        domestic=True,
        country="CN",
    ),
    # Malware distribution that is not an APK has no rule by default.
    _event(
        "e10",
        classification_taxonomy="malicious-code",
        classification_type="malware-distribution",
        source_url="http://bad.example.net/bot.exe",
        site="bad.example.net",
        domestic=False,
    ),
    # Outside the week.
    _phish(
        "e11",
        "http://boc-old.example.cn/",
        "boc-old.example.cn",
        "boc.cn",
        domestic=True,
        time_source=datetime(2024, 12, 20, tzinfo=UTC),
    ),
]


def _lake(ws, events=EVENTS, name="batch1"):
    folder = ws.lake_dir / "events"
    folder.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist(events, schema=ARROW_SCHEMA)
    pq.write_table(table, folder / f"{name}.parquet")


def _setup(ws):
    _lake(ws)
    with session_scope(ws) as session:
        import_partners(session, DATA / "partners.csv", actor="t")


def test_propose_groups_routes_and_creates_incidents(ws):
    _setup(ws)
    with session_scope(ws) as session:
        proposals = propose(session, ws, W01, actor="bot")
    by_asset = {p.asset: p for p in proposals}
    assert set(by_asset) == {
        "https://a.dbankcdn.com/x/game.apk",
        "icbc-login.example.cn",
        "alipay.example.jp",
        "www.sz.gov.cn",
        "shop.example.cn",
    }
    assert all(p.action == "create" for p in proposals)
    apk = by_asset["https://a.dbankcdn.com/x/game.apk"]
    assert (apk.category, apk.route.partner.name, apk.events) == ("mobile-malware", "华为应用市场", 2)
    icbc = by_asset["icbc-login.example.cn"]
    assert icbc.route.partner.name == "万网" and icbc.events == 2 and icbc.tlp == "RED"
    assert by_asset["alipay.example.jp"].route.partner.name == "JPCERT/CC"
    assert by_asset["www.sz.gov.cn"].route.partner.name == "广东分中心"
    assert by_asset["shop.example.cn"].category == "backdoor" and by_asset["shop.example.cn"].route is None
    with session_scope(ws) as session:
        incidents = {i.ref: i for i in session.scalars(select(Incident))}
        assert len(incidents) == 5
        icbc_incident = incidents[icbc.ref]
        assert icbc_incident.status == "new" and icbc_incident.category == "phishing"
        assert sorted(e.event_id for e in icbc_incident.events) == ["e1", "e2"]
        assert icbc_incident.requests[0].partner.name == "万网"
        assert icbc_incident.cross_border is False
        assert incidents[by_asset["alipay.example.jp"].ref].cross_border is True


def test_propose_twice_creates_nothing_and_open_incidents_get_new_events(ws):
    _setup(ws)
    with session_scope(ws) as session:
        propose(session, ws, W01, actor="bot")
    with session_scope(ws) as session:
        again = propose(session, ws, W01, actor="bot")
    assert {p.action for p in again} == {"exists"}
    # Next week the same site shows up again while its incident is still open: attach, don't duplicate.
    later = datetime(2025, 1, 8, tzinfo=UTC)
    _lake(
        ws,
        [
            _phish(
                "e20",
                "http://icbc-login.example.cn/c",
                "icbc-login.example.cn",
                "icbc.com.cn",
                domestic=True,
                time_source=later,
            )
        ],
        name="batch2",
    )
    with session_scope(ws) as session:
        next_week = propose(session, ws, Week(2025, 2), actor="bot")
    assert [(p.action, p.asset) for p in next_week] == [("attach", "icbc-login.example.cn")]
    with session_scope(ws) as session:
        assert len(session.scalars(select(Incident)).all()) == 5
        incident = session.scalars(select(Incident).where(Incident.ref == next_week[0].incident)).one()
        assert sorted(e.event_id for e in incident.events) == ["e1", "e2", "e20"]


def test_dry_run_writes_nothing_and_an_empty_lake_proposes_nothing(ws):
    with session_scope(ws) as session:
        assert propose(session, ws, W01, actor="bot") == []
    _setup(ws)
    with session_scope(ws) as session:
        assert len(propose(session, ws, W01, actor="bot", dry_run=True)) == 5
    with session_scope(ws) as session:
        assert session.scalars(select(Incident)).all() == []


def _named(event_id, host, target, *, domestic, target_domain=None):
    """A phishing page on ``host`` whose feed names ``target`` (None: no target known)."""
    row = _phish(event_id, f"http://{host}/login", host, target_domain, domestic=domestic)
    row["event_description_target"] = target
    return row


# Every case of the domestic-target rule, with a brand named inside a longer text (the old proposal
# rule matched brands by substring, the indicator by whole name).
TARGETS = [
    _named("t1", "a.example.net", "https://www.icbc.com.cn/", domestic=False, target_domain="www.icbc.com.cn"),
    _named("t2", "b.example.net", "https://shop.example.cn/", domestic=False, target_domain="shop.example.cn"),
    _named("t3", "c.example.net", "ICBC", domestic=False),
    _named("t4", "d.example.net", " icbc ", domestic=False),
    _named("t5", "e.example.net", "ICBC Bank login", domestic=False),
    _named("t6", "f.example.cn", "Apple", domestic=True),
    _named("t7", "g.example.cn", None, domestic=True),
    _named("t8", "h.example.net", None, domestic=False),
    _named("t9", "i.example.net", "https://www.paypal.com/", domestic=True, target_domain="www.paypal.com"),
]


def test_proposals_select_the_phishing_pages_the_report_counts(ws):
    """The phishing proposal rule and the phishing indicator select the same events."""
    from sitrep.metrics.weekly import evidence

    _lake(ws, TARGETS)
    with session_scope(ws) as session:
        proposals = propose(session, ws, W01, actor="bot", dry_run=True)
    proposed = sorted(e for p in proposals if p.rule == "phishing-domestic-target" for e in p.event_ids)
    assert proposed == evidence(ws, W01)["phishing_pages"]
    assert proposed == ["t1", "t2", "t3", "t4", "t7"]
