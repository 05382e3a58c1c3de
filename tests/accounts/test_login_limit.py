"""The login limit kept in the store: shared by every limiter on the same store (the processes of
``sitrep serve --workers N``), on SQLite and PostgreSQL, and by a real two-process server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from incidents.conftest import free_port
from sitrep.accounts import service
from sitrep.accounts.login_limit import LoginLimiter
from sitrep.accounts.models import LoginFailure
from sitrep.incidents.db import open_store


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def store(ws):
    return open_store(ws)


def test_failures_counted_by_one_limiter_limit_another_on_the_same_store(store):
    clock = Clock()
    first, second = (LoginLimiter(store, per_user=3, per_address=10, window=600, clock=clock) for _ in range(2))
    for _ in range(2):
        first.failed("alice", "192.0.2.1")
    assert second.retry_after("alice", "192.0.2.9") is None  # two of three: one more may be tried
    clock.now += timedelta(seconds=60)
    second.failed("alice", "192.0.2.9")
    # The third failure fills the name's limit: the oldest counted one (at 09:00) leaves at 09:10.
    assert first.retry_after("alice", "198.51.100.7") == 540
    assert first.retry_after("bob", "192.0.2.1") is None  # the address has 2 of its 10
    clock.now += timedelta(seconds=540)
    assert second.retry_after("alice", "192.0.2.1") is None


def test_the_address_limit_holds_across_names_and_a_success_forgets_only_the_name(store):
    clock = Clock()
    limiter = LoginLimiter(store, per_user=5, per_address=3, window=900, clock=clock)
    for name in ("a", "b", "c"):
        limiter.failed(name, "203.0.113.5")
    assert limiter.retry_after("d", "203.0.113.5") == 900
    limiter.succeeded("a")
    assert limiter.retry_after("d", "203.0.113.5") == 900  # the address keeps its failures
    for _ in range(5):
        limiter.failed("e", "198.51.100.1")
    limiter.succeeded("e")
    assert limiter.retry_after("e", "198.51.100.2") is None


def test_failures_older_than_the_window_are_removed(store):
    clock = Clock()
    limiter = LoginLimiter(store, window=60, clock=clock)
    limiter.failed("x" * 1000, "192.0.2.1")  # a name longer than the column is cut, not an error
    clock.now += timedelta(seconds=61)
    limiter.failed("y", "192.0.2.2")
    with store.read() as session:
        kept = session.scalars(select(LoginFailure.key).order_by(LoginFailure.key)).all()
        assert kept == ["192.0.2.2", "y"]
        assert session.scalar(select(func.count()).select_from(LoginFailure)) == 2


def test_a_two_process_server_starts_two_workers_and_refuses_the_sixth_wrong_password(workspace):
    ws = workspace  # one backend is enough here: the store is shared the same way on both
    service.add_user(open_store(ws), "carol", "analyst", "a long and correct password")
    port = free_port()
    env = {**os.environ, "SITREP_HOME": str(ws.root)}
    server = subprocess.Popen(
        [sys.executable, "-m", "sitrep", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/login", timeout=5)
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        statuses = []
        for _ in range(6):
            # A new connection each time, so both worker processes get some of the attempts.
            with httpx.Client(base_url=base) as browser:
                form = browser.get("/login")
                csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
                assert csrf is not None
                answer = browser.post("/login", data={"name": "carol", "password": "wrong", "csrf_token": csrf[1]})
                statuses.append(answer.status_code)
        assert statuses == [401] * 5 + [429]
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    started = set(re.findall(r"Started server process \[(\d+)\]", output))
    assert len(started) == 2, output
