"""The login limit: failed attempts per user name and per client address in a sliding window.

Kept in the server process (one ``sitrep serve`` is one process); a restart forgets it, which costs
an attacker a restart per window.  A limited attempt is refused before the password is checked, so
the limit also bounds the argon2 work one client can cause.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

MAX_KEYS = 100_000  # memory bound: a flood of distinct names forgets the oldest


class LoginLimiter:
    """At most ``per_user`` failures per name and ``per_address`` per client in ``window`` seconds."""

    def __init__(
        self,
        *,
        per_user: int = 5,
        per_address: int = 20,
        window: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = {"user": per_user, "address": per_address}
        self.window = window
        self._clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        stamps = self._failures.get(key, deque())
        while stamps and stamps[0] <= now - self.window:
            stamps.popleft()
        return stamps

    def retry_after(self, name: str, address: str) -> int | None:
        """Seconds until a login for ``name`` from ``address`` may be tried again, or None if now."""
        now = self._clock()
        wait = 0.0
        with self._lock:
            for key in (("user", name), ("address", address)):
                stamps = self._recent(key, now)
                if len(stamps) >= self.limits[key[0]]:
                    wait = max(wait, stamps[-self.limits[key[0]]] + self.window - now)
        return max(1, int(wait + 0.999)) if wait > 0 else None

    def failed(self, name: str, address: str) -> None:
        """Count a failed attempt against the name and the address."""
        now = self._clock()
        with self._lock:
            for key in (("user", name), ("address", address)):
                stamps = self._recent(key, now)
                stamps.append(now)
                self._failures.pop(key, None)
                self._failures[key] = stamps
            while len(self._failures) > MAX_KEYS:
                self._failures.pop(next(iter(self._failures)))

    def succeeded(self, name: str) -> None:
        """Forget the name's failures (the address keeps its own)."""
        with self._lock:
            self._failures.pop(("user", name), None)
