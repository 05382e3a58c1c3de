"""The incident list and the overdue requests are read by index (SQLite's query plans): a page costs
the same at 100 incidents and at 100,000 (``bench/web.py`` measures it at 100,000)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from sitrep.incidents import service
from sitrep.incidents.desk import Desk

from .conftest import make_workspace


@pytest.fixture
def desk(tmp_path):
    desk = Desk.open(make_workspace(tmp_path / "ws"))
    service.add_partner(desk, "阿里云", "cloud", actor="t", email="abuse@example.com")
    for n in range(30):
        service.add_incident(
            desk,
            title=f"仿冒 {n}",
            category="phishing",
            actor="t",
            ref=f"INC-{n}",
            owner="Alice",
            partner_names=["阿里云"],
            reported_at="2025-01-01T08:00",
        )
    return desk


@contextmanager
def plans(desk: Desk, table: str = "incidents") -> Iterator[list[str]]:
    """The query plan of every SELECT from ``table`` run in the block, one text per statement."""
    statements: list[tuple[str, object]] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and f"FROM {table}" in statement:
            statements.append((statement, parameters))

    event.listen(desk.store.engine, "before_cursor_execute", seen)
    found: list[str] = []
    try:
        yield found
    finally:
        event.remove(desk.store.engine, "before_cursor_execute", seen)
    with desk.store.engine.connect() as connection:
        for statement, parameters in statements:
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            found.append(" | ".join(row[-1] for row in rows))


@pytest.mark.parametrize(
    ("query", "index"),
    [
        (service.IncidentQuery(statuses=["new"]), "ix_incidents_status_id"),
        (service.IncidentQuery(owner="ALICE", statuses=["new"]), "ix_incidents_owner_key"),
    ],
)
def test_a_filtered_page_reads_one_index_range_in_order(desk, query, index):
    with plans(desk) as found:
        page = service.list_incidents(desk, query, limit=10)
        service.list_incidents(desk, query, limit=10, after=page.next_after)
    assert len(page.incidents) == 10 and page.next_after
    listing = [p for p in found if "incidents" in p and "SEARCH" in p and index in p]
    assert len(listing) == 2, found
    assert not any("TEMP B-TREE" in p for p in listing), listing  # no sort of every match


def test_overdue_requests_are_found_from_the_open_incidents(desk):
    for n in range(3):
        changes = service.IncidentChanges(status="triaged")
        service.update_incident(desk, f"INC-{n}", changes, actor="t")
        changes = service.IncidentChanges(status="coordinating", partner="阿里云", sent="2025-01-01T10:00")
        service.update_incident(desk, f"INC-{n}", changes, actor="t")
    with plans(desk, "coordination_requests") as found:
        overdue = service.overdue_requests(desk, limit=2)
        total = service.count_overdue(desk)
    assert (len(overdue), total) == (2, 3)
    # From the open incidents (by status) to their requests: no scan of every request ever sent.
    assert len(found) == 2 and all("ix_incidents_status_id" in p and "SCAN" not in p for p in found), found
