"""From lake events to proposed incidents, on Parquet files written with the lake's schema."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from sitrep.cli import app
from sitrep.incidents import service
from sitrep.incidents.db import session_scope
from sitrep.incidents.desk import Desk
from sitrep.incidents.errors import IncidentError
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


def test_the_proposals_of_a_week_are_listed_then_accepted_or_rejected_in_bulk(ws):
    _setup(ws)
    desk = Desk.open(ws)
    service.propose_incidents(desk, str(W01), actor="bot")
    service.add_incident(desk, title="手工", category="phishing", actor="t", ref="INC-1")
    first = service.list_proposed(desk, str(W01), limit=3)
    rest = service.list_proposed(desk, str(W01), limit=3, after=first.next_after)
    listed = first.proposals + rest.proposals
    assert rest.next_after is None and len(listed) == 5 and {p["status"] for p in listed} == {"new"}
    assert all(p["ref"].startswith("P-2025-W01-") for p in listed)
    icbc = next(p for p in listed if p["assets"] == ["icbc-login.example.cn"])
    assert (icbc["partners"], icbc["events"], icbc["category"]) == (["万网"], 2, "phishing")
    assert service.list_proposed(desk, "2025-W02").proposals == []

    accepted = service.triage_incidents(desk, [listed[0]["ref"], listed[1]["ref"]], "triaged", actor="alice")
    assert accepted.decided == [listed[0]["ref"], listed[1]["ref"]] and accepted.refused == []
    # A second analyst working from the same (now stale) list: the decided one is refused, by name.
    late = service.triage_incidents(
        desk, [listed[1]["ref"], listed[2]["ref"], "NO-SUCH"], "rejected", actor="bob", reason="误报"
    )
    assert late.decided == [listed[2]["ref"]]
    assert [r.ref for r in late.refused] == [listed[1]["ref"], "NO-SUCH"]
    assert "is triaged already" in late.refused[0].reason
    assert [p["ref"] for p in service.list_proposed(desk, str(W01)).proposals] == [p["ref"] for p in listed[3:]]

    rejected = service.show_incident(desk, listed[2]["ref"])
    assert rejected["status"] == "rejected" and [n["text"] for n in rejected["notes"]] == ["误报"]
    assert rejected["notes"][0]["author"] == "bob"
    change = [a for a in rejected["audit"] if a["field"] == "status"]
    assert [(a["old"], a["new"], a["actor"]) for a in change] == [("new", "rejected", "bob")]
    assert service.show_incident(desk, listed[1]["ref"])["status"] == "triaged"

    with pytest.raises(IncidentError, match="reason is empty"):
        service.triage_incidents(desk, [listed[3]["ref"]], "rejected", actor="bob", reason="  ")
    with pytest.raises(IncidentError, match="not resolved"):
        service.triage_incidents(desk, [listed[3]["ref"]], "resolved", actor="bob")
    with pytest.raises(IncidentError, match="at least one ref"):
        service.triage_incidents(desk, [" "], "triaged", actor="bob")
    assert service.show_incident(desk, listed[3]["ref"])["status"] == "new"


def test_accept_and_reject_at_the_command_line(ws):
    _setup(ws)
    runner = CliRunner()

    def run(*args):
        result = runner.invoke(app, ["--home", str(ws.root), *args], env={"SITREP_USER": "alice", "COLUMNS": "200"})
        assert "Traceback" not in result.output
        return result

    dry = run("incidents", "propose", "--week", str(W01), "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output  # the routed partners are read after the dry run's rollback
    assert {row["partner"] for row in json.loads(dry.stdout)["proposals"]} >= {"万网", "华为应用市场"}
    assert run("incidents", "propose", "--week", str(W01)).exit_code == 0
    listed = json.loads(run("incidents", "list", "--proposed", str(W01), "--json").stdout)
    refs = [row["ref"] for row in listed]
    assert len(refs) == 5
    accepted = run("incidents", "accept", refs[0], refs[1])
    assert accepted.exit_code == 0 and f"{refs[0]} is triaged" in accepted.output
    again = run("incidents", "reject", refs[0], refs[2], "--reason", "重复", "--json")
    assert again.exit_code == 1
    report = json.loads(again.stdout)
    assert report["decided"] == [refs[2]] and report["refused"][0]["ref"] == refs[0]
    assert run("incidents", "reject", refs[3]).exit_code == 2  # --reason is required
    none = run("incidents", "accept", refs[0])
    assert none.exit_code == 2 and "is triaged already" in none.output
    statuses = {row["ref"]: row["status"] for row in json.loads(run("incidents", "list", "--json").stdout)}
    assert [statuses[r] for r in refs] == ["triaged", "triaged", "rejected", "new", "new"]
