"""The abuse mailbox (``kind = "complaints"``): each waiting message is a complaint to take.

The messages are the mailbox's (:mod:`sitrep.collect.mailbox`): unseen, matching the source's patterns,
oldest first.  Each one is handed whole to the complaint intake (:func:`take_complaint`), which
proposes an incident, attaches the mail to the open incident it names, or quarantines it; the message
is marked (``then``) once the intake has recorded it.  A collect killed before the mark leaves the
message unseen, and the next run hands it over again, which the intake recognises (``already``).

When the intake cannot record anything (the database or the workspace folder cannot be written), the
run stops there with that error, and the message stays unseen for the next run.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import partial
from pathlib import Path

from sitrep.collect.delivery import Delivery, Outcome
from sitrep.collect.mailbox import Envelope, Mailbox, MailboxError, MessageTooLarge, open_mailbox
from sitrep.config import ComplaintsSource, Workspace
from sitrep.incidents.complaints import ComplaintError, ComplaintOutcome, take_complaint
from sitrep.incidents.desk import Desk


def deliveries(workspace: Workspace, source: ComplaintsSource, work: Path, now: datetime) -> Iterator[Delivery]:
    """The mailbox's waiting messages, each as an ``.eml`` in ``work`` to take as a complaint; each is
    marked when finished.  Raises :class:`MailboxError` naming the messages too large to fetch (left
    unseen), after the others were taken."""
    desk = Desk.open(workspace)
    left: list[str] = []
    with open_mailbox(workspace, source) as box:
        for envelope in box.waiting():
            try:
                raw = box.fetch(envelope)
            except MessageTooLarge as exc:
                left.append(f"{exc}: left unseen")
                continue
            if raw is None:  # gone since it was listed
                continue
            path = work / f"mail-{envelope.uid}.eml"
            path.write_bytes(raw)
            mark = partial(_mark, box, envelope)
            yield Delivery(path, mark, partial(_take, desk, source, envelope))
    if left:
        raise MailboxError("; ".join(left))


def _mark(box: Mailbox, envelope: Envelope, outcome: Outcome, reason: str | None) -> str:
    """A taken mail is marked whatever the intake made of it: each of its outcomes is final."""
    return box.mark(envelope.uid)


def _take(desk: Desk, source: ComplaintsSource, envelope: Envelope, path: Path) -> ComplaintOutcome:
    try:
        return take_complaint(desk, path.read_bytes(), source=source.name, received_at=envelope.received)
    except ComplaintError as exc:
        raise MailboxError(f"{envelope}: {exc}; left unseen") from None
