"""The week's overall rating (DESIGN.md §6): a transparent rule, configured in ``[rating]``.

For each rated indicator ``r = this week / baseline``, the baseline being the median of the previous
``baseline_weeks`` weeks that lie inside the lake's history (fewer when the history is shorter, last
week alone when only one is known).  The score is the mean of the ``r`` values and falls into a band
(优 < 0.8 ≤ 良 < 1.1 ≤ 中 < 1.4 ≤ 差 < 2.0 ≤ 危 by default).  A major infrastructure incident lifts the
rating to at least ``major_infrastructure_floor``.  Everything needed to retrace the result is returned.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

from sitrep.config import Rating
from sitrep.taxonomy import RATINGS

# The score used when no indicator has a baseline yet: "as usual", so a new workspace is not alarmed.
NEUTRAL_SCORE = 1.0


@dataclass(frozen=True)
class Ratio:
    """One indicator's part of the score.  ``ratio`` is None when there is no usable baseline."""

    key: str
    value: int
    baseline: float | None
    baseline_weeks: list[str]
    ratio: float | None


@dataclass(frozen=True)
class RatingResult:
    """The rating and its explanation (stored in the JSON and summarised in the report)."""

    label: str
    score: float | None
    band_label: str
    ratios: list[Ratio]
    floor_applied: bool
    major_infrastructure: list[str] = field(default_factory=list)
    rule: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RatingResult:
        return cls(**{**data, "ratios": [Ratio(**r) for r in data["ratios"]]})


def ratio(value: int, baseline: float | None) -> float | None:
    """``value / baseline`` to three decimals; a zero baseline gives 1 for 0 and no ratio otherwise.

    A rise from nothing has no finite ratio: it is shown in the explanation but left out of the mean,
    so one new kind of event cannot turn a calm week into 危 on its own.
    """
    if baseline is None:
        return None
    if baseline == 0:
        return 1.0 if value == 0 else None
    return round(value / baseline, 3)


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
        ratios.append(Ratio(key, int(this[key]), baseline, [w["week"] for w in previous], ratio(this[key], baseline)))
    usable = [r.ratio for r in ratios if r.ratio is not None]
    score = round(sum(usable) / len(usable), 3) if usable else None
    label = band_label = band(NEUTRAL_SCORE if score is None else score, config)
    majors = sorted(major_infrastructure or [])
    floor_applied = False
    floor = config.major_infrastructure_floor
    if majors and RATINGS.index(label) < RATINGS.index(floor):
        label, floor_applied = floor, True
    rule = {
        "indicators": list(config.indicators),
        "baseline_weeks": config.baseline_weeks,
        "bands": [{"below": b.below, "label": b.label} for b in config.bands],
        "otherwise": config.otherwise,
        "major_infrastructure_floor": floor,
        "neutral_score": NEUTRAL_SCORE,
    }
    return RatingResult(label, score, band_label, ratios, floor_applied, majors, rule)
