"""The partner-response figure as typed values (:func:`sitrep.incidents.response.partner_response`
computes it): plain data a published issue freezes, with no database behind it."""

from __future__ import annotations

from dataclasses import dataclass

from sitrep.results import Result


@dataclass(frozen=True, slots=True)
class TypeResponse(Result):
    """One partner type: requests acted on and their median hours, this week and over the weeks before."""

    type: str
    taken_down: int
    median_hours: float | None
    previous_taken_down: int
    previous_median_hours: float | None


@dataclass(frozen=True, slots=True)
class PartnerResponse(Result):
    """All partners together, and each partner type with a request acted on in the compared weeks (in
    the report's partner order); ``previous_weeks`` is how many weeks before this one are compared."""

    previous_weeks: int
    taken_down: int
    median_hours: float | None
    previous_taken_down: int
    previous_median_hours: float | None
    by_type: tuple[TypeResponse, ...]
