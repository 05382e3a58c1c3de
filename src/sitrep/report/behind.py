"""The incidents behind a number of section 5 of a week's report (how many incidents were handled,
cross-border, phishing, mobile-malware URLs and platforms: :data:`~sitrep.report.facts_model.INCIDENT_NUMBERS`).

For a published week these are the refs its issue froze (what the published number counted, whatever
changed since); otherwise (a draft, or a withdrawn issue) the refs the number counts now, from the same
:func:`~sitrep.report.facts.incident_facts` the report is made of — so a number and the incidents
listed behind it cannot disagree.  A page is a slice of those refs, after the last one shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from sitrep.config import Workspace
from sitrep.report.archive import load_issue
from sitrep.report.facts import incident_facts
from sitrep.report.facts_model import INCIDENT_NUMBERS
from sitrep.weeks import Week

MAX_LIMIT = 1000


class BehindError(ValueError):
    """A question about the incidents behind a number that cannot be answered as asked; the message
    names the bad value."""


@dataclass(frozen=True)
class IncidentsBehind:
    """One page of the refs behind ``number`` of ``week``: ``value`` is the number the report prints,
    ``total`` how many incidents it counts in all, ``frozen`` whether they are a published issue's."""

    week: Week
    number: str
    value: int
    total: int
    frozen: bool
    refs: tuple[str, ...]
    next_after: str | None


def incidents_behind(
    workspace: Workspace, week: Week, number: str, *, limit: int = 50, after: str | None = None
) -> IncidentsBehind:
    """The page of the incidents behind ``number`` of ``week``'s report after the ref ``after``, in the
    report's order (see the module docstring).  Raises :class:`BehindError` for an unknown number, a
    limit out of range, or an ``after`` that is not one of the refs."""
    if number not in INCIDENT_NUMBERS:
        raise BehindError(
            f"no incident number {number!r} in a week's report; the numbers are {', '.join(INCIDENT_NUMBERS)}"
        )
    if not 1 <= limit <= MAX_LIMIT:
        raise BehindError(f"limit {limit} is out of range: a page holds 1 to {MAX_LIMIT} incidents")
    issue = load_issue(workspace, week)
    frozen = issue is not None and issue.withdrawn is None
    facts = issue.facts.incidents if issue is not None and frozen else incident_facts(workspace, week)
    counted = facts.headline()[number]
    start = 0
    if after:
        try:
            start = counted.refs.index(after.strip()) + 1
        except ValueError:
            raise BehindError(f"{after!r} is not one of the incidents behind {number} of {week}") from None
    page = counted.refs[start : start + limit]
    more = start + limit < len(counted.refs)
    return IncidentsBehind(
        week=week,
        number=number,
        value=counted.value,
        total=len(counted.refs),
        frozen=frozen,
        refs=page,
        next_after=page[-1] if more and page else None,
    )
