"""Refs of new incidents: ``<prefix>-<local date>-<n>`` (``INC-20250102-0001``), safe under concurrency;
and the refs of proposed incidents, ``P-<week>-<hash of rule and asset>`` (of a complaint mail,
``P-<week received>-<hash of the mail>``).

The number comes from a counter row per prefix and day, incremented in the adding transaction: on
SQLite that transaction holds the write lock from its start, on PostgreSQL the row lock orders
concurrent adds, so two adds never get the same number.  A number whose ref was already taken by hand
(``--ref``) is skipped.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sitrep.incidents.models import Incident, RefCounter
from sitrep.weeks import Week


def _increment(session: Session, prefix: str) -> int:
    bump = update(RefCounter).where(RefCounter.prefix == prefix).values(last=RefCounter.last + 1)
    # An UPDATE's result is a CursorResult (typed as the rows' Result).
    if cast(CursorResult[Any], session.execute(bump)).rowcount == 0:
        try:
            # The day's first ref.  A concurrent first insert wins the primary key; we then bump its row.
            with session.begin_nested():
                session.add(RefCounter(prefix=prefix, last=1))
            return 1
        except IntegrityError:
            session.execute(bump)
    return session.scalars(select(RefCounter.last).where(RefCounter.prefix == prefix)).one()


def next_ref(session: Session, prefix: str, tz: ZoneInfo, now: datetime) -> str:
    """The next free ref of the day ``now`` falls on in ``tz``, counted in the caller's transaction."""
    day_prefix = f"{prefix}-{now.astimezone(tz):%Y%m%d}-"
    while True:
        ref = f"{day_prefix}{_increment(session, day_prefix):04d}"
        if not session.scalar(select(exists().where(Incident.ref == ref))):
            return ref


PROPOSAL_PREFIX = "P-"  # every proposed incident's ref starts so (from the lake or a complaint mail)


def proposal_prefix(week: Week) -> str:
    """What the refs of the incidents proposed from ``week``'s events (or complaint mails received in
    ``week``) start with."""
    return f"{PROPOSAL_PREFIX}{week}-"


def proposal_ref(week: Week, rule: str, asset: str) -> str:
    """The deterministic ref of a proposed incident: the same rule and asset in the same week give the
    same ref, so proposing a week twice creates nothing new."""
    digest = hashlib.sha256(f"{rule}\0{asset}".encode()).hexdigest()[:10]
    return f"{proposal_prefix(week)}{digest}"
