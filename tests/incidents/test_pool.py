"""The connection pool of a server database: sized by ``[storage]``, and a request that finds every
connection in use waits as long as for a lock, then says the database stayed busy."""

from __future__ import annotations

import time
from contextlib import ExitStack

import pytest
from sqlalchemy import select

from sitrep.incidents.db import open_store
from sitrep.incidents.errors import StoreBusy
from sitrep.incidents.models import Incident

from .conftest import make_workspace


@pytest.fixture
def pg_url(postgres) -> str:
    return postgres.create_database()


def test_the_pool_holds_size_plus_overflow_connections_at_once(tmp_path, pg_url):
    ws = make_workspace(
        tmp_path / "ws",
        pg_url,
        storage={"database_pool_size": 2, "database_max_overflow": 1},
        incidents={"busy_timeout_seconds": 0.3},
    )
    store = open_store(ws)
    assert store.engine.pool.size() == 2
    with ExitStack() as held:
        for _ in range(3):  # two kept, one more at the peak
            held.enter_context(store.read()).scalars(select(Incident)).all()
        with pytest.raises(StoreBusy), store.read() as fourth:
            fourth.scalars(select(Incident)).all()


def test_a_request_past_the_pool_waits_then_says_busy(tmp_path, pg_url):
    ws = make_workspace(
        tmp_path / "ws",
        pg_url,
        storage={"database_pool_size": 1, "database_max_overflow": 0},
        incidents={"busy_timeout_seconds": 0.5},
    )
    store = open_store(ws)
    with store.read() as holder:
        holder.scalars(select(Incident)).all()  # the one connection is now checked out
        started = time.monotonic()
        busy = pytest.raises(StoreBusy, match=r"stayed busy: every connection .*database_pool_size")
        with busy, store.read() as waiting:
            waiting.scalars(select(Incident)).all()
        assert 0.4 < time.monotonic() - started < 5
    with store.read() as again:  # released: the next request gets it
        assert again.scalars(select(Incident)).all() == []
