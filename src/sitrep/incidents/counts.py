"""How many incidents are open in each status (the desk's dashboard): one grouped count, no rows."""

from __future__ import annotations

from sqlalchemy import func, select

from sitrep.incidents.desk import Desk
from sitrep.incidents.models import Incident
from sitrep.incidents.vocabulary import OPEN_STATUSES, Status


def open_by_status(desk: Desk) -> dict[Status, int]:
    """Each open status (new, triaged, coordinating), in workflow order, with its number of incidents."""
    with desk.store.read() as session:
        rows = session.execute(
            select(Incident.status, func.count())
            .where(Incident.status.in_([s.value for s in OPEN_STATUSES]))
            .group_by(Incident.status)
        ).all()
    found = {status: count for status, count in rows}
    return {s: int(found.get(s.value, 0)) for s in OPEN_STATUSES}
