"""The demo flow: realistic weekly shapes, deterministic for a seed, re-runnable."""

from __future__ import annotations

from sitrep.demo.incidents import generate_incidents
from sitrep.incidents.db import session_scope
from sitrep.incidents.stats import weekly_stats
from sitrep.weeks import Week

from .conftest import make_workspace

WEEKS = [Week(2025, 1), Week(2025, 2), Week(2025, 3)]


def _numbers(ws):
    with session_scope(ws) as session:
        return [weekly_stats(session, w, tz=ws.timezone) for w in WEEKS]


def test_demo_weeks_look_like_a_cert_week_and_are_deterministic(tmp_path):
    ws = make_workspace(tmp_path / "a")
    summary = generate_incidents(ws, WEEKS, seed=7)
    assert summary["rejected"] == []
    numbers = _numbers(ws)
    for week in numbers:
        assert 40 <= week["handled"] <= 90
        assert 0.4 <= week["phishing"] / week["handled"] <= 0.7
        assert 0.25 <= week["cross_border"] / week["handled"] <= 0.6
        assert 6 <= week["mobile_malware_platforms"] <= 11
        assert week["mobile_malware_urls"] >= week["mobile_malware_platforms"]
        assert week["partner_types"][:3] == ["cloud", "registrar", "app-store"]
        assert week["scorecard"]["requests"] >= week["handled"]
    other = make_workspace(tmp_path / "b")
    generate_incidents(other, WEEKS, seed=7)
    assert _numbers(other) == numbers
    again = generate_incidents(ws, WEEKS, seed=7)
    assert again["created"] == 0 and _numbers(ws) == numbers
