"""The store on SQLite and PostgreSQL: migrations, timestamps, status machine, audit, cross-border."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect, select

from sitrep.incidents.db import engine_for, session_scope, upgrade
from sitrep.incidents.models import Incident
from sitrep.incidents.partners import PartnerSpec, upsert_partner
from sitrep.incidents.vocabulary import Outcome, Status
from sitrep.incidents.workflow import (
    Home,
    WorkflowError,
    add_asset,
    add_request,
    create_incident,
    override_cross_border,
    path_to,
    refresh_cross_border,
    set_field,
    transition,
    update_request,
)
from sitrep.taxonomy import IncidentCategory, PartnerType


def test_migrations_create_every_table_and_are_idempotent(ws):
    upgrade(ws)  # a second upgrade is a no-op
    engine = engine_for(ws)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {
        "incidents",
        "assets",
        "incident_events",
        "coordination_requests",
        "partners",
        "audit_log",
        "alembic_version",
    } <= tables


def test_timestamps_round_trip_as_aware_utc(ws):
    reported = datetime(2025, 1, 2, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    with session_scope(ws) as session:
        create_incident(
            session,
            ref="T-1",
            title="t",
            category=IncidentCategory.PHISHING,
            actor="alice",
            reported_at=reported,
        )
    with session_scope(ws) as session:
        incident = session.scalars(select(Incident).where(Incident.ref == "T-1")).one()
        assert incident.reported_at == reported
        assert incident.reported_at.tzinfo is UTC
        assert incident.reported_at.hour == 1


def test_status_machine_refuses_illegal_transitions_with_the_allowed_ones(ws):
    with session_scope(ws) as session:
        incident = create_incident(session, ref="T-2", title="t", category=IncidentCategory.MALWARE, actor="alice")
        with pytest.raises(WorkflowError, match=r"cannot go from new to resolved.*triaged, rejected"):
            transition(session, incident, Status.RESOLVED, actor="alice")
        transition(session, incident, Status.TRIAGED, actor="alice")
        transition(session, incident, Status.COORDINATING, actor="bob")
        transition(session, incident, Status.UNRESOLVED, actor="bob")
        with pytest.raises(WorkflowError, match="closed"):
            transition(session, incident, Status.COORDINATING, actor="bob")
    with session_scope(ws) as session:
        incident = session.scalars(select(Incident).where(Incident.ref == "T-2")).one()
        assert incident.status == "unresolved"
        assert incident.triaged_at and incident.coordinating_at and incident.unresolved_at
        assert incident.resolved_at is None


def test_path_to_walks_the_legal_path():
    assert path_to(Status.NEW, Status.RESOLVED) == [Status.TRIAGED, Status.COORDINATING, Status.RESOLVED]
    assert path_to(Status.NEW, Status.REJECTED) == [Status.REJECTED]
    assert path_to(Status.COORDINATING, Status.COORDINATING) == []
    with pytest.raises(WorkflowError):
        path_to(Status.RESOLVED, Status.NEW)


def test_audit_trail_records_who_when_old_and_new(ws):
    with session_scope(ws) as session:
        incident = create_incident(
            session, ref="T-3", title="old title", category=IncidentCategory.OTHER, actor="alice"
        )
        assert set_field(session, incident, "title", "new title", "bob") is True
        assert set_field(session, incident, "title", "new title", "bob") is False  # no change, no entry
        transition(session, incident, Status.TRIAGED, actor="carol")
    with session_scope(ws) as session:
        incident = session.scalars(select(Incident).where(Incident.ref == "T-3")).one()
        trail = [(e.actor, e.field, e.old, e.new) for e in incident.audit]
        assert trail == [
            ("alice", "created", None, "T-3"),
            ("bob", "title", "old title", "new title"),
            ("carol", "status", "new", "triaged"),
        ]
        assert all(e.at.tzinfo is UTC for e in incident.audit)


def _partner(session, name, kind, country):
    partner, _ = upsert_partner(session, PartnerSpec.build(name=name, type=kind, country=country), actor="t")
    return partner


def test_cross_border_is_derived_from_partner_reporter_and_asset(ws):
    home = Home.of(ws)
    with session_scope(ws) as session:
        domestic = _partner(session, "阿里云", PartnerType.CLOUD, "CN")
        foreign = _partner(session, "JPCERT/CC", PartnerType.FOREIGN_CERT, "JP")
        a = create_incident(session, ref="X-1", title="t", category=IncidentCategory.PHISHING, actor="t")
        add_request(session, a, domestic, actor="t")
        add_asset(session, a, "http://phish.example.cn/login", actor="t", home=home)
        refresh_cross_border(session, a, home, actor="t")
        assert a.cross_border is False
        assert a.assets[0].country == "CN"  # under the home TLD
        add_request(session, a, foreign, actor="t")
        refresh_cross_border(session, a, home, actor="t")
        assert a.cross_border is True

        b = create_incident(
            session,
            ref="X-2",
            title="t",
            category=IncidentCategory.MALWARE,
            actor="t",
            reporter="KrCERT",
            reporter_country="KR",
        )
        refresh_cross_border(session, b, home, actor="t")
        assert b.cross_border is True

        c = create_incident(session, ref="X-3", title="t", category=IncidentCategory.MALWARE, actor="t")
        add_asset(session, c, "198.51.100.9", actor="t", country="US", home=home)
        refresh_cross_border(session, c, home, actor="t")
        assert c.cross_border is True


def test_cross_border_override_needs_a_reason_and_is_audited(ws):
    home = Home.of(ws)
    with session_scope(ws) as session:
        foreign = _partner(session, "US-CERT", PartnerType.FOREIGN_CERT, "US")
        incident = create_incident(session, ref="X-4", title="t", category=IncidentCategory.DDOS, actor="t")
        add_request(session, incident, foreign, actor="t")
        refresh_cross_border(session, incident, home, actor="t")
        assert incident.cross_border is True
        with pytest.raises(WorkflowError, match="reason"):
            override_cross_border(session, incident, False, reason=" ", actor="t", home=home)
        override_cross_border(session, incident, False, reason="US-CERT only informed", actor="dave", home=home)
        assert incident.cross_border is False
        override_cross_border(session, incident, None, reason=None, actor="dave", home=home)
        assert incident.cross_border is True
    with session_scope(ws) as session:
        incident = session.scalars(select(Incident).where(Incident.ref == "X-4")).one()
        overrides = [(e.old, e.new) for e in incident.audit if e.field == "cross_border_override"]
        assert overrides == [
            ("derived", "no: US-CERT only informed"),
            ("no: US-CERT only informed", "derived"),
        ]


def test_request_progress_is_recorded_once(ws):
    with session_scope(ws) as session:
        partner = _partner(session, "腾讯云", PartnerType.CLOUD, "CN")
        incident = create_incident(session, ref="R-1", title="t", category=IncidentCategory.MALWARE, actor="t")
        request, created = add_request(session, incident, partner, actor="t")
        again, created_again = add_request(session, incident, partner, actor="t")
        assert created and not created_again and again is request
        when = datetime(2025, 1, 2, 1, 0, tzinfo=UTC)
        assert update_request(session, request, actor="t", sent_at=when, outcome=Outcome.TAKEN_DOWN)
        assert not update_request(session, request, actor="t", sent_at=when)
    with session_scope(ws) as session:
        incident = session.scalars(select(Incident).where(Incident.ref == "R-1")).one()
        assert len(incident.requests) == 1
        assert incident.requests[0].outcome == "taken-down"
        assert incident.requests[0].sent_at == when


def test_duplicate_refs_are_refused_by_the_database(ws):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), session_scope(ws) as session:
        create_incident(session, ref="D-1", title="a", category=IncidentCategory.OTHER, actor="t")
        create_incident(session, ref="D-1", title="b", category=IncidentCategory.OTHER, actor="t")
        session.flush()
    with session_scope(ws) as session:
        assert session.scalars(select(Incident)).all() == []
