"""A small, thread-safe memo of expensive results, keyed by what they are computed from.

A key must name every input of the result — for the lake, its commit state
(:meth:`sitrep.lake.store.Lake.commit_state`); for the incident store, its change counter
(:meth:`sitrep.incidents.db.Store.changes`) — so an entry is never stale: when an input changes, so
does the key, and the old entry is simply not asked for again (the oldest are dropped beyond
``size``).  Concurrent callers of one missing key compute it once: the others wait for that result.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Generic, TypeVar

T = TypeVar("T")


class Memo(Generic[T]):
    """Up to ``size`` results by key, the least recently used dropped first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: OrderedDict[Hashable, T] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The result for ``key``, computed by ``compute`` when there is none (an error is not kept)."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
            computing = self._computing.setdefault(key, threading.Lock())
        with computing:
            with self._lock:
                if key in self._values:  # computed by the caller we waited for
                    return self._values[key]
            try:
                value = compute()
            except BaseException:
                with self._lock:
                    self._computing.pop(key, None)
                raise
            with self._lock:
                self._values[key] = value
                while len(self._values) > self.size:
                    self._values.popitem(last=False)
                self._computing.pop(key, None)
        return value

    def peek(self, key: Hashable) -> T | None:
        """The result kept for ``key``, or None (nothing is computed)."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        return None

    def clear(self) -> None:
        """Forget every result."""
        with self._lock:
            self._values.clear()


def folder_state(folder: Path) -> str:
    """A digest of the name, inode, size and modification time of every entry of ``folder`` ("absent"
    when there is none): a file written, renamed into place (a new inode) or removed changes it."""
    digest = hashlib.blake2b(digest_size=16)
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return "absent"
    for entry in entries:
        try:
            info = entry.stat(follow_symlinks=False)
        except FileNotFoundError:  # removed while listed
            continue
        digest.update(f"{entry.name}\0{info.st_ino}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()
