"""Password hashing (argon2id through pwdlib) and the password policy.

Verifying a password costs the same whether or not the user exists: for an unknown or deactivated
user the password is checked against a hash of nothing (:func:`verify`), so the time of a failed login
does not tell an attacker which names exist.
"""

from __future__ import annotations

from functools import cache

from pwdlib import PasswordHash
from pwdlib.exceptions import UnknownHashError
from pwdlib.hashers.argon2 import Argon2Hasher

from sitrep.accounts.errors import WeakPassword

MIN_LENGTH = 10
# argon2 reads all of it: a megabyte of "password" would make every login attempt expensive.
MAX_LENGTH = 1024


@cache
def _hasher() -> PasswordHash:
    # pwdlib's defaults: argon2id, 64 MiB, 3 passes, 4 lanes (about 0.17 s on two cores).
    return PasswordHash((Argon2Hasher(),))


@cache
def _decoy() -> str:
    return _hasher().hash("sitrep: the hash unknown users are checked against")


def check_password(password: str) -> str:
    """``password`` if the policy accepts it: 10 to 1024 characters, not all blank."""
    if not password.strip():
        raise WeakPassword("the password is empty")
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"the password has {len(password)} characters; at least {MIN_LENGTH} are needed")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"the password is longer than {MAX_LENGTH} characters")
    return password


def hash_password(password: str) -> str:
    """The argon2id hash to store for ``password`` (checked against the policy first)."""
    return _hasher().hash(check_password(password))


def verify(password: str, stored: str | None) -> tuple[bool, str | None]:
    """Whether ``password`` matches ``stored`` (None: no such user, checked against a decoy at the same
    cost), and a new hash to store when the parameters changed since it was made."""
    decoy = _decoy()  # made before the first check, so that no first attempt costs more than another
    if len(password) > MAX_LENGTH:
        password, stored = password[:MAX_LENGTH], None
    try:
        ok, updated = _hasher().verify_and_update(password, stored or decoy)
    except UnknownHashError:
        _hasher().verify(password, decoy)
        return False, None
    return (ok and stored is not None), updated
