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
    """An events file of one event at ``first``, committed under the key an ingest gives it (its date's
    partition, its span)."""
    path = write_events(workspace, [{"time_source": first}], name)
    lake = Lake.of(workspace)
    final = lake.events_dir / events_file_name(name, first, first + timedelta(hours=hours))
    lake.commit(path, final)
    return final


def names(workspace, start=DAY, end=DAY + timedelta(days=1)) -> list[str]:
    return [p.name.split("__")[0] for p in Lake.of(workspace).event_files(start, end)]


def test_a_commit_and_a_removal_show_on_the_next_call(workspace):
    a = committed(workspace, "a", DAY + timedelta(hours=2))
    committed(workspace, "old", DAY - timedelta(days=3))
    assert names(workspace) == ["a"]
    assert names(workspace) == ["a"]  # kept: the same answer
    committed(workspace, "b", DAY + timedelta(hours=5))  # in the same partition as a
    assert names(workspace) == ["a", "b"]
    Lake.of(workspace).remove(a)
    assert names(workspace) == ["b"]
    assert names(workspace, DAY - timedelta(days=4), DAY) == ["old"]
    # A file of a lake from before partitioning, replaced in place: its size and time change the state.
    legacy = write_events(workspace, [{"time_source": DAY}], "legacy")
    legacy = legacy.rename(legacy.with_name(f"legacy__{DAY:%Y%m%d%H%M%S}__{DAY:%Y%m%d%H%M%S}.parquet"))
    assert sorted(names(workspace)) == ["b", "legacy"]
    legacy.write_bytes(b"not parquet any more")
    with pytest.raises(LakeError, match=r"legacy__.*is not a Parquet file"):
        names(workspace)


def test_an_emptied_partition_folder_is_removed(workspace):
    a = committed(workspace, "a", DAY + timedelta(hours=2))
    Lake.of(workspace).remove(a)
    assert not a.parent.exists() and names(workspace) == []


def test_only_the_files_a_window_needs_are_opened(workspace):
    committed(workspace, "good", DAY)
    bad = Lake.of(workspace).events_dir / events_file_name("bad", DAY - timedelta(days=9), DAY - timedelta(days=9))
    bad.parent.mkdir()
    bad.write_bytes(b"truncated")
    assert names(workspace) == ["good"]  # the bad file is outside the window: not opened
    with pytest.raises(LakeError, match=r"bad__.*is not a Parquet file"):
        names(workspace, DAY - timedelta(days=9), DAY)


def test_a_name_without_a_span_is_read_for_every_window(workspace):
    write_events(workspace, [{"time_source": DAY}], "by-hand")
    assert names(workspace) == ["by-hand.parquet"]
    assert names(workspace, DAY - timedelta(days=30), DAY - timedelta(days=29)) == ["by-hand.parquet"]
