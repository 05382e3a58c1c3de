"""The drop folder (``kind = "folder"``): the files in its ``path`` (not in its subfolders), oldest
first; each moves to ``done/`` once ingested, or to ``failed/`` with ``<name>.reason.txt`` beside it.

A file that changed in the last :data:`SETTLE_SECONDS` may still be being written (a partner's upload
in progress) and waits for the next run; so do names starting with a dot and ``.part``/``.tmp`` files,
which copying tools write before renaming.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import partial
from pathlib import Path

from sitrep.collect.delivery import Delivery, Outcome
from sitrep.config import FolderSource, Workspace

SETTLE_SECONDS = 10
_UNFINISHED = (".part", ".tmp", ".partial", ".crdownload")


def location(workspace: Workspace, source: FolderSource) -> Path:
    """The drop folder: ``path``, inside the workspace when relative."""
    path = Path(source.path).expanduser()
    return path if path.is_absolute() else workspace.root / path


def delivered(workspace: Workspace, source: FolderSource, now: datetime) -> list[Path]:
    """The files waiting in the drop folder, oldest first.  Raises :class:`OSError` (naming the folder)
    when it cannot be listed."""
    where = location(workspace, source)
    if not where.is_dir():
        raise FileNotFoundError(f"the drop folder {where} does not exist (source {source.name!r})")
    found = []
    for path in where.iterdir():
        if path.name.startswith(".") or path.name.lower().endswith(_UNFINISHED) or not path.is_file():
            continue
        changed = path.stat().st_mtime
        if now.timestamp() - changed >= SETTLE_SECONDS:
            found.append((changed, path.name, path))
    return [path for *_, path in sorted(found)]


def deliveries(workspace: Workspace, source: FolderSource, work: Path, now: datetime) -> Iterator[Delivery]:
    """The drop folder's files (see :func:`delivered`), each moved away when finished."""
    for path in delivered(workspace, source, now):
        yield Delivery(path, partial(finish, workspace, source, path))


def finish(workspace: Workspace, source: FolderSource, path: Path, outcome: Outcome, reason: str | None = None) -> str:
    """Move ``path`` into ``done/`` or ``failed/`` of its folder (a name already there gets a number),
    with the reason beside a failed file; the new path, relative to the drop folder."""
    target_dir = location(workspace, source) / outcome
    target_dir.mkdir(exist_ok=True)
    target = target_dir / path.name
    number = 1
    while target.exists():
        target = target_dir / f"{Path(path.name).stem}.{number}{''.join(Path(path.name).suffixes[-1:])}"
        number += 1
    path.rename(target)
    if reason is not None:
        target.with_name(target.name + ".reason.txt").write_text(reason + "\n", encoding="utf-8")
    return f"{outcome}/{target.name}"
