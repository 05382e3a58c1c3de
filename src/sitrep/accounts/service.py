"""The account use cases: users, their API tokens and browser sessions, as functions over the
workspace's store (:func:`sitrep.incidents.db.open_store`) taking plain arguments and returning the
dataclasses below.  Refusals are :class:`~sitrep.accounts.errors.AccountError` stating the fact.

A token (API or session) is 32 random bytes shown once; the database keeps its SHA-256.  Logging in
checks the password at the same cost for a name that does not exist (:mod:`.passwords`).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from sitrep.accounts.errors import AccountError, DuplicateUser, UnknownToken, UnknownUser
from sitrep.accounts.models import ApiToken, User, WebSession
from sitrep.accounts.passwords import hash_password, verify
from sitrep.accounts.roles import Role, parse_role
from sitrep.incidents.db import Store
from sitrep.incidents.models import utcnow

LANGUAGES = ("zh", "en")
TOKEN_PREFIX = "sitrep_"
# How long a token's last use may be stale: an API client's every call would otherwise be a write.
_TOUCH_EVERY = timedelta(minutes=1)
_NAME = re.compile(r"^[\w][\w.@-]{0,63}$")


@dataclass(frozen=True)
class UserView:
    """A user as the CLI lists and the web shows them (never the password hash)."""

    name: str
    role: Role
    language: str
    active: bool
    created_at: datetime
    last_login_at: datetime | None
    tokens: int  # active API tokens

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["role"] = self.role.value
        for key in ("created_at", "last_login_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


@dataclass(frozen=True)
class TokenView:
    """An API token as listed: its ID and first characters, never the token."""

    id: int
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class IssuedToken:
    """A token just issued: ``token`` is shown this once and cannot be recovered."""

    id: int
    user: str
    token: str
    prefix: str


@dataclass(frozen=True)
class NewSession:
    """A browser session just started: ``token`` goes into the session cookie."""

    token: str
    user: UserView
    expires_at: datetime


def user_name(text: str) -> str:
    """A login name as stored: NFKC, lower case; letters, digits and ``. _ - @``, 1–64 characters."""
    name = unicodedata.normalize("NFKC", text).strip().lower()
    if not _NAME.match(name):
        raise AccountError(
            f"user name {text!r} is not allowed: use 1 to 64 letters, digits and . _ - @ (no spaces), "
            "starting with a letter or digit"
        )
    return name


def language(text: str) -> str:
    """An interface language: ``zh`` or ``en``."""
    lang = text.strip().lower()
    if lang not in LANGUAGES:
        raise AccountError(f"unknown language {text!r} (one of: {', '.join(LANGUAGES)})")
    return lang


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def _active_tokens(session: Session, user: User) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        )
        or 0
    )


def _view(session: Session, user: User) -> UserView:
    return UserView(
        name=user.name,
        role=Role(user.role),
        language=user.language,
        active=user.active,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
        tokens=_active_tokens(session, user),
    )


def _find(session: Session, name: str) -> User | None:
    return session.scalars(select(User).where(User.name == name)).first()


def _get(session: Session, name: str) -> User:
    found = _find(session, user_name(name))
    if found is None:
        raise UnknownUser(name.strip())
    return found


# -- users --------------------------------------------------------------------------------------------


def check_new_user(store: Store, name: str, role: str, lang: str = "zh") -> str:
    """The stored form of ``name`` when a user of that name, ``role`` and language can be added (so that
    a password is not asked for in vain)."""
    login = user_name(name)
    parse_role(role)
    language(lang)
    with store.read() as session:
        if _find(session, login) is not None:
            raise DuplicateUser(login)
    return login


def add_user(store: Store, name: str, role: str, password: str, *, lang: str = "zh") -> UserView:
    """Add a user with ``role`` and ``password`` (hashed with argon2id)."""
    login, kind, interface = user_name(name), parse_role(role), language(lang)
    hashed = hash_password(password)  # outside the write transaction: it takes a fifth of a second
    with store.write() as session:
        if _find(session, login) is not None:
            raise DuplicateUser(login)
        user = User(name=login, role=kind.value, password_hash=hashed, language=interface, active=True)
        session.add(user)
        session.flush()
        return _view(session, user)


def list_users(store: Store, *, inactive: bool = True) -> list[UserView]:
    """Every user by name (deactivated ones too unless ``inactive`` is False)."""
    with store.read() as session:
        statement = select(User).order_by(User.name)
        if not inactive:
            statement = statement.where(User.active.is_(True))
        return [_view(session, u) for u in session.scalars(statement)]


def get_user(store: Store, name: str) -> UserView:
    """One user by name."""
    with store.read() as session:
        return _view(session, _get(session, name))


def set_password(store: Store, name: str, password: str) -> UserView:
    """Give the user a new password; their browser sessions end."""
    hashed = hash_password(password)
    with store.write() as session:
        user = _get(session, name)
        user.password_hash = hashed
        session.execute(delete(WebSession).where(WebSession.user_id == user.id))
        return _view(session, user)


def set_role(store: Store, name: str, role: str) -> UserView:
    """Give the user another role (their sessions and tokens carry it from their next request)."""
    kind = parse_role(role)
    with store.write() as session:
        user = _get(session, name)
        user.role = kind.value
        return _view(session, user)


def set_language(store: Store, name: str, lang: str) -> UserView:
    """The user's interface language (``zh`` or ``en``)."""
    interface = language(lang)
    with store.write() as session:
        user = _get(session, name)
        user.language = interface
        return _view(session, user)


def deactivate_user(store: Store, name: str) -> UserView:
    """Deactivate the user: they cannot log in, their sessions end and their tokens are revoked.
    Their name stays in the audit trail."""
    with store.write() as session:
        user = _get(session, name)
        now = utcnow()
        if user.active:
            user.active = False
            user.deactivated_at = now
        for token in user.tokens:
            if token.revoked_at is None:
                token.revoked_at = now
        session.execute(delete(WebSession).where(WebSession.user_id == user.id))
        return _view(session, user)


def activate_user(store: Store, name: str) -> UserView:
    """Let a deactivated user log in again (their old tokens stay revoked)."""
    with store.write() as session:
        user = _get(session, name)
        user.active, user.deactivated_at = True, None
        return _view(session, user)


def authenticate(store: Store, name: str, password: str) -> UserView | None:
    """The user whose name and password these are, or None (unknown name, wrong password or
    deactivated user all cost one argon2 check and look alike)."""
    try:
        login = user_name(name)
    except AccountError:
        login = None
    with store.read() as session:
        user = _find(session, login) if login else None
        stored = user.password_hash if user is not None and user.active else None
    ok, rehashed = verify(password, stored)
    if not ok or user is None:
        return None
    with store.write() as session:
        fresh = session.get(User, user.id)
        if fresh is None or not fresh.active:
            return None
        fresh.last_login_at = utcnow()
        if rehashed:
            fresh.password_hash = rehashed
        return _view(session, fresh)


# -- API tokens ---------------------------------------------------------------------------------------


def issue_token(store: Store, name: str) -> IssuedToken:
    """A new API token for an active user (printed once; only its hash is stored)."""
    token = _new_token()
    with store.write() as session:
        user = _get(session, name)
        if not user.active:
            raise AccountError(f"user {user.name!r} is deactivated")
        row = ApiToken(token_hash=_digest(token), prefix=token[: len(TOKEN_PREFIX) + 6], created_at=utcnow())
        user.tokens.append(row)
        session.flush()
        return IssuedToken(id=row.id, user=user.name, token=token, prefix=row.prefix)


def list_tokens(store: Store, name: str) -> list[TokenView]:
    """The user's API tokens, revoked ones included, oldest first."""
    with store.read() as session:
        user = _get(session, name)
        return [TokenView(t.id, t.prefix, t.created_at, t.last_used_at, t.revoked_at) for t in user.tokens]


def revoke_token(store: Store, name: str, token_id: int | None = None) -> int:
    """Revoke one of the user's tokens (by ID) or, without an ID, all of them; returns how many."""
    with store.write() as session:
        user = _get(session, name)
        targets = [t for t in user.tokens if t.revoked_at is None and (token_id is None or t.id == token_id)]
        if token_id is not None and not targets:
            raise UnknownToken(user.name, token_id)
        now = utcnow()
        for token in targets:
            token.revoked_at = now
        return len(targets)


def token_user(store: Store, token: str) -> UserView | None:
    """The active user an API token belongs to, or None (unknown, revoked, or its user deactivated)."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    with store.read() as session:
        row = session.scalars(select(ApiToken).where(ApiToken.token_hash == _digest(token))).first()
        if row is None or row.revoked_at is not None or not row.user.active:
            return None
        view, stale = _view(session, row.user), row.last_used_at is None or utcnow() - row.last_used_at > _TOUCH_EVERY
        row_id = row.id
    if stale:
        with store.write() as session:
            touched = session.get(ApiToken, row_id)
            if touched is not None:
                touched.last_used_at = utcnow()
    return view


# -- browser sessions ---------------------------------------------------------------------------------


def start_session(store: Store, name: str, *, lifetime: timedelta) -> NewSession:
    """A new browser session for the (authenticated, active) user, valid for ``lifetime``; expired
    sessions of anyone are cleared on the way."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with store.write() as session:
        user = _get(session, name)
        if not user.active:
            raise AccountError(f"user {user.name!r} is deactivated")
        session.execute(delete(WebSession).where(WebSession.expires_at <= now))
        row = WebSession(user_id=user.id, token_hash=_digest(token), created_at=now, expires_at=now + lifetime)
        session.add(row)
        return NewSession(token=token, user=_view(session, user), expires_at=row.expires_at)


def session_user(store: Store, token: str) -> UserView | None:
    """The active user of a browser session token, or None (unknown, ended or expired)."""
    with store.read() as session:
        row = session.scalars(select(WebSession).where(WebSession.token_hash == _digest(token))).first()
        if row is None or row.expires_at <= utcnow() or not row.user.active:
            return None
        return _view(session, row.user)


def end_session(store: Store, token: str) -> None:
    """End a browser session (logging out); an unknown token is ignored."""
    with store.write() as session:
        session.execute(delete(WebSession).where(WebSession.token_hash == _digest(token)))
