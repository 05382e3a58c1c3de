"""Classification columns chosen per row from a feed's own category (bot name, report type…).

Feeds whose rows mix kinds of events (Spamhaus' bot names, Team Cymru's categories) name an RSIT type per
category; the taxonomy follows from the type (:data:`sitrep.taxonomy.TAXONOMY_OF_TYPE`), so it is never
written twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sitrep.feeds.sql import lit
from sitrep.taxonomy import TAXONOMY_OF_TYPE, UNLISTED_TYPE_TAXONOMY, taxonomy_of


@dataclass(frozen=True)
class Rule:
    """The RSIT type of one category, and its identifier as an SQL expression (None: the default's)."""

    type: str
    identifier: str | None = None


def taxonomy_sql(type_expr: str) -> str:
    """SQL for the RSIT taxonomy of a lower-case type expression, as IntelMQ's taxonomy expert derives it
    (``other`` for a type it does not list)."""
    whens = " ".join(f"WHEN {lit(t)} THEN {lit(x)}" for t, x in TAXONOMY_OF_TYPE.items())
    return f"CASE {type_expr} {whens} ELSE {lit(UNLISTED_TYPE_TAXONOMY)} END"


def classified_by(key: str, rules: Mapping[str, Rule], default: Rule) -> dict[str, str]:
    """The three classification columns of a row whose category is the lower-case SQL expression
    ``key``: its category's rule, else ``default`` (which must name an identifier)."""
    if default.identifier is None:
        raise ValueError("the default rule needs an identifier")

    def case(pick: Callable[[Rule], str]) -> str:
        whens = " ".join(f"WHEN {lit(k)} THEN {pick(r)}" for k, r in rules.items())
        return f"CASE {key} {whens} ELSE {pick(default)} END"

    return {
        "classification_taxonomy": case(lambda r: lit(taxonomy_of(r.type))),
        "classification_type": case(lambda r: lit(r.type)),
        "classification_identifier": case(lambda r: r.identifier or str(default.identifier)),
    }
