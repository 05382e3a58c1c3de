"""Opaque IDs for restricted (TLP:AMBER/RED) data in public outputs, keyed by a per-workspace secret.

A public report lists the IDs behind each number.  The ID of restricted data (an incident ref, a lake
event ID) may itself name something — refs such as ``PHISH-2025-0042`` are guessable, and event IDs are
hashes of the event's content — so it is replaced by ``restricted-<12 hex>``, an HMAC-SHA256 of the ID
under the workspace's secret.  Without the secret nobody can test a guess; with the workspace an analyst
can match an opaque ID to the data behind it.

The secret is a random 256-bit key in ``<workspace>/.sitrep-secret`` (mode 0600), created when the
workspace is created, or on first use in a workspace made before it existed.  It is never printed.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import secrets
from pathlib import Path

from sitrep.config import Workspace

SECRET_NAME = ".sitrep-secret"
SECRET_BYTES = 32
PREFIX = "restricted-"
ID_HEX = 12


class SecretError(Exception):
    """The workspace secret exists but cannot be read or is not a secret Sitrep wrote."""


def secret_path(workspace: Workspace) -> Path:
    """Where the workspace keeps its secret."""
    return workspace.root / SECRET_NAME


def _create(path: Path) -> None:
    """Write a fresh secret to ``path`` unless one is there: a complete 0600 file appears under the
    final name or nothing does, and of two processes racing, the second keeps the first one's key."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(SECRET_BYTES) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process got there first: its key stays
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def workspace_secret(workspace: Workspace) -> bytes:
    """The workspace's secret key, created on first use (never print it)."""
    path = secret_path(workspace)
    if not path.exists():
        try:
            _create(path)
        except OSError as exc:
            raise SecretError(f"{path}: cannot create the workspace secret: {exc.strerror or exc}") from None
    try:
        text = path.read_text(encoding="ascii").strip()
        key = bytes.fromhex(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise SecretError(
            f"{path}: not a Sitrep workspace secret ({exc.__class__.__name__}); restore it from a backup, "
            "or delete it to get a new one (the opaque IDs of restricted data in reports then change)"
        ) from None
    if len(key) < SECRET_BYTES:
        raise SecretError(
            f"{path}: the secret is {len(key)} bytes, at least {SECRET_BYTES} expected; restore it from a "
            "backup, or delete it to get a new one (the opaque IDs of restricted data in reports then change)"
        )
    return key


def restricted_id(secret: bytes, kind: str, value: str) -> str:
    """The opaque public ID of restricted ``value`` of ``kind`` (``incident`` or ``event``)."""
    # hmac.digest: the one-shot form (C), a tenth of the time of hmac.new (a report keys ~100,000 IDs).
    digest = hmac.digest(secret, f"{kind}\x1f{value}".encode(), "sha256").hex()
    return PREFIX + digest[:ID_HEX]
