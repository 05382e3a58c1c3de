"""The collection tests' mail server: one real Dovecot on loopback for the whole session (its start
costs a second or two; each test module uses folders of its own)."""

from __future__ import annotations

import pytest

from dovecot import dovecot_server


@pytest.fixture(scope="session")
def dovecot():
    with dovecot_server() as server:
        yield server
