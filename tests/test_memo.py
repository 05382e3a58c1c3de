"""The memo of expensive results and the folder state its keys are made of."""

from __future__ import annotations

import os
import threading
import time

import pytest

from sitrep.memo import Memo, folder_state


def test_concurrent_callers_of_a_missing_key_compute_it_once():
    memo: Memo[int] = Memo(size=4)
    calls = []

    def slow() -> int:
        calls.append(1)
        time.sleep(0.2)
        return 42

    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(memo.get("k", slow))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [42] * 8 and len(calls) == 1


def test_the_least_recently_used_is_dropped_and_an_error_is_not_kept():
    memo: Memo[str] = Memo(size=2)
    memo.get("a", lambda: "A")
    memo.get("b", lambda: "B")
    memo.get("a", lambda: "not again")
    memo.get("c", lambda: "C")  # drops b, the least recently used
    assert memo.get("a", lambda: "new a") == "A"
    assert memo.get("b", lambda: "new b") == "new b"

    def broken() -> str:
        raise ValueError("the lake is damaged")

    with pytest.raises(ValueError):
        memo.get("d", broken)
    assert memo.get("d", lambda: "D") == "D"


def test_the_folder_state_changes_with_every_file_written_replaced_or_removed(tmp_path):
    folder = tmp_path / "events"
    assert folder_state(folder) == "absent"
    folder.mkdir()
    states = [folder_state(folder)]
    (folder / "a.parquet").write_bytes(b"one")
    states.append(folder_state(folder))
    assert folder_state(folder) == states[-1]  # nothing changed, same state
    (folder / ".a.tmp").write_bytes(b"two")  # same size, renamed into place: a new inode
    os.replace(folder / ".a.tmp", folder / "a.parquet")
    states.append(folder_state(folder))
    (folder / "a.parquet").unlink()
    states.append(folder_state(folder))
    assert len(set(states[:-1])) == 3 and states[-1] == states[0]
