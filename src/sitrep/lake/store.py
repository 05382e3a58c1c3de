"""The event lake: Parquet files partitioned by event date, each ingested file committed atomically.

Layout inside the workspace's lake (a local folder, or an ``s3://bucket/prefix`` on an S3-compatible
object store, see :mod:`sitrep.lake.objects`)::

    events/event_date=<YYYY-MM-DD>/<ingest_id>__<first>__<last>.parquet
                                  accepted, deduplicated, enriched events of one ingested file whose
                                  time_source falls on that UTC date (a file of a week: seven of them)
    events/event_date=<YYYY-MM-DD>/<compaction>__<first>__<last>.parquet
                                  that date's events of several small files merged by ``sitrep lake compact``
    events/<ingest_id>.ingest.json
                                  while an ingest commits more than one file: the files it commits
    events/<compaction>.compaction.json
                                  while a compaction swaps files: its outputs and the files they replace
    events/<name>__<first>__<last>.parquet
                                  an events file of a lake written before partitioning, still read
                                  (``sitrep lake compact`` moves its events into the partitions)
    events/.state                 replaced at every change of the events, so one listing of events/
                                  tells that the lake changed (:meth:`Lake.commit_state`)
    rejects/<ingest_id>.parquet   rejected rows of that file, with line and reason
    ingests/<ingest_id>.json      the run's summary (file, format, read/accepted/duplicates/rejected)
    .tmp/                         work files; anything here is unfinished and removed on the next run

The partition folders use Hive's ``key=value`` naming, so other tools read the folder as a dataset
partitioned by ``event_date`` (Spark, DuckDB's ``hive_partitioning``); Sitrep itself chooses files by the
span of time in their names.  A file appears whole or not at all (``os.replace`` locally, one finished
upload on object storage).  What one step commits is all or nothing too: an ingest whose events fall on
several dates first commits a record of its files, then the files, then removes the record; a
compaction commits its record, then its outputs (and removes the replaced files after a grace period,
:mod:`sitrep.lake.maintain`).  From one listing a reader hides the outputs a record names until every
one of them is there, and then the files it replaces (:func:`live_files`): it counts the old files or
the new ones, never part or both.  A record left by a killed run is undone by the next writer
(:meth:`Lake.writing`).  An exclusive lock serialises writers.

What is not the lake's own is refused with :class:`LakeError` rather than half-used: a ``.tmp`` that is
a symbolic link (work files must be renamed into place on the same file system), a folder of the lake
on another file system, a file where a folder belongs, a ``*.parquet`` file in ``events/`` or
``rejects/`` that is not Parquet.  Other stray files (``notes.txt``, sub-folders) are ignored.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from sitrep.config import Ingest, Query, Workspace
from sitrep.feeds.sql import lit
from sitrep.lake.errors import LakeError
from sitrep.lake.schema import COLUMNS, REJECT_SCHEMA
from sitrep.memo import folder_state

# First and last four bytes of every Parquet file.
PARQUET_MAGIC = b"PAR1"

# A commit record, in events/ while a step commits several files: an ingest's, a compaction's.
INGEST_RECORD = ".ingest.json"
COMPACTION_RECORD = ".compaction.json"
RECORD_SUFFIXES = (INGEST_RECORD, COMPACTION_RECORD)

# A partition folder of events/: the UTC date of its events' time_source, named the Hive way.
_PARTITION = re.compile(r"^event_date=\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class ObjectPath:
    """An object's address on an object store (``s3://bucket/key``), with the parts of a path the lake
    uses: ``name``, ``/`` and ``str()``."""

    url: str

    @property
    def name(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    @property
    def key(self) -> str:
        """``bucket/key``: the address the file system of the store takes."""
        return self.url.removeprefix("s3://")

    def __truediv__(self, part: str) -> ObjectPath:
        return ObjectPath(f"{self.url}/{part}")

    def __str__(self) -> str:
        return self.url


# Where a file of the lake is: a local path, or an object on an object store.
LakePath = Path | ObjectPath


def _local(path: LakePath) -> Path:
    """``path`` as a local path: :class:`Lake`'s own file methods only get those (:class:`ObjectLake`
    overrides every one that could get an :class:`ObjectPath`)."""
    assert not isinstance(path, ObjectPath), path
    return Path(path)


@dataclass(frozen=True)
class Entry:
    """One file of a folder of the lake, as listed."""

    path: LakePath
    size: int
    # What changes when the file is replaced: inode and modification time, or the object's ETag.
    version: str
    # Its path inside the folder listed: its name, or ``event_date=…/name`` in a partition of events/.
    key: str = ""


@dataclass(frozen=True)
class Record:
    """What a commit record says: the events files a step commits (keys in ``events/``) and those they
    replace (none for an ingest)."""

    outputs: tuple[str, ...]
    replaces: tuple[str, ...]


@dataclass(frozen=True)
class Piece:
    """One events file in the work folder, ready for the lake: its path, the first and last
    ``time_source`` of its events (all on one UTC date) and how many there are."""

    path: Path
    first: datetime
    last: datetime
    rows: int


@dataclass(frozen=True)
class Lake:
    """A workspace's lake in a local folder (:class:`sitrep.lake.objects.ObjectLake` for one on an
    object store: the same files and guarantees)."""

    root: Path

    @classmethod
    def of(cls, workspace: Workspace) -> Lake:
        if workspace.lake_url:
            return ObjectLake.of_workspace(workspace)
        return cls(workspace.lake_dir)

    @property
    def location(self) -> str:
        """Where the lake is, as the user names it (a folder or a URL)."""
        return str(self.root)

    @property
    def events_dir(self) -> LakePath:
        return self.root / "events"

    @property
    def rejects_dir(self) -> LakePath:
        return self.root / "rejects"

    @property
    def ingests_dir(self) -> LakePath:
        return self.root / "ingests"

    @property
    def tmp_dir(self) -> Path:
        return self.root / ".tmp"

    def create(self) -> None:
        """Make the lake's folders; refuse a file in the place of one, or a ``.tmp`` that is a link."""
        if self.tmp_dir.is_symlink():
            raise LakeError(
                f"{self.tmp_dir} is a symbolic link (to {os.readlink(self.tmp_dir)}): the lake's work folder must "
                "be a real folder inside the lake, because finished files are moved into place by a rename "
                f"on the same file system; remove the link (rm {self.tmp_dir}) and run again"
            )
        if self.tmp_dir.is_file():
            self.tmp_dir.unlink()  # a stray file where the work folder goes: work files are disposable
        folders = [_local(self.events_dir), _local(self.rejects_dir), _local(self.ingests_dir)]
        for folder in (self.root, *folders, self.tmp_dir):
            if folder.exists() and not folder.is_dir():
                raise LakeError(f"{folder} is a file, not a folder of the lake: move it away and run again")
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # a broken link, no permission
                raise LakeError(f"{folder}: cannot create the lake's folder ({exc.strerror or exc})") from None
        work = os.stat(self.tmp_dir).st_dev
        for folder in folders:
            if os.stat(folder).st_dev != work:
                raise LakeError(
                    f"{folder} is on another file system than {self.tmp_dir}: files are committed by an atomic "
                    "rename, which cannot cross file systems; keep the whole lake folder on one file system"
                )

    def event_files(self, start: datetime | None = None, end: datetime | None = None) -> list[LakePath]:
        """The committed events files; with ``start``/``end``, only those that may hold events in
        ``[start, end)``, judged by the time span in their names (see :func:`events_file_name`)."""
        # Only the files chosen are opened to be checked: a week's page must not open every file of
        # the lake (a few hundred after a year of daily feeds).  The names' spans, and which files
        # were found to be Parquet, are kept under the folder's commit state, taken before the listing
        # (a commit between the two changes the state again): a page judges hundreds of names.
        listing = self._listing()
        chosen = [entry for entry, span in listing.spans if _overlaps(span, start, end)]
        for entry in chosen:
            if entry.path not in listing.checked:
                self._check_parquet(entry)
                listing.checked.add(entry.path)
        return [entry.path for entry in chosen]

    def live_entries(self) -> list[Entry]:
        """Every committed events file, as listed (what :meth:`event_files` reads, unchecked)."""
        return [entry for entry, _ in self._listing().spans]

    def _listing(self) -> _Listing:
        """The live events files and their spans under the current commit state (kept per process)."""
        state = self.commit_state()
        known = _listings.get(self.events_dir)
        if known is not None and known.state == state:
            return known
        for _ in range(10):  # a listing taken while a writer commits is taken again
            entries = self.list_events()
            after = self.commit_state()
            if after != state:
                state = after
                continue
            try:
                live = live_files(entries, self.read_text)
            except FileNotFoundError:  # a compaction finished since the listing: list again
                state = self.commit_state()
                continue
            break
        else:
            raise LakeError(f"{self.events_dir} changed every time it was listed (writers at work?); try again")
        known = _listings[self.events_dir] = _Listing(state, [(e, file_span(e.key)) for e in live], set())
        return known

    def reject_files(self) -> list[LakePath]:
        entries = self.list_folder(self.rejects_dir)
        for entry in entries:
            self._check_parquet(entry)
        return [entry.path for entry in entries if entry.path.name.endswith(".parquet")]

    def ingest_span(self, ingest_id: str) -> tuple[datetime, datetime] | None:
        """The first and last ``time_source`` (UTC, to the second) of the events one ingest committed,
        from its events files' names; None when it committed none."""
        spans = [
            tuple(datetime.strptime(m, _STAMP).replace(tzinfo=UTC) for m in match.groups())
            for entry in self.live_entries()
            if _file_id(entry.path.name) == ingest_id and (match := _SPAN.search(entry.path.name))
        ]
        if not spans:
            return None
        return min(first for first, _ in spans), max(last for _, last in spans)

    def commit_state(self) -> str:
        """What the committed events are: every commit and every removal changes it (they replace
        ``events/.state``, see :meth:`changed`), and it costs one directory listing, so a result
        computed from the lake can be kept under it (:func:`sitrep.memo.folder_state`)."""
        return folder_state(_local(self.events_dir))

    def list_folder(self, folder: LakePath, prefix: str = "") -> list[Entry]:
        """The files of a folder of the lake, by name (sub-folders ignored; none when it is missing); a
        file or broken link where the folder belongs is refused.  ``prefix`` comes before each key."""
        local = _local(folder)
        if not local.is_dir():
            if local.exists() or local.is_symlink():
                raise LakeError(f"{local} is not a folder (a file or a broken link where the lake keeps its files)")
            return []
        entries = []
        for item in sorted(os.scandir(local), key=lambda e: e.name):
            try:
                if not item.is_file():
                    continue
                info = item.stat()
            except FileNotFoundError:  # removed while listed
                continue
            version = f"{info.st_ino}:{info.st_mtime_ns}"
            entries.append(Entry(Path(item.path), info.st_size, version, prefix + item.name))
        return entries

    def list_events(self) -> list[Entry]:
        """Every file of ``events/`` and of its partition folders (other sub-folders are ignored), keyed
        by its path inside ``events/``."""
        entries = self.list_folder(self.events_dir)
        folder = _local(self.events_dir)
        if folder.is_dir():
            partitions = sorted(e.name for e in os.scandir(folder) if _PARTITION.match(e.name) and e.is_dir())
            for name in partitions:
                entries += self.list_folder(folder / name, prefix=f"{name}/")
        return entries

    def _check_parquet(self, entry: Entry) -> None:
        if entry.path.name.endswith(".parquet"):
            _check_parquet(_local(entry.path))

    def read_text(self, path: LakePath) -> str:
        """A small file of the lake (a summary, a compaction record)."""
        return _local(path).read_text(encoding="utf-8")

    @contextmanager
    def writing(self) -> Iterator[Path]:
        """Hold the writer lock; clear work files a killed run left; yield the work folder."""
        self.create()
        try:
            lock = open(self.root / ".lock", "w")  # noqa: SIM115 (the with block below closes it)
        except OSError as exc:
            raise LakeError(
                f"{self.root / '.lock'}: cannot open the lake's lock file ({exc.strerror or exc})"
            ) from None
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            shutil.rmtree(self.tmp_dir, ignore_errors=True)
            self.tmp_dir.mkdir()
            try:
                self.undo_unfinished()
                yield self.tmp_dir
            finally:
                shutil.rmtree(self.tmp_dir, ignore_errors=True)
                fcntl.flock(lock, fcntl.LOCK_UN)

    def commit(self, tmp: Path, final: LakePath) -> None:
        """Move a finished work file into the lake in one atomic step (same file system)."""
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        _local(final).parent.mkdir(exist_ok=True)  # a partition's first file
        os.replace(tmp, _local(final))
        self.changed()

    def changed(self) -> None:
        """Replace ``events/.state`` by a new file: a file committed or removed in a partition folder
        changes the listing of ``events/`` itself (a new inode), whatever the clock's resolution."""
        self.tmp_dir.mkdir(exist_ok=True)
        marker = self.tmp_dir / ".state"
        marker.touch()
        os.replace(marker, _local(self.events_dir) / ".state")

    def commit_events(self, pieces: list[tuple[Path, str]], record: str, tmp_dir: Path, replaces: list[str]) -> None:
        """Commit events files (work file, key in ``events/``) as one step: alone when one file
        replaces nothing, else under ``record`` (a name in ``events/`` ending in ``.ingest.json`` or
        ``.compaction.json``), which lists them and what they replace.  The record is written first,
        so readers count none of the files until all are there; an ingest's is removed at the end, a
        compaction's once its grace period is over (:func:`sitrep.lake.maintain.finish_compactions`)."""
        if len(pieces) == 1 and not replaces:
            tmp, key = pieces[0]
            self.commit(tmp, self.events_dir / key)
            return
        outputs = [key for _, key in pieces]
        self.write_json({"outputs": outputs, "replaces": replaces}, self.events_dir / record, tmp_dir)
        for tmp, key in pieces:
            self.commit(tmp, self.events_dir / key)
        if not replaces:
            self.remove(self.events_dir / record)

    def undo_unfinished(self) -> None:
        """Remove what a killed commit left (call it under the writer lock): the outputs a record names
        when not all of them were committed, then the record; an ingest's record whose files are all
        there is only removed."""
        entries = self.list_events()
        keys = {entry.key for entry in entries}
        for entry in entries:
            if not is_record(entry.key):
                continue
            record = read_record(entry.path, self.read_text)
            complete = all(key in keys for key in record.outputs)
            if complete and record.replaces:
                continue  # a compaction's swap, finished after its grace period
            if not complete:
                for key in record.outputs:
                    if key in keys:
                        self.remove(self.events_dir / key)
            self.remove(entry.path)

    def write_json(self, data: dict[str, Any], final: LakePath, tmp_dir: Path) -> None:
        """Write a small JSON file of the lake whole (renamed into place from the work folder)."""
        tmp = tmp_dir / (final.name + ".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(tmp, _local(final))

    def remove(self, path: LakePath) -> None:
        """Delete a file of the lake (one already gone is no error), and a partition folder it leaves
        empty."""
        local = _local(path)
        local.unlink(missing_ok=True)
        if _PARTITION.match(local.parent.name) and local.parent.parent == _local(self.events_dir):
            with suppress(OSError):  # not empty
                local.parent.rmdir()
        if local.parent == _local(self.events_dir) or local.parent.parent == _local(self.events_dir):
            self.changed()


@dataclass(frozen=True)
class ObjectLake(Lake):
    """A lake at ``url`` on an S3-compatible object store (:mod:`sitrep.lake.objects`): the same files
    as a local lake, uploaded whole; ``root`` is the local folder of its work files and lock."""

    url: str = ""
    filesystem: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def of_workspace(cls, workspace: Workspace) -> ObjectLake:
        from sitrep.lake import objects  # only a lake on an object store needs s3fs

        assert workspace.lake_url is not None
        store = objects.filesystem(workspace.settings.storage.s3, workspace.root)
        return cls(workspace.lake_dir, workspace.lake_url, store)

    @property
    def location(self) -> str:
        return self.url

    @property
    def events_dir(self) -> ObjectPath:
        return ObjectPath(self.url) / "events"

    @property
    def rejects_dir(self) -> ObjectPath:
        return ObjectPath(self.url) / "rejects"

    @property
    def ingests_dir(self) -> ObjectPath:
        return ObjectPath(self.url) / "ingests"

    def create(self) -> None:
        """Make the local work folder; refuse a bucket that cannot be reached."""
        bucket = ObjectPath(self.url).key.split("/", 1)[0]
        try:
            found = self.filesystem.exists(bucket)
        except Exception as exc:  # s3fs and botocore raise many kinds: the store's answer is named
            raise self._error("cannot reach the bucket", exc) from None
        if not found:
            raise LakeError(f"{self.url}: the bucket {bucket!r} does not exist on the object store (create it first)")
        for folder in (self.root, self.tmp_dir):
            if folder.exists() and not folder.is_dir():
                raise LakeError(f"{folder} is a file, not the lake's local work folder: move it away and run again")
            folder.mkdir(parents=True, exist_ok=True)

    def list_folder(self, folder: LakePath, prefix: str = "") -> list[Entry]:
        try:
            listed = self.filesystem.ls(ObjectPath(str(folder)).key, detail=True, refresh=True)
        except FileNotFoundError:
            return []
        except Exception as exc:
            raise self._error(f"cannot list {folder}", exc) from None
        return sorted((self._entry(item, prefix) for item in listed if item.get("type") == "file"), key=lambda e: e.key)

    def list_events(self) -> list[Entry]:
        """Every object under ``events/`` and its partition folders: one recursive LIST request."""
        folder = ObjectPath(str(self.events_dir)).key
        self.filesystem.invalidate_cache(folder)
        try:
            listed = self.filesystem.find(folder, maxdepth=2, detail=True)
        except FileNotFoundError:
            return []
        except Exception as exc:
            raise self._error(f"cannot list {self.events_dir}", exc) from None
        entries = []
        for name, item in listed.items():
            key = name.removeprefix(folder + "/")
            partition, _, rest = key.rpartition("/")
            if item.get("type") == "file" and (not partition or (_PARTITION.match(partition) and "/" not in rest)):
                entries.append(self._entry(item, f"{partition}/" if partition else ""))
        return sorted(entries, key=lambda e: e.key)

    def _entry(self, item: dict[str, Any], prefix: str) -> Entry:
        path = ObjectPath(f"s3://{item['name']}")
        return Entry(path, int(item["size"]), str(item.get("ETag") or item["LastModified"]), prefix + path.name)

    def commit_state(self) -> str:
        """A digest of the listing of ``events/`` and its partitions (keys, sizes and ETags): one LIST
        request."""
        digest = hashlib.blake2b(digest_size=16)
        for entry in self.list_events():
            digest.update(f"{entry.key}\0{entry.size}\0{entry.version}\n".encode())
        return digest.hexdigest()

    def _check_parquet(self, entry: Entry) -> None:
        if not entry.path.name.endswith(".parquet"):
            return
        key = ObjectPath(str(entry.path)).key
        try:
            head = self.filesystem.cat_file(key, start=0, end=4)
            tail = self.filesystem.cat_file(key, start=max(entry.size - 4, 0), end=entry.size)
        except Exception as exc:
            raise self._error(f"cannot read {entry.path}", exc) from None
        check_magic(entry.path, entry.size, head, tail)

    def read_text(self, path: LakePath) -> str:
        try:
            return bytes(self.filesystem.cat_file(ObjectPath(str(path)).key)).decode("utf-8")
        except FileNotFoundError:
            raise
        except Exception as exc:
            raise self._error(f"cannot read {path}", exc) from None

    def commit(self, tmp: Path, final: LakePath) -> None:
        """Upload a finished work file: the object appears whole when its upload completes."""
        try:
            self.filesystem.put_file(str(tmp), ObjectPath(str(final)).key)
        except Exception as exc:
            raise self._error(f"cannot upload {final}", exc) from None
        tmp.unlink(missing_ok=True)

    def write_json(self, data: dict[str, Any], final: LakePath, tmp_dir: Path) -> None:
        body = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
        try:
            self.filesystem.pipe_file(ObjectPath(str(final)).key, body)
        except Exception as exc:
            raise self._error(f"cannot upload {final}", exc) from None

    def remove(self, path: LakePath) -> None:
        try:
            self.filesystem.rm_file(ObjectPath(str(path)).key)
        except FileNotFoundError:
            pass
        except Exception as exc:
            raise self._error(f"cannot remove {path}", exc) from None

    def _error(self, what: str, exc: Exception) -> LakeError:
        reason = str(exc).strip() or type(exc).__name__
        return LakeError(f"{self.url}: {what} on the object store ({reason}); see [storage.s3] in sitrep.toml")


def live_files(entries: list[Entry], read_text: Callable[[LakePath], str]) -> list[Entry]:
    """The events files readers count, from one listing of ``events/`` (:meth:`Lake.list_events`):
    every ``*.parquet`` file but those a record names as outputs while some of its outputs are not
    listed yet (a commit under way, or stopped), and those it names as replaced once all its outputs
    are listed.  A record removed since the listing raises FileNotFoundError (the listing is stale)."""
    keys = {entry.key for entry in entries}
    hidden: set[str] = set()
    for entry in entries:
        if is_record(entry.key):
            record = read_record(entry.path, read_text)
            hidden.update(record.replaces if all(key in keys for key in record.outputs) else record.outputs)
    return [e for e in entries if e.key.endswith(".parquet") and e.key not in hidden]


def is_record(key: str) -> bool:
    """Whether a key of ``events/`` is a commit record (``*.ingest.json``, ``*.compaction.json``)."""
    return "/" not in key and key.endswith(RECORD_SUFFIXES)


def read_record(path: LakePath, read_text: Callable[[LakePath], str]) -> Record:
    """A commit record's outputs and replaced files (a record written before partitioning names one
    ``output``); FileNotFoundError when it is gone."""
    try:
        data = json.loads(read_text(path))
        outputs = data["outputs"] if "outputs" in data else [data["output"]]
        return Record(tuple(str(key) for key in outputs), tuple(str(key) for key in data["replaces"]))
    except FileNotFoundError:
        raise  # removed since the listing (the caller lists again)
    except (OSError, ValueError, KeyError, TypeError):
        raise LakeError(
            f"{path} is not a commit record Sitrep wrote (no outputs and replaced files): move it "
            "out of the lake's events folder"
        ) from None


def _check_parquet(path: Path) -> None:
    """Refuse, by name, a file of the lake that is not Parquet."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(size - 4, 0))
            tail = handle.read(4)
    except OSError as exc:
        raise LakeError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    check_magic(path, size, head, tail)


def check_magic(path: LakePath, size: int, head: bytes, tail: bytes) -> None:
    """Refuse a file whose first and last four bytes are not Parquet's."""
    if size < 12 or head != PARQUET_MAGIC or tail != PARQUET_MAGIC:
        raise LakeError(
            f"{path} is not a Parquet file (truncated, or not written by Sitrep): the lake only holds files "
            "ingest committed whole; move it out of the lake (re-ingest its source file if it was one)"
        )


_SPAN = re.compile(r"__(\d{14})__(\d{14})\.parquet$")
_STAMP = "%Y%m%d%H%M%S"


def events_file_name(file_id: str, first: datetime, last: datetime) -> str:
    """``event_date=<date>/<file_id>__<first>__<last>.parquet``, the key of an events file whose
    events all fall on one UTC date: the span of ``time_source`` (UTC, to the second) in the name lets
    a query of one week open only the files that can hold it, without reading any footer."""
    first, last = first.astimezone(UTC), last.astimezone(UTC)
    if first.date() != last.date():
        raise ValueError(f"an events file holds one date's events, not {first:%Y-%m-%d} to {last:%Y-%m-%d}")
    return f"event_date={first:%Y-%m-%d}/{file_id}__{first:{_STAMP}}__{last:{_STAMP}}.parquet"


def _file_id(name: str) -> str:
    """The ingest or compaction id an events file's name starts with (a second file of the same id and
    span has ``~<n>`` after it, see :func:`piece_keys`)."""
    head = name.split("__", 1)[0]
    stem, _, number = head.rpartition("~")
    return stem if stem and number.isdigit() else head


def piece_keys(file_id: str, pieces: list[Piece]) -> list[tuple[Path, str]]:
    """The work files of ``pieces`` with their keys in ``events/``; two pieces of one date with the
    same span (a partitioned write that split a date) get ``~<n>`` after the id."""
    keyed: list[tuple[Path, str]] = []
    taken: set[str] = set()
    for piece in pieces:
        key = events_file_name(file_id, piece.first, piece.last)
        number = 1
        while key in taken:
            number += 1
            key = events_file_name(f"{file_id}~{number}", piece.first, piece.last)
        taken.add(key)
        keyed.append((piece.path, key))
    return keyed


def _stamp(digits: str) -> datetime:
    # What strptime(_STAMP) reads, without its cost (a page of the explorer judges hundreds of names).
    y, mo, d, h, mi, s = (int(digits[i:j]) for i, j in ((0, 4), (4, 6), (6, 8), (8, 10), (10, 12), (12, 14)))
    return datetime(y, mo, d, h, mi, s, tzinfo=UTC)


def file_span(name: str) -> tuple[datetime, datetime] | None:
    """The ``[first, last + 1 s)`` of ``time_source`` an events file's name gives; None for a name
    without one (or with digits that are no time: a hand-made name), which is always read."""
    match = _SPAN.search(name)
    if not match:
        return None
    try:
        return _stamp(match.group(1)), _stamp(match.group(2)) + timedelta(seconds=1)
    except ValueError:
        return None


def _overlaps(span: tuple[datetime, datetime] | None, start: datetime | None, end: datetime | None) -> bool:
    if span is None or (start is None and end is None):
        return True
    first, last = span
    return (end is None or first < end) and (start is None or last > start)


@dataclass
class _Listing:
    """The live events files and their spans under one commit state, and those found to be Parquet."""

    state: str
    spans: list[tuple[Entry, tuple[datetime, datetime] | None]]
    checked: set[LakePath]


# By events folder: one listing kept per process (the web desk's pages), replaced when the state changes.
_listings: dict[LakePath, _Listing] = {}


# How events files are written (DuckDB COPY options).  Parquet format 2 pages encode faster than
# format 1 (a tenth off a 10M-row ingest) and the lake's readers (DuckDB, PyArrow, Spark 3.3+) read them
# (Spark with its row reader: format 2 writes DOUBLE columns BYTE_STREAM_SPLIT, which its vectorized
# reader refuses; ``metrics.spark.DEFAULTS`` turns that one off).
EVENTS_PARQUET = "FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, ROW_GROUP_SIZE 262144, PARQUET_VERSION V2"


# A file whose events fall on more dates than this is split by DuckDB's partitioned write in one pass;
# with fewer, each date's file is written by a query of its own (a 10M-row week: 7 queries cost about
# what one unpartitioned write does, while DuckDB's partitioned write of it takes 60% longer).
_DATES_ONE_BY_ONE = 31


def write_partitions(
    con: duckdb.DuckDBPyConnection, rows: str, times: str | Iterable[date], folder: Path, *, order: str = ""
) -> list[Piece]:
    """Write ``rows`` (SQL for a relation of the lake's columns) into ``folder`` as one events file per
    UTC date of ``time_source``, each sorted by ``order`` if given.  ``times`` is SQL for a cheaper
    relation with the same ``time_source`` values (the dates are read from it), or those dates when the
    caller has them already.  The connection's time zone is UTC (:func:`connect`)."""
    sort = f" ORDER BY {order}" if order else ""
    folder.mkdir(exist_ok=True)
    if isinstance(times, str):
        query = f"SELECT DISTINCT CAST(time_source AS DATE) FROM {times}"
        times = [d for (d,) in con.execute(query).fetchall()]
    dates = sorted(set(times))
    if not dates:
        return []
    if len(dates) <= _DATES_ONE_BY_ONE:
        for day in dates:
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            con.execute(
                f"COPY (SELECT * FROM {rows} WHERE time_source >= ? AND time_source < ?{sort}) "
                f"TO {lit(str(folder / f'{day:%Y-%m-%d}.parquet'))} ({EVENTS_PARQUET})",
                [start, start + timedelta(days=1)],
            )
    else:
        con.execute(
            f"COPY (SELECT *, CAST(time_source AS DATE) AS __event_date FROM {rows}{sort}) TO {lit(str(folder))} "
            f"({EVENTS_PARQUET}, PARTITION_BY (__event_date), FILENAME_PATTERN 'part_{{i}}', OVERWRITE_OR_IGNORE)"
        )
        # Out of DuckDB's key=value folders, which readers would take for a column of the file.
        for number, part in enumerate(sorted(folder.glob("__event_date=*/*.parquet"))):
            part.rename(folder / f"{part.parent.name.split('=', 1)[1]}-{number}.parquet")
    written = sorted(str(p) for p in folder.glob("*.parquet"))
    found = con.execute(
        f"SELECT filename, min(time_source), max(time_source), count(*) FROM read_parquet("
        f"[{', '.join(lit(p) for p in written)}], filename = true, hive_partitioning = false) GROUP BY filename "
        "ORDER BY 2, 1"
    ).fetchall()
    for path in set(written) - {row[0] for row in found}:
        Path(path).unlink()  # a date whose rows all went elsewhere: no empty file in the lake
    return [Piece(Path(name), first, last, int(count)) for name, first, last, count in found]


def connect(
    workspace: Workspace,
    *,
    temp_dir: Path | None = None,
    limits: Ingest | Query | None = None,
    read_lake: bool = True,
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection set up for the lake: UTC, bounded memory and threads (``limits``:
    ``[ingest]`` by default, ``[query]`` for the query database), no downloads.  ``read_lake=False``:
    one that never reads the lake, so needs no connection to its object store (a Spark task's)."""
    con = duckdb.connect(":memory:")
    settings = limits or workspace.settings.ingest
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET enable_progress_bar = false")  # the CLI draws its own
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET memory_limit = {lit(settings.memory_limit)}")
    con.execute(f"SET threads = {int(settings.threads)}")
    if temp_dir is not None:
        con.execute(f"SET temp_directory = {lit(str(temp_dir / 'spill'))}")
    lake = Lake.of(workspace) if read_lake else None
    if lake is not None and isinstance(lake.events_dir, ObjectPath):
        # DuckDB reads the store's objects through the Python file system (its own httpfs extension
        # would have to be downloaded).
        con.register_filesystem(lake.filesystem)  # type: ignore[attr-defined]
    return con


def storage_key(workspace: Workspace) -> str:
    """What a DuckDB database set up by :func:`connect` depends on besides its limits: the object
    store its lake is on (a database reads one store's ``s3://`` URLs)."""
    return workspace.settings.storage.s3.model_dump_json() if workspace.lake_url else ""


def events_source(lake: Lake, files: list[LakePath] | None = None) -> str:
    """SQL for the lake's events: a Parquet scan, or an empty table of the schema when there are none."""
    chosen = lake.event_files() if files is None else files
    if not chosen:
        columns = ", ".join(f"CAST(NULL AS {c.sql}) AS {c.name}" for c in COLUMNS)
        return f"(SELECT {columns} WHERE false)"
    listed = ", ".join(lit(str(p)) for p in chosen)
    # Every events file is written with the lake schema (schema.COLUMNS), so no per-file schema merge;
    # the partition folders' names add no column.
    return f"read_parquet([{listed}], hive_partitioning = false)"


def rejects_source(lake: Lake) -> str:
    """SQL for every rejected row kept in the lake."""
    files = lake.reject_files()
    if not files:
        columns = ", ".join(f"CAST(NULL AS VARCHAR) AS {f.name}" for f in REJECT_SCHEMA if f.name != "line")
        return f"(SELECT {columns}, CAST(NULL AS BIGINT) AS line WHERE false)"
    listed = ", ".join(lit(str(p)) for p in files)
    return f"read_parquet([{listed}], union_by_name = true)"
