"""The login limit: failed attempts per user name and per client address in a sliding window.

Failures are kept in the incident store (``login_failures``), so every process of
``sitrep serve --workers N`` counts the same ones and a restart forgets nothing; rows older than the
window are removed as new failures come.  A limited attempt is refused before the password is checked,
so the limit also bounds the argon2 work one client can cause.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from sitrep.accounts.models import LoginFailure
from sitrep.incidents.db import Store
from sitrep.incidents.models import utcnow

MAX_KEY = 300  # the longest name or address kept (the column's size); a longer one is cut


class LoginLimiter:
    """At most ``per_user`` failures per name and ``per_address`` per client in ``window`` seconds."""

    def __init__(
        self,
        store: Store,
        *,
        per_user: int = 5,
        per_address: int = 20,
        window: float = 900.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.limits = {"user": per_user, "address": per_address}
        self.window = timedelta(seconds=window)
        self._clock = clock

    def retry_after(self, name: str, address: str) -> int | None:
        """Seconds until a login for ``name`` from ``address`` may be tried again, or None if now."""
        now = self._clock()
        wait = timedelta(0)
        with self.store.read() as session:
            for kind, key in (("user", name), ("address", address)):
                # The failure that, once out of the window, leaves room for one more attempt.
                oldest_counted = session.scalar(
                    select(LoginFailure.at)
                    .where(LoginFailure.kind == kind, LoginFailure.key == key[:MAX_KEY])
                    .where(LoginFailure.at > now - self.window)
                    .order_by(LoginFailure.at.desc())
                    .offset(self.limits[kind] - 1)
                    .limit(1)
                )
                if oldest_counted is not None:
                    wait = max(wait, oldest_counted + self.window - now)
        seconds = wait.total_seconds()
        return max(1, int(seconds + 0.999)) if seconds > 0 else None

    def failed(self, name: str, address: str) -> None:
        """Count a failed attempt against the name and the address (and forget what the window left)."""
        now = self._clock()
        with self.store.write() as session:
            session.execute(delete(LoginFailure).where(LoginFailure.at <= now - self.window))
            for kind, key in (("user", name), ("address", address)):
                session.add(LoginFailure(kind=kind, key=key[:MAX_KEY], at=now))

    def succeeded(self, name: str) -> None:
        """Forget the name's failures (the address keeps its own)."""
        with self.store.write() as session:
            session.execute(delete(LoginFailure).where(LoginFailure.kind == "user", LoginFailure.key == name[:MAX_KEY]))
