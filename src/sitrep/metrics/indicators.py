"""The eight key indicators of the weekly report, each defined once, as Ibis expressions.

An indicator is a row filter and a key: its value is the number of distinct keys among the week's events
that pass the filter, and the events behind it are those rows.  Ibis keeps the definitions independent of
the engine: the same expressions run on DuckDB (default) and on Apache Spark.  DESIGN.md §4 and
``docs/indicators.md`` state the definitions in words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from sitrep.config import Settings
from sitrep.hosts import under_any_expr
from sitrep.taxonomy import BACKDOOR, BACKDOOR_IDENTIFIERS, DEFACEMENT, INDICATOR_KEYS, INFECTED_SYSTEM, PHISHING


@dataclass(frozen=True)
class Context:
    """The configuration indicators depend on (taken from ``sitrep.toml``)."""

    country_tlds: tuple[str, ...]
    protected_sites: tuple[str, ...]
    protected_brands: tuple[str, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> Context:
        e = settings.enrichment
        return cls(tuple(e.country_tlds), tuple(e.protected_sites), tuple(b.lower() for b in e.protected_brands))


Filter = Callable[[ir.Table, Context], ir.BooleanValue]
Key = Callable[[ir.Table], ir.Column]


@dataclass(frozen=True)
class Indicator:
    """One key indicator: its key (labels in ``taxonomy.INDICATORS``), which rows count, and what is counted
    distinctly."""

    key: str
    where: Filter
    distinct: Key

    def __post_init__(self) -> None:
        if self.key not in INDICATOR_KEYS:
            raise ValueError(f"indicator {self.key!r} has no labels in sitrep.taxonomy.INDICATORS")


def is_class(t: ir.Table, taxonomy: str, type_: str) -> ir.BooleanValue:
    return (t.classification_taxonomy == taxonomy) & (t.classification_type == type_)


def infected(t: ir.Table, ctx: Context) -> ir.BooleanValue:
    return is_class(t, INFECTED_SYSTEM.taxonomy, INFECTED_SYSTEM.type) & t.domestic.fill_null(False)


def defaced(t: ir.Table, ctx: Context) -> ir.BooleanValue:
    return (
        is_class(t, DEFACEMENT.taxonomy, DEFACEMENT.type) | (t.classification_identifier == DEFACEMENT.identifier)
    ) & t.domestic.fill_null(False)


def backdoored(t: ir.Table, ctx: Context) -> ir.BooleanValue:
    return (
        is_class(t, BACKDOOR.taxonomy, BACKDOOR.type) & t.classification_identifier.isin(BACKDOOR_IDENTIFIERS)
    ) & t.domestic.fill_null(False)


def gov(where: Filter) -> Filter:
    def gov_where(t: ir.Table, ctx: Context) -> ir.BooleanValue:
        return where(t, ctx) & t.is_gov.fill_null(False)

    return gov_where


def phishing_target_domestic(t: ir.Table, ctx: Context) -> ir.BooleanValue:
    """The page imitates a domestic target; when the target is unknown, the page is hosted domestically."""
    target = t.event_description_target
    by_site = under_any_expr(t.target_domain, ctx.country_tlds) | under_any_expr(t.target_domain, ctx.protected_sites)
    by_brand = target.lower().strip().isin(ctx.protected_brands) if ctx.protected_brands else ibis.literal(False)
    known = target.notnull()
    return ibis.ifelse(known, (by_site | by_brand).fill_null(False), t.domestic.fill_null(False))


def phishing(t: ir.Table, ctx: Context) -> ir.BooleanValue:
    return is_class(t, PHISHING.taxonomy, PHISHING.type) & t.source_url.notnull() & phishing_target_domestic(t, ctx)


def site_key(t: ir.Table) -> ir.Column:
    """A site is its host name; an event with only an IP counts that IP as the site."""
    return t.site.fill_null(t.source_ip)


INFECTED_HOSTS = Indicator("infected_hosts", infected, lambda t: t.source_ip)
DEFACED_SITES = Indicator("defaced_sites", defaced, site_key)
DEFACED_GOV_SITES = Indicator("defaced_gov_sites", gov(defaced), site_key)
BACKDOORED_SITES = Indicator("backdoored_sites", backdoored, site_key)
BACKDOORED_GOV_SITES = Indicator("backdoored_gov_sites", gov(backdoored), site_key)
PHISHING_PAGES = Indicator("phishing_pages", phishing, lambda t: t.source_url)

# The indicators computed from events, in report order (the two vulnerability ones are in
# ``vulnerabilities.py``; the labels of all eight are in ``taxonomy.INDICATORS``).
EVENT_INDICATORS: tuple[Indicator, ...] = (
    INFECTED_HOSTS,
    DEFACED_SITES,
    DEFACED_GOV_SITES,
    BACKDOORED_SITES,
    BACKDOORED_GOV_SITES,
    PHISHING_PAGES,
)
