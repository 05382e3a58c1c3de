"""One week's metrics as typed values: what :func:`sitrep.metrics.weekly.compute` returns.

Their JSON form (:meth:`~sitrep.results.Result.as_dict`) is the ``sitrep.metrics/1`` structure of
``sitrep metrics --json``, documented in ``docs/indicators.md``; published issues freeze it inside their
facts.
"""

from __future__ import annotations

from dataclasses import dataclass

from sitrep.results import Result


@dataclass(frozen=True, slots=True)
class IndicatorValue(Result):
    """One key indicator this week and last week.

    ``previous`` is None when there is no earlier data (the lake holds no event before this week), which
    is not the same as a last week of 0; ``change_pct`` is None in both cases.
    """

    value: int
    previous: int | None
    change_pct: float | None
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class FamilyCount(Result):
    """A malware family and its infected domestic hosts (distinct IPs)."""

    name: str
    hosts: int


@dataclass(frozen=True, slots=True)
class RegionCount(Result):
    """A province (region code) and its infected hosts, with its zh/en names."""

    code: str
    hosts: int
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class MalwareHosting(Result):
    """Malware-hosting sites: domains and IPs, the foreign and .com shares (None when there are none)."""

    domains: int
    ips: int
    foreign_domain_pct: float | None
    com_domain_pct: float | None
    foreign_ip_pct: float | None


@dataclass(frozen=True, slots=True)
class WebsiteShares(Result):
    """The government share of defaced and of backdoored sites (None when there are none)."""

    defaced_gov_pct: float | None
    backdoored_gov_pct: float | None


@dataclass(frozen=True, slots=True)
class PhishingHosts(Result):
    """Phishing pages against domestic targets and the domains and IPs hosting them."""

    pages: int
    domains: int
    ips: int
    pages_per_ip: float | None


@dataclass(frozen=True, slots=True)
class ObjectTypeCount(Result):
    """New vulnerabilities of one affected-object type (``type`` in Chinese, ``en`` its English name)."""

    type: str
    en: str
    count: int
    pct: float | None


@dataclass(frozen=True, slots=True)
class VulnerabilitySplit(Result):
    """The week's new vulnerabilities by severity, by affected-object type, and how many have a patch."""

    total: int
    high: int
    medium: int
    low: int
    patched: int
    by_object_type: tuple[ObjectTypeCount, ...]


@dataclass(frozen=True, slots=True)
class Breakdowns(Result):
    """What sections 2–4 of the report show beside the indicators."""

    malware_families: tuple[FamilyCount, ...]
    regions: tuple[RegionCount, ...]
    malware_hosting: MalwareHosting
    websites: WebsiteShares
    phishing: PhishingHosts
    vulnerabilities: VulnerabilitySplit


@dataclass(frozen=True, slots=True)
class WeekMetrics(Result):
    """A week's eight key indicators (keyed as :data:`sitrep.taxonomy.INDICATORS`) and breakdowns."""

    schema: str
    week: str
    start: str
    end: str
    timezone: str
    previous_week: str
    indicators: dict[str, IndicatorValue]
    breakdowns: Breakdowns


@dataclass(frozen=True, slots=True)
class SectorCount(Result):
    """A sector, as the feed names it (Shadowserver's ``sector``), and its infected domestic hosts."""

    name: str
    hosts: int


@dataclass(frozen=True, slots=True)
class VulnerabilityItem(Result):
    """One of the week's important (high-severity) new vulnerabilities, as the list of section 4 shows it.

    ``key`` is the vulnerability (its CVE, else its CNVD id); ``name`` the CNVD title, else the start of
    NVD's description; ``name_en`` the start of NVD's (English) description when there is an NVD record;
    ``product`` the affected product CNVD names (NVD names none in the lake).
    """

    key: str
    cnvd: str | None
    cve: str | None
    name: str | None
    product: str | None
    score: float | None
    patched: bool
    object_type: str | None
    name_en: str | None = None
