"""The change counter of the case data: every committed write of an incident, a partner, a request, a
note or the audit trail moves it (on SQLite and PostgreSQL); a login or a rolled-back change does not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert

from sitrep.accounts import service as accounts
from sitrep.incidents import service
from sitrep.incidents.desk import Desk
from sitrep.incidents.errors import UnknownIncident
from sitrep.incidents.models import Incident


@pytest.fixture
def desk(ws):
    return Desk.open(ws)


def test_each_kind_of_case_change_moves_the_counter(desk):
    seen = [desk.store.changes()]

    def moved() -> bool:
        seen.append(desk.store.changes())
        return seen[-1] > seen[-2]

    service.add_partner(desk, "阿里云", "cloud", actor="t", email="abuse@example.com")
    assert moved()
    service.add_incident(desk, title="仿冒网站", category="phishing", actor="t", ref="INC-1")
    assert moved()
    service.update_incident(desk, "INC-1", service.IncidentChanges(status="triaged"), actor="t")
    assert moved()
    service.note_incident(desk, "INC-1", "called the registrar", actor="t")
    assert moved()
    service.update_incident(
        desk, "INC-1", service.IncidentChanges(status="coordinating", partner="阿里云", sent="now"), actor="t"
    )
    assert moved()
    service.assign_incidents(desk, ["INC-1"], "alice", actor="t")
    assert moved()
    assert service.resolve_incidents(desk, ["INC-1"], actor="t", outcome="taken-down").closed == ["INC-1"]
    assert moved()
    service.add_partner(desk, "unused", "other", actor="t")
    seen.append(desk.store.changes())
    service.remove_partner(desk, "unused", actor="t")
    assert moved()


def test_a_bulk_insert_that_bypasses_the_flush_moves_it_too(desk):
    before = desk.store.changes()
    with desk.store.write() as session:
        session.execute(
            insert(Incident), [{"ref": "BULK-1", "title": "t", "category": "phishing", "reported_via": "monitoring"}]
        )
    assert desk.store.changes() == before + 1


def test_logins_reads_and_refused_changes_leave_it(desk):
    service.add_incident(desk, title="仿冒网站", category="phishing", actor="t", ref="INC-1")
    before = desk.store.changes()
    accounts.add_user(desk.store, "alice", "analyst", "a long enough password")
    accounts.start_session(desk.store, "alice", lifetime=timedelta(hours=1))
    service.list_incidents(desk)
    service.show_incident(desk, "INC-1")
    with pytest.raises(UnknownIncident):
        service.note_incident(desk, "INC-404", "nothing to note", actor="t")
    assert desk.store.changes() == before


def test_a_change_rolled_back_leaves_it(desk):
    before = desk.store.changes()
    with pytest.raises(RuntimeError), desk.store.write() as session:
        session.add(Incident(ref="GONE", title="t", category="phishing", reported_via="monitoring"))
        session.flush()
        raise RuntimeError("abort")
    assert desk.store.changes() == before
