"""Weekly handling numbers: the acceptance scenario, week boundaries, breakdowns and the scorecard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from sitrep.incidents.db import session_scope
from sitrep.incidents.importer import import_incidents
from sitrep.incidents.models import CoordinationRequest, Partner
from sitrep.incidents.stats import weekly_stats
from sitrep.incidents.vocabulary import Outcome
from sitrep.incidents.workflow import update_request
from sitrep.weeks import Week

from .conftest import DATA

W01 = Week(2025, 1)


def _stats(ws, week=W01, no_response_hours=72):
    with session_scope(ws) as session:
        return weekly_stats(session, week, tz=ws.timezone, no_response_hours=no_response_hours)


def test_acceptance_week_numbers(ws):
    with session_scope(ws) as session:
        import_incidents(session, DATA / "acceptance_2025w01.csv", workspace=ws, actor="t")
    data = _stats(ws)
    assert (
        data["handled"],
        data["cross_border"],
        data["phishing"],
        data["mobile_malware_urls"],
        data["mobile_malware_platforms"],
    ) == (67, 28, 38, 14, 12)
    assert data["partner_types"] == [
        "cloud",
        "registrar",
        "app-store",
        "branch",
        "intl-org",
        "foreign-cert",
        "telecom",
    ]
    assert data["by_category"]["phishing"] == 38
    assert data["by_category"]["mobile-malware"] == 13
    assert data["by_category"]["defacement"] == 6 and data["by_category"]["backdoor"] == 5
    assert sum(data["by_category"].values()) == 67
    assert data["by_partner_type"]["app-store"] == 13
    assert data["by_partner_type"]["branch"] == 11
    # Phishing takes 8.5 h, mobile malware 10 h, defacement 10 h, backdoor 25 h, malware 16 h, DDoS 3 h.
    assert data["median_hours_to_resolve"] == 8.5
    assert len(data["incidents"]) == 67 and "CN-2025-W02-902" not in data["incidents"]
    assert data["start"] == "2024-12-30T00:00:00+08:00" and data["end"] == "2025-01-06T00:00:00+08:00"


def test_neighbouring_weeks_get_their_own_incidents(ws):
    with session_scope(ws) as session:
        import_incidents(session, DATA / "acceptance_2025w01.csv", workspace=ws, actor="t")
    assert _stats(ws, Week(2024, 52))["handled"] == 1
    w02 = _stats(ws, Week(2025, 2))
    assert w02["handled"] == 2
    assert (w02["phishing"], w02["mobile_malware_urls"], w02["mobile_malware_platforms"]) == (1, 1, 1)
    assert w02["cross_border"] == 1  # APWG is a US organisation


def test_empty_week_is_all_zero(ws):
    data = _stats(ws)
    assert data["handled"] == 0 and data["partner_types"] == [] and data["median_hours_to_resolve"] is None
    assert data["scorecard"] == {
        "partners": [],
        "types": [],
        "requests": 0,
        "sent": 0,
        "acknowledged": 0,
        "median_hours_to_acknowledge": None,
        "median_hours_to_takedown": None,
        "no_response": [],
    }


def test_scorecard_counts_answers_takedown_time_and_silent_partners(ws):
    with session_scope(ws) as session:
        import_incidents(session, DATA / "acceptance_2025w01.csv", workspace=ws, actor="t")
    start, _ = W01.bounds(ws.timezone)
    with session_scope(ws) as session:

        def requests_of(name):
            return session.scalars(select(CoordinationRequest).join(Partner).where(Partner.name == name)).all()

        # A request is sent after its incident was reported (an earlier time is refused).
        for i, request in enumerate(requests_of("腾讯云")):
            sent = request.incident.reported_at + timedelta(hours=1 + i)
            update_request(
                session,
                request,
                actor="t",
                sent_at=sent,
                acknowledged_at=sent + timedelta(hours=1),
                actioned_at=sent + timedelta(hours=4 + 2 * i),
                outcome=Outcome.TAKEN_DOWN,
            )
        for request in requests_of("CERT-RU"):
            update_request(session, request, actor="t", sent_at=request.incident.reported_at + timedelta(hours=1))
        for request in requests_of("HKCERT"):
            update_request(session, request, actor="t", sent_at=start + timedelta(days=6, hours=12))
    # CERT-RU's last request is sent 62 h before the week ends: silent past 48 h.
    card = _stats(ws, no_response_hours=48)["scorecard"]
    rows = {r["partner"]: r for r in card["partners"]}
    tencent = rows["腾讯云"]
    assert tencent["requests"] == 6 and tencent["acknowledged"] == 6 and tencent["taken_down"] == 6
    assert tencent["median_hours_to_takedown"] == 9.0  # 4, 6, … 14 hours
    assert rows["CERT-RU"]["no_response"] == 3
    assert rows["HKCERT"]["no_response"] == 0  # sent 12 h before the week ended: not yet overdue
    assert card["no_response"] == ["CERT-RU"]
    assert card["requests"] == sum(r["requests"] for r in card["partners"])
    order = [r["type"] for r in card["partners"]]
    assert order.index("cloud") < order.index("app-store") < order.index("foreign-cert")


def test_an_incident_resolved_exactly_at_the_week_end_belongs_to_the_next_week(ws, tmp_path):
    path = tmp_path / "edge.csv"
    start, end = W01.bounds(ws.timezone)
    path.write_text(
        "ref,title,category,resolved_at\n"
        f"E-1,t,other,{start.isoformat()}\n"
        f"E-2,t,other,{(end - timedelta(microseconds=1)).isoformat()}\n"
        f"E-3,t,other,{end.isoformat()}\n",
        encoding="utf-8",
    )
    with session_scope(ws) as session:
        import_incidents(session, path, workspace=ws, actor="t")
    assert _stats(ws)["incidents"] == ["E-1", "E-2"]
    assert _stats(ws, Week(2025, 2))["incidents"] == ["E-3"]
    assert end == datetime(2025, 1, 5, 16, 0, tzinfo=UTC)
