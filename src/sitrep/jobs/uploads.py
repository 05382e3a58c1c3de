"""Where uploaded feed files wait for their ingest job: ``<workspace>/uploads/<random>/<name>``.

The name a file was uploaded under is hostile (``../../etc/x``, ``<script>.csv``, a name of 10,000
characters): it is never used as given.  The stored name keeps only letters, digits, ``.``, ``_`` and
``-`` of its last component, so the format detection still sees the feed's own file name and suffix.
"""

from __future__ import annotations

import os
import re
import shutil
import time
import unicodedata
import uuid
from collections.abc import Set
from pathlib import Path

from sitrep.config import Workspace

UPLOADS = "uploads"
FALLBACK = "upload"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME = 120
_KEEP_END = 24  # a shortened name keeps its end, where the suffixes are (.csv.gz)


def uploads_dir(workspace: Workspace) -> Path:
    """The folder uploads are stored in."""
    return workspace.root / UPLOADS


def new_upload_folder(workspace: Workspace) -> Path:
    """A new, empty folder for one upload."""
    folder = uploads_dir(workspace) / uuid.uuid4().hex
    folder.mkdir(parents=True)
    return folder


def stored_name(original: str) -> str:
    """The file name an upload called ``original`` is stored under (never a path, never hidden)."""
    last = re.split(r"[/\\]", unicodedata.normalize("NFKC", original))[-1]
    safe = _UNSAFE.sub("_", last).lstrip("._-")
    if len(safe) > _MAX_NAME:
        safe = safe[: _MAX_NAME - _KEEP_END] + safe[-_KEEP_END:]
    if not safe.strip("._-"):
        return FALLBACK
    return safe


def discard_upload(workspace: Workspace, relative: str) -> None:
    """Delete the folder of the upload stored at ``relative`` (to the workspace); anything outside the
    uploads folder is left alone."""
    folder = (workspace.root / relative).parent.resolve()
    if folder.parent == uploads_dir(workspace).resolve():
        shutil.rmtree(folder, ignore_errors=True)


def discard_orphans(workspace: Workspace, wanted: Set[str], *, idle_seconds: float) -> list[Path]:
    """Delete the upload folders no job will read: not in ``wanted`` (the uploads of queued or
    running jobs, relative to the workspace) and untouched for ``idle_seconds`` (a file still being
    received is written to, so its folder is never taken).  Such folders are left by a server stopped
    between storing an upload and recording its job.  Returns the folders deleted."""
    root = uploads_dir(workspace)
    if not root.is_dir():
        return []
    keep = {(workspace.root / w).parent.name for w in wanted}
    cutoff = time.time() - idle_seconds
    gone = []
    for folder in root.iterdir():
        if folder.name in keep or not folder.is_dir() or folder.is_symlink():
            continue
        try:
            inside = [e.stat(follow_symlinks=False).st_mtime for e in os.scandir(folder)]
            touched = max([folder.lstat().st_mtime, *inside])
        except FileNotFoundError:  # removed meanwhile
            continue
        if touched < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
            gone.append(folder)
    return gone
