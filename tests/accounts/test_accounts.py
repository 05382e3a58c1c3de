"""Users, roles, passwords, API tokens and browser sessions, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select

import sitrep.jobs.records  # noqa: F401  (the jobs table shares the schema)
from sitrep.accounts import service
from sitrep.accounts.errors import AccountError, DuplicateUser, UnknownToken, UnknownUser, WeakPassword
from sitrep.accounts.models import ApiToken, User
from sitrep.accounts.roles import PERMISSIONS, Action, Role, may
from sitrep.incidents.db import HEAD, alembic_config, open_store
from sitrep.incidents.models import Base

PASSWORD = "correct horse battery"


@pytest.fixture
def store(ws):
    return open_store(ws)


def test_the_migration_creates_the_account_tables_as_the_models_declare(store):
    assert {"users", "api_tokens", "web_sessions"} <= set(inspect(store.engine).get_table_names())
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD


def test_the_role_table_decides_every_action():
    assert set(PERMISSIONS) == set(Role)
    assert all(may(role, Action.VIEW) for role in Role)
    assert [r for r in Role if may(r, Action.EDIT_INCIDENTS)] == [Role.ADMIN, Role.ANALYST, Role.PUBLISHER]
    assert [r for r in Role if may(r, Action.PUBLISH)] == [Role.ADMIN, Role.PUBLISHER]
    assert [r for r in Role if may(r, Action.MANAGE_USERS)] == [Role.ADMIN]
    assert not may(Role.VIEWER, Action.EDIT_REPORT)


def test_a_user_is_added_with_a_hashed_password_and_found_by_any_case(store):
    added = service.add_user(store, "Alice", "analyst", PASSWORD)
    assert (added.name, added.role, added.language, added.active) == ("alice", Role.ANALYST, "zh", True)
    with store.read() as session:
        stored = session.scalars(select(User)).one().password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert service.authenticate(store, "ALICE", PASSWORD).name == "alice"
    assert service.authenticate(store, "alice", PASSWORD + "x") is None
    assert service.get_user(store, "alice").last_login_at is not None
    with pytest.raises(DuplicateUser, match="'alice' exists already"):
        service.add_user(store, "alice", "viewer", PASSWORD)


@pytest.mark.parametrize(
    ("name", "role", "password", "error", "message"),
    [
        ("bob", "superuser", PASSWORD, ValueError, "unknown role 'superuser'"),
        ("bob smith", "viewer", PASSWORD, AccountError, "'bob smith' is not allowed"),
        ("bob\u202e", "viewer", PASSWORD, AccountError, "is not allowed"),
        ("bob", "viewer", "short", WeakPassword, "5 characters; at least 10"),
        ("bob", "viewer", " " * 12, WeakPassword, "empty"),
        ("bob", "viewer", "x" * 1025, WeakPassword, "longer than 1024"),
    ],
)
def test_bad_users_are_refused_with_the_value(store, name, role, password, error, message):
    with pytest.raises(error, match=message):
        service.add_user(store, name, role, password)
    assert service.list_users(store) == []


def test_an_unknown_user_costs_as_much_to_check_as_a_known_one(store):
    service.add_user(store, "alice", "viewer", PASSWORD)
    service.authenticate(store, "nobody", "warm up the decoy")

    # CPU time of this process, the least of five: other work on a loaded machine (a CI run) stretches
    # wall time, not the argon2 work done here.
    def timed(name):
        started = time.process_time()
        assert service.authenticate(store, name, "wrong password!") is None
        return time.process_time() - started

    known = min(timed("alice") for _ in range(5))
    unknown = min(timed("nobody") for _ in range(5))
    assert unknown > 0.05  # an argon2 check, not a shortcut
    assert 0.6 < unknown / known < 1.6


def test_api_tokens_are_shown_once_stored_hashed_and_revocable(store):
    service.add_user(store, "carol", "publisher", PASSWORD)
    issued = service.issue_token(store, "carol")
    assert issued.token.startswith("sitrep_") and len(issued.token) > 40
    with store.read() as session:
        row = session.scalars(select(ApiToken)).one()
    assert issued.token not in (row.token_hash, row.prefix) and issued.token.startswith(row.prefix)
    assert service.token_user(store, issued.token).role is Role.PUBLISHER
    assert service.token_user(store, issued.token + "x") is None
    assert service.token_user(store, "not a token") is None
    assert service.list_tokens(store, "carol")[0].last_used_at is not None
    second = service.issue_token(store, "carol")
    assert service.get_user(store, "carol").tokens == 2
    assert service.revoke_token(store, "carol", issued.id) == 1
    assert service.token_user(store, issued.token) is None
    assert service.token_user(store, second.token) is not None
    with pytest.raises(UnknownToken, match=f"no active API token {issued.id}"):
        service.revoke_token(store, "carol", issued.id)


def test_deactivation_ends_sessions_revokes_tokens_and_refuses_login(store):
    service.add_user(store, "dave", "analyst", PASSWORD)
    token = service.issue_token(store, "dave").token
    browser = service.start_session(store, "dave", lifetime=timedelta(hours=1))
    assert service.session_user(store, browser.token).name == "dave"
    gone = service.deactivate_user(store, "dave")
    assert (gone.active, gone.tokens) == (False, 0)
    assert service.session_user(store, browser.token) is None
    assert service.token_user(store, token) is None
    assert service.authenticate(store, "dave", PASSWORD) is None
    with pytest.raises(AccountError, match="deactivated"):
        service.issue_token(store, "dave")
    assert [u.name for u in service.list_users(store, inactive=False)] == []
    service.activate_user(store, "dave")
    assert service.authenticate(store, "dave", PASSWORD) is not None
    assert service.token_user(store, token) is None  # old tokens stay revoked


def test_sessions_end_at_logout_expiry_and_password_change(store):
    service.add_user(store, "erin", "viewer", PASSWORD)
    one = service.start_session(store, "erin", lifetime=timedelta(hours=1))
    two = service.start_session(store, "erin", lifetime=timedelta(hours=1))
    service.end_session(store, one.token)
    assert service.session_user(store, one.token) is None
    assert service.session_user(store, two.token) is not None
    service.set_password(store, "erin", "another good password")
    assert service.session_user(store, two.token) is None
    assert service.authenticate(store, "erin", PASSWORD) is None
    expired = service.start_session(store, "erin", lifetime=timedelta(seconds=-1))
    assert service.session_user(store, expired.token) is None


def test_unknown_users_are_named(store):
    for call in (service.deactivate_user, service.issue_token, service.list_tokens, service.get_user):
        with pytest.raises(UnknownUser, match="no user 'ghost'"):
            call(store, "ghost")
    with pytest.raises(AccountError, match="unknown language 'fr'"):
        service.add_user(store, "frank", "viewer", PASSWORD, lang="fr")
    service.add_user(store, "frank", "viewer", PASSWORD, lang="en")
    assert service.set_language(store, "frank", "zh").language == "zh"
    assert service.set_role(store, "frank", "admin").role is Role.ADMIN
