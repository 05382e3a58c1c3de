"""Keeping the lake in shape: merging small events files (``sitrep lake compact``) and dropping old
ones (``sitrep lake retain``), under the writer lock, without changing what readers count.

Compaction merges the small files of one partition (one UTC event date) into one, and moves the events
of files written before the lake was partitioned into the partitions.  It swaps files in steps, each
one a commit a reader may see (see :func:`sitrep.lake.store.live_files`): its record (the outputs' keys
and the files they replace), then the outputs; until every output is committed readers count the old
files, from then on the new ones.  The replaced files, and then the record, are removed once the swap
is older than a grace period (:data:`DEFAULT_GRACE`), by a later run: a query that listed the old
files just before the swap still finds them while it reads.  A run stopped half-way is undone by the
next writer (:meth:`sitrep.lake.store.Lake.writing`).

Retention drops whole files, which are whole partitions once the lake is compacted: a file with any
event at or after the cutoff is kept whole, so a number of a week after the cutoff never changes;
published issues keep their frozen numbers in their documents.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from sitrep.config import Workspace
from sitrep.lake.errors import LakeError
from sitrep.lake.schema import COLUMNS
from sitrep.lake.store import (
    COMPACTION_RECORD,
    Entry,
    Lake,
    LakePath,
    connect,
    events_source,
    file_span,
    is_record,
    piece_keys,
    read_record,
    write_partitions,
)
from sitrep.weeks import Week

# A merged file grows to about this size (compressed Parquet); larger files are left as they are.
DEFAULT_TARGET_MB = 256
# How long the files a compaction replaced stay after the swap, for the queries that listed them before.
DEFAULT_GRACE = timedelta(minutes=10)


@dataclass(frozen=True)
class Merge:
    """One group of files merged: their keys in ``events/``, the outputs' (one per event date; none in
    a dry run), and their events."""

    replaced: tuple[str, ...]
    outputs: tuple[str, ...]
    events: int
    # how many files the merge leaves (one per event date; a dry run counts the dates)
    files: int


@dataclass(frozen=True)
class Compaction:
    """What ``compact`` did (or, with ``dry_run``, would do): its merges, the events files counted
    before and after, and the files replaced by earlier swaps that it removed."""

    merges: tuple[Merge, ...]
    files_before: int
    files_after: int
    removed: int
    dry_run: bool


@dataclass(frozen=True)
class Retention:
    """What ``retain`` dropped (or would drop): the cutoff, the events files wholly before it, the
    files kept whole because they straddle it, and the reject files and summaries of ingests run
    before it."""

    cutoff: datetime
    dropped: tuple[str, ...]
    events: int
    straddling: tuple[str, ...]
    ingests: tuple[str, ...]
    dry_run: bool


def compact(
    workspace: Workspace,
    *,
    target_mb: int = DEFAULT_TARGET_MB,
    grace: timedelta = DEFAULT_GRACE,
    dry_run: bool = False,
) -> Compaction:
    """Merge the lake's small events files, partition by partition (event date), into files of about
    ``target_mb`` MB, and move the events of files from before partitioning into the partitions; every
    event, and so every result, stays as it was.  Files replaced by swaps older than ``grace`` (this
    run's too, with a grace of zero) are removed."""
    if target_mb < 1:
        raise LakeError(f"target size {target_mb} MB: use 1 MB or more")
    if grace < timedelta(0):
        raise LakeError("a grace period cannot be negative")
    lake = Lake.of(workspace)
    removed = 0
    with lake.writing() as work:
        if not dry_run:
            removed = finish_compactions(lake, grace)
        entries = lake.live_entries()
        # The output of a swap still in its grace period is merged again only once that swap is done.
        swapping = set(_pending(lake))
        groups = _groups([e for e in entries if e.key not in swapping], target_mb * 1024 * 1024)
        merges: list[Merge] = []
        con = connect(workspace, temp_dir=work)
        try:
            for group in groups:
                if dry_run:
                    events = _count(con, lake, [e.path for e in group])
                    merges.append(Merge(tuple(e.key for e in group), (), events, _dates(con, lake, group)))
                else:
                    merges.append(_merge(lake, con, group, work))
        finally:
            con.close()
        if not dry_run and grace == timedelta(0):
            removed += finish_compactions(lake, grace)
    after = len(entries) - sum(len(m.replaced) - m.files for m in merges)
    return Compaction(tuple(merges), len(entries), after, removed, dry_run)


def finish_compactions(lake: Lake, grace: timedelta = DEFAULT_GRACE) -> int:
    """Complete the swaps of earlier compactions: a record whose outputs were committed more than
    ``grace`` ago has its replaced files removed, then itself (the writer lock undid those stopped
    before their outputs were all committed, :meth:`Lake.writing`).  Call it under the writer lock;
    returns the files removed."""
    entries = lake.list_events()
    keys = {entry.key for entry in entries}
    now = datetime.now(UTC)
    removed = 0
    for entry in entries:
        if not is_record(entry.key):
            continue
        record = read_record(entry.path, lake.read_text)
        if now - _swapped_at(entry.key) < grace:
            continue  # queries that listed the replaced files may still be reading them
        for key in record.replaces:
            if key in keys:
                lake.remove(lake.events_dir / key)
                removed += 1
        lake.remove(entry.path)
    return removed


def _pending(lake: Lake) -> dict[str, tuple[LakePath, tuple[str, ...]]]:
    """The swaps not yet completed, by output key: the record and the replaced files' keys."""
    found: dict[str, tuple[LakePath, tuple[str, ...]]] = {}
    for entry in lake.list_events():
        if is_record(entry.key):
            record = read_record(entry.path, lake.read_text)
            found.update((output, (entry.path, record.replaces)) for output in record.outputs)
    return found


def _swapped_at(record_name: str) -> datetime:
    """When a compaction swapped its files in, from its id (``compact-<UTC time>-<hex>``); an id that is
    no time counts as long ago."""
    stamp = record_name.removeprefix("compact-").split("-", 1)[0]
    try:
        return datetime.strptime(stamp, "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)


def _groups(entries: list[Entry], target: int) -> list[list[Entry]]:
    """What to merge: runs of a partition's small files, oldest first, up to ``target`` bytes a run (a
    run of one file is left alone); and runs of the files from before partitioning (their names give a
    span; a hand-made name is left alone), whose events go into the partitions."""
    by_partition: dict[str, list[tuple[datetime, Entry]]] = {}
    for entry in entries:
        span = file_span(entry.key)
        partition = entry.key.rpartition("/")[0]
        if span is None or (partition and entry.size >= target):
            continue  # a hand-made name (its span unknown), or already large
        by_partition.setdefault(partition, []).append((span[0], entry))
    groups: list[list[Entry]] = []
    for partition in sorted(by_partition):
        run: list[Entry] = []
        size = 0
        for _, entry in sorted(by_partition[partition], key=lambda item: (item[0], item[1].key)):
            if run and size + entry.size > target:
                groups.append(run)
                run, size = [], 0
            run.append(entry)
            size += entry.size
        groups.append(run)
    return [group for group in groups if len(group) > 1 or "/" not in group[0].key]


def _count(con: duckdb.DuckDBPyConnection, lake: Lake, files: list[LakePath]) -> int:
    return int(con.execute(f"SELECT count(*) FROM {events_source(lake, files)}").fetchone()[0])  # type: ignore[index]


def _dates(con: duckdb.DuckDBPyConnection, lake: Lake, group: list[Entry]) -> int:
    """How many event dates the events of ``group`` fall on: the files merging them leaves."""
    source = events_source(lake, [e.path for e in group])
    return int(con.execute(f"SELECT count(DISTINCT CAST(time_source AS DATE)) FROM {source}").fetchone()[0])  # type: ignore[index]


def _merge(lake: Lake, con: duckdb.DuckDBPyConnection, group: list[Entry], work: Path) -> Merge:
    """Write the group's events into the work folder, one file per event date, then swap them in (see
    the module)."""
    files = [entry.path for entry in group]
    lake.event_files()  # refuses, by name, a file of the group that is not Parquet
    compaction = "compact-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f") + "-" + uuid.uuid4().hex[:6]
    columns = ", ".join(f"CAST({c.name} AS {c.sql}) AS {c.name}" for c in COLUMNS)
    rows = f"(SELECT {columns} FROM {events_source(lake, files)})"
    pieces = write_partitions(con, rows, events_source(lake, files), work / compaction, order="time_source, event_id")
    events = sum(piece.rows for piece in pieces)
    expected = _count(con, lake, files)
    if events != expected:  # never swap in files that lost or gained events
        raise LakeError(
            f"compaction of {len(files)} files wrote {events} events instead of {expected}; nothing changed"
        )
    keyed = piece_keys(compaction, pieces)
    replaced = [entry.key for entry in group]
    lake.commit_events(keyed, f"{compaction}{COMPACTION_RECORD}", work, replaces=replaced)
    return Merge(tuple(replaced), tuple(key for _, key in keyed), events, len(keyed))


_KEEP = re.compile(r"^\s*(\d+)\s*([wd])\s*$", re.IGNORECASE)


def cutoff(workspace: Workspace, keep: str, today: date | None = None) -> datetime:
    """The first moment kept by ``--keep``: ``104w`` keeps the current reporting week and the 104 weeks
    before it (the cutoff is a Monday's local midnight), ``730d`` today and the 730 days before it."""
    match = _KEEP.match(keep)
    if not match or int(match.group(1)) < 1:
        raise LakeError(f"--keep {keep!r}: give a number of weeks or days, e.g. 104w or 730d")
    count, unit = int(match.group(1)), match.group(2).lower()
    tz = workspace.timezone
    day = today or datetime.now(UTC).astimezone(tz).date()
    if unit == "w":
        return (Week.of(day) - count).bounds(tz)[0]
    return datetime.combine(day - timedelta(days=count), datetime.min.time(), tzinfo=tz).astimezone(UTC)


def retain(workspace: Workspace, keep: str, *, dry_run: bool = False, today: date | None = None) -> Retention:
    """Drop the events files whose every event is older than the cutoff of ``keep`` (a file straddling
    it is kept whole), and the reject files and run summaries of ingests run before it."""
    moment = cutoff(workspace, keep, today)
    lake = Lake.of(workspace)
    with lake.writing() as work:
        if not dry_run:
            finish_compactions(lake)
        con = connect(workspace, temp_dir=work)
        try:
            old, straddling = _split(lake, con, lake.live_entries(), moment)
            events = _count(con, lake, [e.path for e in old]) if old else 0
        finally:
            con.close()
        ingests = _old_ingests(lake, moment)
        if not dry_run:
            pending = _pending(lake)
            for entry in old:
                # A merged output still in its grace period goes with the files it replaced, then its
                # record, then itself: a record missing one of its outputs would show those files again.
                record, replaced = pending.get(entry.key, (None, ()))
                for key in replaced:
                    lake.remove(lake.events_dir / key)
                if record is not None:
                    lake.remove(record)
                lake.remove(entry.path)
            for ingest_id in ingests:
                lake.remove(lake.rejects_dir / f"{ingest_id}.parquet")
                lake.remove(lake.ingests_dir / f"{ingest_id}.json")
    return Retention(
        moment,
        tuple(e.key for e in old),
        events,
        tuple(e.key for e in straddling),
        tuple(ingests),
        dry_run,
    )


def _split(
    lake: Lake, con: duckdb.DuckDBPyConnection, entries: Iterable[Entry], moment: datetime
) -> tuple[list[Entry], list[Entry]]:
    """The files wholly before ``moment``, and those that straddle it."""
    old: list[Entry] = []
    straddling: list[Entry] = []
    for entry in entries:
        span = file_span(entry.key)
        if span is None:  # a hand-made name: its events say
            row = con.execute(
                f"SELECT min(time_source), max(time_source) FROM {events_source(lake, [entry.path])}"
            ).fetchone()
            first, last = row if row and row[1] is not None else (None, None)
            if last is None:
                continue
            span = (first, last + timedelta(microseconds=1))
        first, end = span
        if end <= moment:
            old.append(entry)
        elif first < moment:
            straddling.append(entry)
    return old, straddling


_INGEST_ID = re.compile(r"^(\d{8}T\d{12})-[0-9a-f]+$")


def _old_ingests(lake: Lake, moment: datetime) -> list[str]:
    """The ids of ingests run before ``moment`` that left a reject file or a summary."""
    found: set[str] = set()
    for folder in (lake.rejects_dir, lake.ingests_dir):
        for entry in lake.list_folder(folder):
            ingest_id = entry.path.name.rsplit(".", 1)[0]
            match = _INGEST_ID.match(ingest_id)
            if match and datetime.strptime(match.group(1), "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC) < moment:
                found.add(ingest_id)
    return sorted(found)
