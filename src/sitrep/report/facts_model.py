"""The facts of one week's issue as typed values: what :func:`sitrep.report.facts.gather` returns and a
published issue freezes.

Their JSON form (:meth:`~sitrep.results.Result.as_dict`) is the ``sitrep.facts/1`` structure stored in
``reports/published/<week>.json``; :meth:`~sitrep.results.Result.from_dict` reads it back, issues
frozen by earlier versions included.  Nothing here queries: this module is what the report, the archive
and the web desk share.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, fields
from typing import Any

from sitrep.incidents.response_model import PartnerResponse
from sitrep.metrics.model import SectorCount, VulnerabilityItem, WeekMetrics
from sitrep.report.rating import RatingResult
from sitrep.results import Counted, Result
from sitrep.taxonomy import TLP

SCHEMA = "sitrep.facts/1"


@dataclass(frozen=True, slots=True)
class SeriesWeek(Result):
    """One week of the trend and the rating's baseline: the eight indicator values (keyed as
    :data:`sitrep.taxonomy.INDICATORS`); ``in_history`` is False before the lake's first data."""

    week: str
    in_history: bool
    values: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {"week": self.week, "in_history": self.in_history, **self.values}

    @classmethod
    def from_json(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        rest = {k: v for k, v in data.items() if k not in ("week", "in_history")}
        return {"week": data.get("week"), "in_history": data.get("in_history"), "values": rest}


@dataclass(frozen=True, slots=True)
class IncidentFacts(Result):
    """Section 5: each incident number with the refs behind it, the partner types involved, the major
    infrastructure incidents, and the TLP label of every incident named (to keep restricted ones out).

    In JSON the numbers (``numbers``, ``by_category``, ``by_partner_type``) and their refs (``evidence``)
    are stored apart, as issues have always been frozen.
    """

    handled: Counted
    cross_border: Counted
    phishing: Counted
    mobile_malware_urls: Counted
    mobile_malware_platforms: Counted
    partner_types: tuple[str, ...]
    by_category: dict[str, Counted]
    by_partner_type: dict[str, Counted]
    major_infrastructure: tuple[str, ...]
    tlp: dict[str, str | None]
    # How fast partners took things down (issues frozen before it was recorded have none).
    partner_response: PartnerResponse | None = None

    def headline(self) -> dict[str, Counted]:
        """The five numbers of section 5, in report order."""
        return {name: getattr(self, name) for name in INCIDENT_NUMBERS}

    def as_dict(self) -> dict[str, Any]:
        headline = self.headline()
        return {
            "numbers": {k: c.value for k, c in headline.items()},
            "partner_types": list(self.partner_types),
            "by_category": {k: c.value for k, c in self.by_category.items()},
            "by_partner_type": {k: c.value for k, c in self.by_partner_type.items()},
            "evidence": {
                **{k: list(c.refs) for k, c in headline.items()},
                "by_category": {k: list(c.refs) for k, c in self.by_category.items()},
                "by_partner_type": {k: list(c.refs) for k, c in self.by_partner_type.items()},
            },
            "major_infrastructure": list(self.major_infrastructure),
            "tlp": dict(self.tlp),
            **({"partner_response": self.partner_response.as_dict()} if self.partner_response else {}),
        }

    @classmethod
    def from_json(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("evidence"), dict):
            return data
        numbers, evidence = data.get("numbers") or {}, data["evidence"]

        def counted(values: Any, refs: Any) -> Any:
            if not isinstance(values, dict) or not isinstance(refs, dict):
                return values
            return {k: {"value": v, "refs": refs.get(k, [])} for k, v in values.items()}

        return {
            **counted(numbers, evidence),
            "partner_types": data.get("partner_types"),
            "by_category": counted(data.get("by_category"), evidence.get("by_category", {})),
            "by_partner_type": counted(data.get("by_partner_type"), evidence.get("by_partner_type", {})),
            "major_infrastructure": data.get("major_infrastructure"),
            "tlp": data.get("tlp"),
            "partner_response": data.get("partner_response"),
        }

    def restricted(self, ref: str, labels: Collection[str]) -> bool:
        """Is the incident ``ref`` labelled other than ``labels`` (those whose identifiers a public output
        may show) or unknown, so that no detail of it may be shown?"""
        label = self.tlp.get(ref)
        try:
            return label is None or TLP.parse(label).value not in labels
        except ValueError:
            return True


# The incident numbers of section 5, in report order: the Counted fields of IncidentFacts.
INCIDENT_NUMBERS = tuple(f.name for f in fields(IncidentFacts) if f.type == "Counted")


@dataclass(frozen=True, slots=True, kw_only=True)
class Facts(Result):
    """Everything one week's issue says, with the IDs behind each number and its rating."""

    schema: str = SCHEMA
    week: str
    start: str
    end: str
    computed_at: str
    metrics: WeekMetrics
    evidence: dict[str, tuple[str, ...]]  # indicator key (and ``malware_hosting``) → event IDs behind it
    series: tuple[SeriesWeek, ...]  # the trend's weeks, oldest first, this week last
    history_start: str | None
    public_families: tuple[str, ...]  # malware families seen in data the names policy allows
    # The event IDs behind the numbers that belong to CLEAR/GREEN events (issues frozen before it was
    # recorded have none: every event ID of theirs is shown opaque).
    public_events: tuple[str, ...] = field(default=())
    incidents: IncidentFacts
    rating: RatingResult
    # Recorded since the full edition's content; None in issues frozen before it (the part is left out).
    public_regions: tuple[str, ...] | None = None  # region codes the names policy lets a report print
    sectors: tuple[SectorCount, ...] | None = None  # infected hosts by the sector the feed gives
    public_sectors: tuple[str, ...] | None = None
    vulnerability_list: tuple[VulnerabilityItem, ...] | None = None  # section 4's important ones
