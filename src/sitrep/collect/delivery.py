"""What a source kind hands the collector: delivered files, each with its own way of being finished.

A kind is a function ``deliveries(workspace, source, work, now)`` that yields :class:`Delivery` values
one at a time.  The collector ingests each one and calls its ``finish`` before it asks for the next, so
a kind can act once a file's data is committed (a mailbox marks its message only after the last of its
attachments is finished) simply by doing so after its ``yield``.  ``work`` is a temporary folder, removed
after the run, for kinds that download.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sitrep.config import Workspace

if TYPE_CHECKING:
    from sitrep.incidents.complaints import ComplaintOutcome

Outcome = Literal["done", "failed"]

_UNSAFE = re.compile(r"[^\w.-]+")


@dataclass(frozen=True)
class Delivery:
    """One delivered file; ``finish(outcome, reason)`` puts it away once taken and returns where it went
    (a path relative to the workspace or the drop folder), or None when it was not kept.  ``intake``
    takes a file that is no feed (a complaint mail) in place of the ingest."""

    path: Path
    finish: Callable[[Outcome, str | None], str | None]
    intake: Callable[[Path], ComplaintOutcome] | None = None


Deliveries = Callable[[Workspace, Any, Path, datetime], Iterator[Delivery]]


def failed_dir(workspace: Workspace, source_name: str) -> Path:
    """Where the files a downloading source fetched but could not ingest are kept, with their reasons."""
    return workspace.root / "collected" / source_name / "failed"


def downloaded(
    workspace: Workspace, source_name: str, path: Path, on_done: Callable[[], None] | None = None
) -> Delivery:
    """A file a source fetched into its work folder: dropped once ingested (the lake has its data, and
    ``on_done`` runs, e.g. to keep the feed's validators); kept in :func:`failed_dir` with its reason
    when it could not be ingested."""

    def finish(outcome: Outcome, reason: str | None) -> str | None:
        if outcome == "done":
            if on_done is not None:
                on_done()
            return None
        target = failed_dir(workspace, source_name)
        target.mkdir(parents=True, exist_ok=True)
        kept = target / f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{path.name}"
        shutil.move(path, kept)
        kept.with_name(kept.name + ".reason.txt").write_text(f"{reason}\n", encoding="utf-8")
        return str(kept.relative_to(workspace.root))

    return Delivery(path, finish)


def safe_name(name: str, fallback: str) -> str:
    """A name a sender chose (a server's ``Content-Disposition``, an attachment's file name) made safe
    to name a file in the work folder and in the records: its last part only, of letters (any script),
    digits, ``.``, ``_`` and ``-`` (a run of anything else becomes ``_``), no leading dot, short enough
    for any file system (a long one keeps its start and its end, so its type); it can never name a
    folder, another place (``../``) or a hidden file.  ``fallback`` when nothing is left."""
    last = name.replace("\\", "/").rsplit("/", 1)[-1]
    safe = _UNSAFE.sub("_", last).strip(".")
    if len(safe.encode()) > 200:
        safe = f"{safe[:40]}_{safe[-20:]}"
    return safe if safe.strip("_") else fallback
