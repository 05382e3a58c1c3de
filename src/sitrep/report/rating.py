"""The week's overall rating (DESIGN.md §6): a transparent rule, configured in ``[rating]``.

For each rated indicator ``r = this week / baseline``, the baseline being the median of the previous
``baseline_weeks`` weeks that lie inside the lake's history (fewer when the history is shorter, last
week alone when only one is known).  The score is the mean of the ``r`` values and falls into a band
(优 < 0.8 ≤ 良 < 1.1 ≤ 中 < 1.4 ≤ 差 < 2.0 ≤ 危 by default).  An indicator with nothing this week and
nothing in its baseline says nothing about the week and is left out of the mean; when no indicator is
left, or every indicator is 0 this week (its data is missing), the week is not rated (label ``None``:
not enough data).  A major infrastructure incident lifts
the rating to at least ``major_infrastructure_floor``.  Everything needed to retrace the result is
returned.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any, Literal

from sitrep.config import Rating
from sitrep.results import Result
from sitrep.taxonomy import RATINGS

# How an indicator took part in the score: ``rated`` (its ratio is averaged), ``new`` (a rise from a
# zero baseline: no finite ratio), ``no_data`` (0 this week and 0 baseline), ``no_baseline`` (no
# earlier week in the lake's history).  Only ``rated`` indicators count.
RatioStatus = Literal["rated", "new", "no_data", "no_baseline"]


@dataclass(frozen=True)
class Ratio(Result):
    """One indicator's part of the score.  ``ratio`` is None unless ``status`` is ``rated``."""

    key: str
    value: int
    baseline: float | None
    baseline_weeks: list[str]
    ratio: float | None
    status: RatioStatus = "rated"

    @classmethod
    def from_json(cls, data: Any) -> Any:
        """Issues frozen before ``status`` existed get the status their numbers imply."""
        if isinstance(data, dict) and "status" not in data:
            if data.get("ratio") is not None:
                data = {**data, "status": "rated"}
            else:
                data = {**data, "status": "no_baseline" if data.get("baseline") is None else "new"}
        return data


@dataclass(frozen=True)
class RatingResult(Result):
    """The rating and its explanation (stored in the JSON and summarised in the report).

    ``label`` and ``band_label`` are None when no indicator could be rated (not enough data), unless
    a major infrastructure incident set ``label`` to the floor.
    """

    label: str | None
    score: float | None
    band_label: str | None
    ratios: list[Ratio]
    floor_applied: bool
    major_infrastructure: list[str] = field(default_factory=list)
    rule: dict[str, Any] = field(default_factory=dict)

    @property
    def rated(self) -> list[Ratio]:
        """The indicators whose ratio is in the score."""
        return [r for r in self.ratios if r.status == "rated"]

    @property
    def empty(self) -> bool:
        """Every rated indicator is 0 this week: no data to rate the week on."""
        return all(r.value == 0 for r in self.ratios)

    @property
    def baseline_weeks(self) -> list[str]:
        """The weeks the baselines were taken from (the same for every indicator)."""
        return self.ratios[0].baseline_weeks if self.ratios else []


def ratio(value: int, baseline: float | None) -> tuple[float | None, RatioStatus]:
    """``value / baseline`` to three decimals, and how the indicator takes part in the score.

    A rise from nothing has no finite ratio: it is shown in the explanation but left out of the mean,
    so one new kind of event cannot turn a calm week into 危 on its own.  Nothing now and nothing
    before is no evidence of a normal week either (a week nobody ingested looks like that), so it is
    left out too.
    """
    if baseline is None:
        return None, "no_baseline"
    if baseline == 0:
        return (None, "new") if value else (None, "no_data")
    return round(value / baseline, 3), "rated"


def band(score: float, config: Rating) -> str:
    """The label of the first band whose ``below`` limit exceeds ``score``."""
    for b in config.bands:
        if score < b.below:
            return b.label
    return config.otherwise


def rate(
    this: dict[str, int],
    history: list[dict[str, Any]],
    config: Rating,
    *,
    major_infrastructure: list[str] | None = None,
) -> RatingResult:
    """Rate a week from its values and the previous weeks' values (``[{"week": …, key: n}]``, oldest first).

    ``history`` must already be limited to weeks inside the lake's history; only the last
    ``config.baseline_weeks`` of it are used.
    """
    previous = history[-config.baseline_weeks :] if history else []
    ratios = []
    for key in config.indicators:
        values = [int(w[key]) for w in previous]
        baseline = round(float(statistics.median(values)), 3) if values else None
        r, status = ratio(this[key], baseline)
        ratios.append(Ratio(key, int(this[key]), baseline, [w["week"] for w in previous], r, status))
    # A week in which every rated indicator is 0 is a week whose data is missing (not ingested yet, a
    # week to come), not a calm one: it is not rated rather than rated 优.
    empty = all(r.value == 0 for r in ratios)
    usable = [] if empty else [r.ratio for r in ratios if r.ratio is not None]
    score = round(sum(usable) / len(usable), 3) if usable else None
    label = band_label = None if score is None else band(score, config)
    majors = sorted(major_infrastructure or [])
    floor_applied = False
    floor = config.major_infrastructure_floor
    if majors and (label is None or RATINGS.index(label) < RATINGS.index(floor)):
        label, floor_applied = floor, True
    rule = {
        "indicators": list(config.indicators),
        "baseline_weeks": config.baseline_weeks,
        "bands": [{"below": b.below, "label": b.label} for b in config.bands],
        "otherwise": config.otherwise,
        "major_infrastructure_floor": floor,
    }
    return RatingResult(label, score, band_label, ratios, floor_applied, majors, rule)
