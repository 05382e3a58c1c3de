"""Which events files a window reads: judged by the spans in their names, kept under the lake's commit
state between calls (the web desk asks on every page), and never stale after a commit or a removal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from helpers import write_events
from sitrep.lake.errors import LakeError
from sitrep.lake.store import Lake, events_file_name

DAY = datetime(2025, 1, 2, tzinfo=UTC)


def committed(workspace, name: str, first: datetime, hours: int = 1):
    """An events file of one event at ``first``, under the name an ingest gives it (its span)."""
    path = write_events(workspace, [{"time_source": first}], name)
    final = path.with_name(events_file_name(name, first, first + timedelta(hours=hours)))
    path.rename(final)
    return final


def names(workspace, start=DAY, end=DAY + timedelta(days=1)) -> list[str]:
    return [p.name.split("__")[0] for p in Lake.of(workspace).event_files(start, end)]


def test_a_commit_and_a_removal_show_on_the_next_call(workspace):
    a = committed(workspace, "a", DAY + timedelta(hours=2))
    committed(workspace, "old", DAY - timedelta(days=3))
    assert names(workspace) == ["a"]
    assert names(workspace) == ["a"]  # kept: the same answer
    b = committed(workspace, "b", DAY + timedelta(hours=5))
    assert names(workspace) == ["a", "b"]
    a.unlink()
    assert names(workspace) == ["b"]
    assert names(workspace, DAY - timedelta(days=4), DAY) == ["old"]
    b.write_bytes(b"not parquet any more")  # replaced in place: its size and time change the state
    with pytest.raises(LakeError, match=r"b__.*is not a Parquet file"):
        names(workspace)


def test_only_the_files_a_window_needs_are_opened(workspace):
    committed(workspace, "good", DAY)
    bad = Lake.of(workspace).events_dir / events_file_name("bad", DAY - timedelta(days=9), DAY - timedelta(days=8))
    bad.write_bytes(b"truncated")
    assert names(workspace) == ["good"]  # the bad file is outside the window: not opened
    with pytest.raises(LakeError, match=r"bad__.*is not a Parquet file"):
        names(workspace, DAY - timedelta(days=9), DAY)


def test_a_name_without_a_span_is_read_for_every_window(workspace):
    write_events(workspace, [{"time_source": DAY}], "by-hand")
    assert names(workspace) == ["by-hand.parquet"]
    assert names(workspace, DAY - timedelta(days=30), DAY - timedelta(days=29)) == ["by-hand.parquet"]
