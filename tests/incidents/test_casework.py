"""Case work at the desk, through the CLI on both backends: owners, notes, back-dated changes, due dates
and ``overdue``, bulk resolve, the partner's page, removal and deactivation, scorecards, and the
report-time check shared by the CLI and the import."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from typer.testing import CliRunner

from sitrep.cli import app
from sitrep.incidents import service
from sitrep.incidents.desk import Desk
from sitrep.incidents.errors import KeyReused, PartnerInUse, RequestWithoutPartner, StaleIncident
from sitrep.weeks import Week

from .conftest import make_workspace

runner = CliRunner()


def _run(ws, *args, actor="alice"):
    result = runner.invoke(app, ["--home", str(ws.root), *args], env={"SITREP_USER": actor, "COLUMNS": "200"})
    assert "Traceback" not in result.output
    return result


def _ok(ws, *args, actor="alice"):
    result = _run(ws, *args, actor=actor)
    assert result.exit_code == 0, result.output
    return result


def _json(ws, *args):
    return json.loads(_ok(ws, *args, "--json").stdout)


def _local(ws, moment: datetime) -> str:
    return moment.astimezone(ws.timezone).replace(tzinfo=None).isoformat(timespec="minutes")


@pytest.fixture
def desk_ws(tmp_path, backend):
    """A workspace whose registrars must act within 2 hours, with a registrar and a cloud partner."""
    ws = make_workspace(tmp_path / "ws", backend or None, incidents={"sla_hours": {"registrar": 2}})
    _ok(ws, "partners", "add", "万网", "--type", "registrar", "--email", "abuse@wanwang.example.cn", "--suffix", "cn")
    _ok(ws, "partners", "add", "阿里云", "--type", "cloud", "--email", "abuse@aliyun.example.cn")
    return ws


def _case(ws, ref, *, partner="万网", reported="2025-01-02T09:00", status="coordinating"):
    """An incident with a request to ``partner``, moved on to ``status`` (now)."""
    _ok(
        ws,
        "incidents",
        "add",
        "--ref",
        ref,
        "--title",
        f"仿冒 {ref}",
        "-c",
        "phishing",
        "-p",
        partner,
        "--reported-at",
        reported,
    )
    for step in ("triaged", "coordinating")[: ("new", "triaged", "coordinating").index(status)]:
        _ok(ws, "incidents", "update", ref, "--status", step)


def test_owner_notes_and_back_dated_changes_keep_who_and_both_times(desk_ws):
    ws = desk_ws
    _ok(ws, "incidents", "add", "--ref", "C-1", "--title", "t", "-c", "phishing", "--reported-at", "2025-01-02T09:00")
    assert _ok(ws, "incidents", "assign", "C-1", "bob", actor="lead").stderr.strip() == "C-1 is owned by bob"
    _ok(ws, "incidents", "note", "C-1", "万网 confirmed by phone\nticket 4711", "--at", "2025-01-02T11:00")
    _ok(ws, "incidents", "update", "C-1", "--status", "triaged", "--at", "2025-01-02T09:30", actor="bob")
    shown = _json(ws, "incidents", "show", "C-1")
    assert shown["owner"] == "bob"
    triage = next(e for e in shown["audit"] if e["field"] == "status")
    assert triage["actor"] == "bob" and triage["at"] == "2025-01-02T09:30:00+08:00"
    assert datetime.fromisoformat(triage["entered_at"]) > datetime.fromisoformat(triage["at"]) + timedelta(days=30)
    owner = next(e for e in shown["audit"] if e["field"] == "owner")
    assert (owner["actor"], owner["old"], owner["new"]) == ("lead", None, "bob")
    assert shown["notes"] == [
        {
            "at": "2025-01-02T11:00:00+08:00",
            "entered_at": shown["notes"][0]["entered_at"],
            "author": "alice",
            "text": "万网 confirmed by phone\nticket 4711",
        }
    ]
    text = _ok(ws, "incidents", "show", "C-1").stdout
    assert "note: 万网 confirmed by phone" in text and "(entered " in text
    # Ownership filters and unassigning.
    assert [i["ref"] for i in _json(ws, "incidents", "list", "--owner", "BOB")] == ["C-1"]
    assert _json(ws, "incidents", "list", "--unassigned") == []
    _ok(ws, "incidents", "assign", "C-1", "--unassign")
    assert [i["ref"] for i in _json(ws, "incidents", "list", "--unassigned")] == ["C-1"]
    result = _run(ws, "incidents", "assign", "C-1")
    assert result.exit_code == 2 and "name the new owner, or pass --unassign" in result.output


def test_no_change_predates_the_report_in_the_cli_and_in_import(desk_ws, tmp_path):
    ws = desk_ws
    _ok(ws, "incidents", "add", "--ref", "C-2", "--title", "t", "-c", "phishing", "--reported-at", "2025-01-02T09:00")
    refused = "would be before the incident was reported (2025-01-02 01:00 UTC)"
    for args in (
        ("update", "C-2", "--status", "triaged", "--at", "2025-01-01T09:00"),
        ("note", "C-2", "early", "--at", "2025-01-02T08:59"),
        ("update", "C-2", "--partner", "万网", "--sent", "2025-01-02T08:00"),
    ):
        result = _run(ws, "incidents", *args)
        assert result.exit_code == 2 and refused in result.output, result.output
    assert [e["field"] for e in _json(ws, "incidents", "show", "C-2")["audit"]] == ["created"]
    path = tmp_path / "early.csv"
    path.write_text(
        "ref,title,category,reported_at,resolved_at,status,partner,partner_type,sent_at\n"
        "C-3,t,phishing,2025-01-02T09:00,2025-01-03T09:00,resolved,万网,registrar,2025-01-02T08:00\n"
        "C-4,t,phishing,2025-01-02T09:00,2025-01-03T09:00,resolved,万网,registrar,2025-01-02T10:00\n"
        "C-5,t,phishing,2025-01-02T09:00,2025-01-01T09:00,resolved,,,\n",
        encoding="utf-8",
    )
    report = json.loads(_run(ws, "incidents", "import", str(path), "--json").stdout)
    assert report["created"] == 1
    reasons = {r["line"]: r["reason"] for r in report["rejects"]}
    assert set(reasons) == {2, 4}
    assert all(refused in reason for reason in reasons.values()), reasons


def test_due_dates_follow_the_partner_type_sla_and_overdue_lists_them(desk_ws):
    ws = desk_ws
    now = datetime.now(ws.timezone)
    for ref, partner in (("D-1", "万网"), ("D-2", "阿里云"), ("D-3", "万网")):
        _case(ws, ref, partner=partner, reported=_local(ws, now - timedelta(hours=10)))
    sent = _local(ws, now - timedelta(hours=3))
    for ref, partner in (("D-1", "万网"), ("D-2", "阿里云"), ("D-3", "万网")):
        _ok(ws, "incidents", "update", ref, "--partner", partner, "--sent", sent)
    requests = {ref: _json(ws, "incidents", "show", ref)["requests"][0] for ref in ("D-1", "D-2")}
    # Registrars have 2 h here ([incidents.sla_hours]); cloud keeps its default of 24 h.
    sent_at = datetime.fromisoformat(requests["D-1"]["sent_at"])
    assert datetime.fromisoformat(requests["D-1"]["due_at"]) - sent_at == timedelta(hours=2)
    assert datetime.fromisoformat(requests["D-2"]["due_at"]) - sent_at == timedelta(hours=24)
    assert requests["D-1"]["overdue"] and not requests["D-2"]["overdue"]
    rows = _json(ws, "incidents", "overdue")
    assert [(r["ref"], r["partner"]) for r in rows] == [("D-1", "万网"), ("D-3", "万网")]
    assert 0.9 < rows[0]["hours_overdue"] < 1.1
    # Acknowledging is not acting; acting (or an outcome) ends it, as does a due date set by hand.
    _ok(ws, "incidents", "update", "D-1", "--partner", "万网", "--acknowledged", "now")
    assert [r["ref"] for r in _json(ws, "incidents", "overdue")] == ["D-1", "D-3"]
    _ok(ws, "incidents", "update", "D-1", "--partner", "万网", "--actioned", "now")
    _ok(ws, "incidents", "update", "D-3", "--partner", "万网", "--due", _local(ws, now + timedelta(days=1)))
    assert _json(ws, "incidents", "overdue") == []
    assert "no overdue request" in _ok(ws, "incidents", "overdue").stderr
    result = _run(ws, "incidents", "update", "D-3", "--due", "now")
    assert result.exit_code == 2 and "no partner given: name it with --partner" in result.output
    with pytest.raises(RequestWithoutPartner, match=r"no partner given$"):
        service.update_incident(Desk.open(ws), "D-3", service.IncidentChanges(due="now"), actor="t")


def test_bulk_resolve_closes_what_matches_and_reports_what_it_refuses(desk_ws):
    ws = desk_ws
    for ref in ("B-1", "B-2"):
        _case(ws, ref)
    _case(ws, "B-3", reported="2025-01-04T09:00")
    _case(ws, "B-4", status="new")
    _case(ws, "B-5", partner="阿里云")
    result = _run(ws, "incidents", "resolve")
    assert result.exit_code == 2 and "needs refs or at least one criterion" in result.output
    dry = _json(ws, "incidents", "resolve", "--partner", "万网", "--outcome", "taken-down", "--dry-run")
    assert dry["closed"] == ["B-1", "B-2", "B-3"] and dry["dry_run"]
    assert {i["status"] for i in _json(ws, "incidents", "list", "--partner", "万网")} == {"coordinating", "new"}
    result = _run(
        ws, "incidents", "resolve", "--partner", "万网", "--outcome", "taken-down", "--at", "2025-01-03T12:00", "--json"
    )
    assert result.exit_code == 1  # some closed, one refused
    report = json.loads(result.stdout)
    assert report["closed"] == ["B-1", "B-2"]
    assert [r["ref"] for r in report["refused"]] == ["B-3"] and "before the incident was reported" in (
        report["refused"][0]["reason"]
    )
    statuses = {i["ref"]: i["status"] for i in _json(ws, "incidents", "list")}
    assert statuses == {
        "B-1": "resolved",
        "B-2": "resolved",
        "B-3": "coordinating",
        "B-4": "new",
        "B-5": "coordinating",
    }
    request = _json(ws, "incidents", "show", "B-1")["requests"][0]
    assert request["outcome"] == "taken-down" and request["actioned_at"] == "2025-01-03T12:00:00+08:00"
    # Rejecting in bulk reaches new incidents too.
    assert _json(ws, "incidents", "resolve", "--search", "b-4", "--as", "rejected")["closed"] == ["B-4"]


def test_partner_page_removal_and_deactivation(desk_ws):
    ws = desk_ws
    _case(ws, "P-1")
    page = _json(ws, "partners", "show", "万网")
    assert (page["requests"], page["open_requests"], page["overdue_requests"]) == (1, 1, 0)
    assert [r["ref"] for r in page["recent"]] == ["P-1"] and page["partner"]["active"]
    assert page["audit"][0]["field"] == "created" and page["audit"][0]["actor"] == "alice"
    result = _run(ws, "partners", "show", "nobody")
    assert result.exit_code == 2 and "no partner 'nobody'" in result.output and "sitrep partners list" in result.output
    result = _run(ws, "partners", "remove", "万网")
    assert result.exit_code == 2
    assert "partner '万网' has 1 coordination request(s)" in result.output
    assert 'sitrep partners remove "万网" --deactivate' in result.output
    with pytest.raises(PartnerInUse) as refused:
        service.remove_partner(Desk.open(ws), "万网", actor="t")
    assert "--deactivate" not in str(refused.value)  # the core states the fact, the CLI gives the hint
    assert "Partner 万网: deactivated" in _ok(ws, "partners", "remove", "万网", "--deactivate").stderr
    assert [p["name"] for p in _json(ws, "partners", "list")] == ["阿里云"]
    assert {p["name"]: p["active"] for p in _json(ws, "partners", "list", "--all")} == {"万网": False, "阿里云": True}
    result = _run(ws, "incidents", "add", "--title", "t", "-c", "phishing", "-p", "万网")
    assert result.exit_code == 2 and "partner '万网' is deactivated" in result.output
    assert _json(ws, "incidents", "show", "P-1")["requests"][0]["partner"] == "万网"  # history kept
    _ok(ws, "partners", "add", "万网", "--type", "registrar")
    assert _json(ws, "partners", "show", "万网")["partner"]["active"]
    _ok(ws, "partners", "add", "临时", "--type", "other")
    assert "Partner 临时: removed" in _ok(ws, "partners", "remove", "临时").stderr
    assert "临时" not in [p["name"] for p in _json(ws, "partners", "list", "--all")]


def test_partner_scorecard_over_weeks_per_partner_and_type(desk_ws):
    ws = desk_ws
    week = Week(2025, 2)
    start, _ = week.bounds(ws.timezone)
    _ok(ws, "partners", "add", "新网", "--type", "registrar")

    def at(hours: float) -> str:
        return _local(ws, start + timedelta(hours=hours))

    # 万网: answers in 1 and 3 h, takes down after 5 and 9 h.  新网: silent for days.  阿里云: in W01.
    for ref, partner, sent, ack, down in (
        ("S-1", "万网", 1, 2, 6),
        ("S-2", "万网", 2, 5, 11),
        ("S-3", "新网", 3, None, None),
        ("S-4", "阿里云", -100, None, None),
    ):
        _case(ws, ref, partner=partner, reported=at(sent - 0.5))
        args = ["--partner", partner, "--sent", at(sent)]
        if ack is not None:
            args += ["--acknowledged", at(ack), "--actioned", at(down), "--outcome", "taken-down"]
        _ok(ws, "incidents", "update", ref, *args)
    card = _json(ws, "partners", "scorecard", "--week", "2025-W02", "--weeks", "1")
    assert (card["first_week"], card["last_week"], card["weeks"]) == ("2025-W02", "2025-W02", 1)
    rows = {r["partner"]: r for r in card["scorecard"]["partners"]}
    assert set(rows) == {"万网", "新网"}
    assert rows["万网"]["sent"] == 2 and rows["万网"]["median_hours_to_acknowledge"] == 2.0
    assert rows["万网"]["median_hours_to_takedown"] == 7.0 and rows["万网"]["no_response_share"] == 0
    assert rows["新网"]["no_response"] == 1 and rows["新网"]["no_response_share"] == 1.0
    (registrar,) = card["scorecard"]["types"]
    assert registrar["type"] == "registrar" and registrar["partners"] == 2 and registrar["sent"] == 3
    assert registrar["no_response_share"] == pytest.approx(0.333)
    two = _json(ws, "partners", "scorecard", "--week", "2025-W02", "--weeks", "2")
    assert two["first_week"] == "2025-W01" and {t["type"] for t in two["scorecard"]["types"]} == {"registrar", "cloud"}
    text = _ok(ws, "partners", "scorecard", "--week", "2025-W02", "--weeks", "1").stdout
    assert "万网" in text and "新网" in text and "did not answer: 新网" in text
    for bad, message in ((["--weeks", "0"], "weeks 0 is not between 1 and 520"), (["--week", "2025-W99"], "not 99")):
        result = _run(ws, "partners", "scorecard", *bad)
        assert result.exit_code == 2 and message in result.output


def test_a_change_against_an_old_version_is_refused_and_changes_nothing(ws):
    desk = Desk.open(ws)
    first = service.add_incident(desk, title="版本", category="phishing", actor="a", ref="V-1")
    noted = service.note_incident(desk, "V-1", "看过了", actor="a")
    assert noted and service.show_incident(desk, "V-1")["version"] != first["version"]  # a note counts
    read = service.show_incident(desk, "V-1")
    changed = service.update_incident(
        desk, "V-1", service.IncidentChanges(owner="alice"), actor="a", if_version=read["version"]
    )
    assert changed["owner"] == "alice" and changed["version"] != read["version"]
    with pytest.raises(StaleIncident, match="V-1 changed since version"):
        service.update_incident(
            desk, "V-1", service.IncidentChanges(owner="bob"), actor="b", if_version=read["version"]
        )
    after = service.show_incident(desk, "V-1")
    assert after["owner"] == "alice" and after["version"] == changed["version"]


def test_a_client_key_creates_one_incident_and_refuses_another_request(ws):
    desk = Desk.open(ws)
    once = service.ClientKey("api\x1fk-1", "digest-a")
    first = service.add_incident(desk, title="一次", category="phishing", actor="api", once=once)
    again = service.add_incident(desk, title="一次", category="phishing", actor="api", once=once)
    assert again["ref"] == first["ref"]
    assert [i["ref"] for i in service.list_incidents(desk).incidents] == [first["ref"]]
    with pytest.raises(KeyReused, match=f"'k-1' already created incident {first['ref']}"):
        service.add_incident(
            desk, title="两次", category="phishing", actor="api", once=service.ClientKey(once.key, "b")
        )
