"""Feeds mailed as attachments (``kind = "imap"``): Shadowserver's daily reports, a partner's weekly CSV.

Each run looks at the unseen messages of the source's folder whose sender and subject match its
patterns (:mod:`sitrep.collect.mailbox`), oldest first.  The attachments of a message whose file names
end with one of ``attachments`` are written to the work folder (under a safe name: a sender's
``../../x`` names no other place) and delivered one after the other; once the last one is finished,
its data committed, the message is marked (``then``: seen, moved, deleted).  So a run killed half-way
leaves the message unseen: the next run takes it again, and what was already ingested is recognised
by its bytes.

- An attachment that cannot be ingested is kept in ``collected/<source>/failed/`` with its reason and
  recorded; the message is still marked (taking it again would fail the same way).
- A message with no such attachment (a notice, a newsletter from the same sender) is left as it is,
  unseen, for a person to read.
- A message over ``max_mb``, or one whose structure cannot be read at all, is left unseen too, and
  named in the source's error after the others were taken, so the run says so until someone looks.

Each file's time (what time-less feeds date their rows by) is when the server received the message.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from email import message_from_bytes
from email.errors import MessageError
from email.message import Message
from email.policy import default
from pathlib import Path

from sitrep.collect.delivery import Delivery, Outcome, downloaded, safe_name
from sitrep.collect.mailbox import Envelope, Mailbox, MailboxError, MessageTooLarge, open_mailbox
from sitrep.config import ImapSource, Workspace

# What the email package raises on hostile structure or headers (besides recording defects).
_BROKEN = (MessageError, ValueError, LookupError, IndexError, AttributeError, TypeError, RecursionError)


def deliveries(workspace: Workspace, source: ImapSource, work: Path, now: datetime) -> Iterator[Delivery]:
    """The attachments of the mailbox's waiting messages; each message is marked once its last
    attachment is finished.  Raises :class:`MailboxError` for the mailbox (after the messages it could
    take were taken, for the ones it left unseen)."""
    left: list[str] = []
    with open_mailbox(workspace, source) as box:
        for envelope in box.waiting():
            try:
                files = _attachments_of(box, envelope, source, work / str(envelope.uid))
            except MessageTooLarge as exc:
                left.append(f"{exc}: left unseen")
                continue
            except _BROKEN as exc:
                left.append(f"{envelope} cannot be read ({type(exc).__name__}: {exc}): left unseen")
                continue
            yield from _message(workspace, source, box, envelope, files)
    if left:
        raise MailboxError("; ".join(left))


def _attachments_of(box: Mailbox, envelope: Envelope, source: ImapSource, folder: Path) -> list[Path]:
    """The message's attachments, written into ``folder`` (none when the message is gone); the
    message's bytes are not kept while its attachments are ingested."""
    raw = box.fetch(envelope)
    return [] if raw is None else attachments(raw, folder, source.attachments, envelope.received)


def _message(
    workspace: Workspace, source: ImapSource, box: Mailbox, envelope: Envelope, files: list[Path]
) -> Iterator[Delivery]:
    """One message's attachments; the finish of the last one marks the message, so the mark follows
    the commit of every attachment's data and is said with the file (``→ mail UID 7 marked seen``)."""
    finished: list[Outcome] = []
    for path in files:
        put_away = downloaded(workspace, source.name, path).finish

        def finish(outcome: Outcome, reason: str | None, put_away=put_away) -> str | None:
            kept = put_away(outcome, reason)
            finished.append(outcome)
            if len(finished) < len(files):
                return kept
            marked = box.mark(envelope.uid)
            return f"{kept}; {marked}" if kept else marked

        yield Delivery(path, finish)


def attachments(raw: bytes, folder: Path, suffixes: list[str], received: datetime) -> list[Path]:
    """Write the attachments of the message ``raw`` whose (made safe) file names end with one of
    ``suffixes`` into subfolders of ``folder``, dated ``received``; their paths, in the message's order.
    Raises one of ``_BROKEN`` when the message cannot be read at all."""
    message = message_from_bytes(raw, policy=default)
    written = []
    for number, part in enumerate(message.walk()):
        name = _file_name(part)
        if name is None or part.is_multipart():
            continue
        safe = safe_name(name, f"attachment-{number}")
        if not safe.lower().endswith(tuple(suffixes)):
            continue
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes) or not data:
            continue
        target = folder / str(number) / safe
        target.parent.mkdir(parents=True)
        target.write_bytes(data)
        os.utime(target, (received.timestamp(), received.timestamp()))
        written.append(target)
    return written


def _file_name(part: Message) -> str | None:
    """The file name a part is sent under (``Content-Disposition``'s, else ``Content-Type``'s
    ``name``); None for a part with none, or with one too broken to read."""
    try:
        return part.get_filename() or None
    except _BROKEN:
        return None
