"""Facts + settings → the report model of one language (DESIGN.md §3).

Sentences come from :mod:`sitrep.report.wording`; a sentence (or clause) whose number is zero is left
out.  What restricted data may show follows the public-data policy (``[public]``,
:class:`sitrep.config.PublicData`): the IDs of incidents and events whose identifiers it keeps out are
replaced by opaque keyed IDs (:mod:`sitrep.report.redact`), and the family, region and sector names it
keeps out (recorded in the facts) are not printed.
"""

from __future__ import annotations

import textwrap
from collections.abc import Collection, Iterable
from typing import Any

from sitrep.config import PublicData, Settings
from sitrep.enrich.regions import name as region_name
from sitrep.incidents.response_model import PartnerResponse
from sitrep.metrics.model import ObjectTypeCount, RegionCount, SectorCount, VulnerabilityItem
from sitrep.report import wording as w
from sitrep.report.facts_model import Facts
from sitrep.report.model import Chart, IndicatorRow, Link, Report, Section, Series, Table
from sitrep.report.narrative import Text
from sitrep.report.redact import restricted_id
from sitrep.results import Counted
from sitrep.taxonomy import INDICATORS, OBJECT_TYPE_EN, PARTNER_ORDER, IncidentCategory, PartnerType
from sitrep.weeks import Week

# 2: the IDs behind the numbers listed once (``evidence``), restricted events as a count and a digest.
PUBLIC_SCHEMA = "sitrep.report/2"
TOP_FAMILIES = 5
TOP_REGIONS = 3
TOP_TYPES = 3
TOP_SECTORS = 5
SECTOR_LABEL_WIDTH = 24
REVIEW_COUNT = 5
# Share of high-severity among new vulnerabilities from which the threat level is 中 / 高.
THREAT_MEDIUM_SHARE = 0.2
THREAT_HIGH_SHARE = 0.5
# Indicator-table rows that are a subset of the row above (printed indented as 其中…).
SUB_ROWS = ("defaced_gov_sites", "backdoored_gov_sites", "new_high_vulnerabilities")


def public_id(facts: Facts, ref: str, secret: bytes, labels: Collection[str]) -> str:
    """The incident ref, or an opaque keyed ID when the incident is labelled other than ``labels`` (the
    public-data policy's ``identifiers``): refs can name things."""
    return restricted_id(secret, "incident", ref) if facts.incidents.restricted(ref, labels) else ref


def event_evidence(public: set[str], ids: Iterable[str], secret: bytes) -> dict[str, Any]:
    """The events behind one number as a public output carries them: the IDs of those in ``public``
    (the facts' CLEAR/GREEN events; none in issues frozen before they were recorded), and of the
    restricted rest only how many there are and one opaque keyed digest of the set — their IDs stay in
    the workspace's published issue, where an analyst can check the digest against them."""
    shown: list[str] = []
    hidden: list[str] = []
    for event_id in ids:
        (shown if event_id in public else hidden).append(event_id)
    digest = restricted_id(secret, "events", "\n".join(sorted(hidden))) if hidden else None
    return {"events": sorted(shown), "restricted_events": {"count": len(hidden), "digest": digest}}


class _Composer:
    def __init__(self, facts: Facts, settings: Settings, lang: str) -> None:
        self.facts = facts
        self.lang = lang
        org = settings.organisation
        self.org = org.name if lang == "zh" else org.name_en
        self.constituency = org.constituency if lang == "zh" else org.constituency_en
        self.vuln_db = org.vulnerability_database if lang == "zh" else org.vulnerability_database_en
        self.indicators = facts.metrics.indicators
        self.breakdowns = facts.metrics.breakdowns
        self.rating = facts.rating

    def sentences(self, *parts: str) -> str:
        """Sentences of one paragraph: run together in Chinese, separated by a space in English."""
        return ("" if self.lang == "zh" else " ").join(p for p in parts if p)

    def t(self, key: str, **values: Any) -> str:
        return w.text(self.lang, key, org=self.org, constituency=self.constituency, **values)

    def n(self, value: int) -> str:
        return w.count(value, self.lang)

    def label(self, key: str) -> str:
        item = self.indicators[key]
        return item.zh if self.lang == "zh" else item.en

    # Section 1 -------------------------------------------------------------------------------
    def overview(self, narrative: Text) -> Section:
        rating = self.rating
        majors = rating.major_infrastructure
        infra = self.t("infra_major", n=len(majors)) if majors else self.t("infra_ok")
        verdict = (
            self.t("rating", rating=w.rating_word(rating.label, self.lang)) if rating.label else self.t("rating_none")
        )
        paragraph = self.sentences(verdict, infra, self.t("threats"))
        rows = []
        for key, _, _ in INDICATORS:
            item = self.indicators[key]
            text, direction = w.change(item.value, item.previous, item.change_pct, self.lang)
            rows.append(
                IndicatorRow(
                    key=key,
                    label=self.label(key),
                    value=item.value,
                    previous=item.previous,
                    change_pct=item.change_pct,
                    value_text=self.n(item.value),
                    previous_text=w.previous_count(item.previous, self.lang),
                    change_text=text,
                    direction=direction,
                    sub=key in SUB_ROWS,
                )
            )
        return Section(
            "overview",
            1,
            self.t("h_overview"),
            [paragraph],
            table=rows,
            charts=[self.trend_chart()],
            notes=self.rating_notes(),
            summary=narrative.summary,
            highlights=list(narrative.highlights),
        )

    def band_range(self, label: str) -> str:
        rule = self.rating.rule
        limits = [0.0] + [b["below"] for b in rule["bands"]]
        labels = [b["label"] for b in rule["bands"]] + [rule["otherwise"]]
        i = labels.index(label)
        if i == 0:
            return self.t("band_range_lower", hi=limits[1])
        if i == len(labels) - 1:
            return self.t("band_range_upper", lo=limits[i])
        return self.t("band_range", lo=limits[i], hi=limits[i + 1])

    def rating_notes(self) -> list[str]:
        """The brief explanation under the table: score, each ratio, the baseline weeks used, the
        indicators left out, the band, the floor — or why the week is not rated."""
        rating = self.rating
        weeks = len(rating.baseline_weeks)
        short = w.SHORT[self.lang]
        sep = "，" if self.lang == "zh" else ", "
        baseline = self.t("basis_week") if weeks == 1 else self.t("basis_weeks", w=weeks)
        rises = [self.t("basis_new", label=short[r.key]) for r in rating.ratios if r.status == "new"]
        empty = [short[r.key] for r in rating.ratios if r.status == "no_data"]
        band = rating.band_label
        if not weeks:
            notes = [self.t("basis_none")]
        elif rating.empty:
            notes = [self.t("basis_empty", k=len(rating.ratios), baseline=baseline)]
        elif rating.score is None or band is None:
            notes = [
                self.t(
                    "basis_insufficient",
                    baseline=baseline,
                    ratios=self.t("basis_insufficient_rises", items=sep.join(rises)) if rises else "",
                )
            ]
        else:
            parts = [self.t("basis_ratio", label=short[r.key], ratio=f"{r.ratio:.2f}") for r in rating.rated]
            notes = [
                self.t(
                    "basis",
                    k=len(rating.rated),
                    baseline=baseline,
                    score=f"{rating.score:.2f}",
                    ratios=sep.join(parts + rises),
                    band=w.rating_word(band, self.lang),
                    range=self.band_range(band),
                )
            ]
        if empty and weeks and not rating.empty:
            notes.append(self.t("basis_left_out", labels=w.join(empty, self.lang)))
        if rating.floor_applied:
            notes.append(self.t("floor", floor=w.rating_word(rating.label, self.lang)))
        return notes

    def trend_chart(self) -> Chart:
        weeks = self.facts.series[-8:]
        return Chart(
            "trend",
            self.t("chart_trend", n=len(weeks)),
            "trend",
            [s.week.split("-")[1] for s in weeks],
            [Series(w.SHORT[self.lang][key], [s.values[key] for s in weeks]) for key, _, _ in INDICATORS],
            lang=self.lang,
        )

    # Section 2 -------------------------------------------------------------------------------
    def families(self) -> list[tuple[str, int]]:
        """The top families by name, then one 未公开家族 item for those seen only in restricted data."""
        public = set(self.facts.public_families)
        top = self.breakdowns.malware_families[:TOP_FAMILIES]
        shown = [(f.name, f.hosts) for f in top if f.name in public]
        hidden = sum(f.hosts for f in top if f.name not in public)
        return shown + ([(self.t("family_hidden"), hidden)] if hidden else [])

    def malware(self) -> Section:
        paragraphs = []
        infected = self.indicators["infected_hosts"].value
        if infected:
            parts = [self.t("infected", n=self.n(infected))]
            families = self.families()
            # A list made only of 其他未公开家族 says nothing: leave the sentence out.
            if any(name != self.t("family_hidden") for name, _ in families):
                items = [self.t("family_item", name=name, n=self.n(hosts)) for name, hosts in families]
                parts.append(self.t("families", items=w.join(items, self.lang)))
            regions = [region_name(r.code, self.lang) for r in self.regions()[:TOP_REGIONS]]
            if len(regions) == 1:
                parts.append(self.t("regions_one", items=regions[0]))
            elif regions:
                k = w.ordinal_count(len(regions), self.lang)
                parts.append(self.t("regions", k=k, items=w.join(regions, self.lang)))
            paragraphs.append(self.sentences(*parts))
            sectors = self.sectors()[:TOP_SECTORS]
            if sectors:
                items = [
                    self.t("sector_item", name=w.sector_name(s.name, self.lang), n=self.n(s.hosts)) for s in sectors
                ]
                paragraphs.append(self.t("sectors", items=w.join(items, self.lang)))
        hosting = self.breakdowns.malware_hosting
        d, i = hosting.domains, hosting.ips
        values = {
            "d": self.n(d),
            "i": self.n(i),
            "p": w.pct(hosting.foreign_domain_pct),
            "q": w.pct(hosting.com_domain_pct),
            "r": w.pct(hosting.foreign_ip_pct),
        }
        if d and i:
            paragraphs.append(self.t("hosting_both", **values))
        elif d:
            paragraphs.append(self.t("hosting_domains", **values))
        elif i:
            paragraphs.append(self.t("hosting_ips", **values))
        charts = []
        if self.regions():
            counted = self.regions()
            charts.append(
                Chart(
                    "regions",
                    self.t("chart_regions"),
                    "barh",
                    [region_name(r.code, self.lang) for r in counted],
                    [Series(self.t("hosts"), [r.hosts for r in counted])],
                    lang=self.lang,
                )
            )
        if d or i:
            foreign = [
                round(d * (hosting.foreign_domain_pct or 0) / 100),
                round(i * (hosting.foreign_ip_pct or 0) / 100),
            ]
            charts.append(
                Chart(
                    "malware_hosting",
                    self.t("chart_hosting"),
                    "stacked",
                    [self.t("domains"), self.t("ips")],
                    [
                        Series(self.t("domestic"), [d - foreign[0], i - foreign[1]]),
                        Series(self.t("foreign"), foreign),
                    ],
                    lang=self.lang,
                )
            )
        sectors = self.sectors()
        if sectors:
            charts.append(
                Chart(
                    "sectors",
                    self.t("chart_sectors"),
                    "barh",
                    # Shadowserver's sector names run long ("Communications, Service Provider, and
                    # Hosting Service"): on two lines they leave the bars room.
                    [textwrap.fill(w.sector_name(s.name, self.lang), SECTOR_LABEL_WIDTH) for s in sectors],
                    [Series(self.t("hosts"), [s.hosts for s in sectors])],
                    lang=self.lang,
                )
            )
        return Section("malware", 2, self.t("h_malware"), paragraphs or [self.t("nothing")], charts=charts)

    def regions(self) -> list[RegionCount]:
        """The regions whose names the policy lets the report print (all of them in issues frozen before
        the policy named them)."""
        allowed = self.facts.public_regions
        return [r for r in self.breakdowns.regions if allowed is None or r.code in allowed]

    def sectors(self) -> list[SectorCount]:
        """The sectors the policy lets the report name, most hosts first (none in older issues)."""
        allowed = set(self.facts.public_sectors or ())
        return [s for s in self.facts.sectors or () if s.name in allowed]

    # Section 3 -------------------------------------------------------------------------------
    def websites(self) -> Section:
        ind = self.indicators
        sep = self.t("clause_sep")
        clauses = [
            self.t(key, n=self.n(ind[name].value))
            for key, name in (
                ("sites_defaced", "defaced_sites"),
                ("sites_backdoored", "backdoored_sites"),
                ("sites_phishing", "phishing_pages"),
            )
            if ind[name].value
        ]
        paragraphs = [self.t("sites_lead", clauses=sep.join(clauses))] if clauses else []
        shares = self.breakdowns.websites
        phishing = self.breakdowns.phishing
        gov = []
        for key, name, share in (
            ("gov_defaced", "defaced_gov_sites", shares.defaced_gov_pct),
            ("gov_backdoored", "backdoored_gov_sites", shares.backdoored_gov_pct),
        ):
            item = ind[name]
            if item.value:
                clause = w.change_clause(item.previous, item.change_pct, self.lang)
                gov.append(self.t(key, n=self.n(item.value), pct=w.pct(share), change=clause))
        if phishing.pages and phishing.ips:
            gov.append(
                self.t(
                    "phishing_hosts",
                    d=self.n(phishing.domains),
                    i=self.n(phishing.ips),
                    k=f"{phishing.pages_per_ip:.1f}" if self.lang == "en" else f"{phishing.pages_per_ip:g}",
                )
            )
        if gov:
            paragraphs.append(self.t("gov_lead", clauses=sep.join(gov)))
        charts = []
        if phishing.pages:
            charts.append(
                Chart(
                    "phishing",
                    self.t("chart_phishing"),
                    "bar",
                    [self.t("pages"), self.t("domains"), self.t("ips")],
                    [Series(self.t("count"), [phishing.pages, phishing.domains, phishing.ips])],
                    lang=self.lang,
                )
            )
        return Section("websites", 3, self.t("h_websites"), paragraphs or [self.t("nothing")], charts=charts)

    # Section 4 -------------------------------------------------------------------------------
    def threat_level(self, total: int, high: int) -> str:
        share = high / total if total else 0.0
        level = "高" if share >= THREAT_HIGH_SHARE else "中" if share >= THREAT_MEDIUM_SHARE else "低"
        return level if self.lang == "zh" else w.THREAT_LEVEL_EN[level]

    def vulns(self) -> Section:
        v = self.breakdowns.vulnerabilities
        total = v.total
        if not total:
            return Section("vulns", 4, self.t("h_vulns"), [self.t("nothing")])
        text = self.t("vulns", db=self.vuln_db, n=self.n(total), level=self.threat_level(total, v.high))
        sev = [
            self.t(key, n=self.n(count))
            for key, count in (("sev_high", v.high), ("sev_medium", v.medium), ("sev_low", v.low))
            if count
        ]
        severities = "、".join(sev) if self.lang == "zh" else w.join(sev, self.lang)
        text = self.sentences(text, self.t("vuln_severities", items=severities))
        types = sorted((t for t in v.by_object_type if t.count), key=lambda t: -t.count)
        paragraphs = [text]
        if types:
            top = types[:TOP_TYPES]
            items = [
                self.t("vuln_type_item", type=self.object_type(t), n=self.n(t.count), pct=w.pct(t.pct)) for t in top
            ]
            paragraphs.append(
                self.t(
                    "vuln_types",
                    k=w.ordinal_count(len(top), self.lang),
                    items=("、" if self.lang == "zh" else "; ").join(items),
                )
            )
        if v.patched:
            paragraphs.append(self.t("vuln_patched", n=self.n(v.patched), pct=w.pct(v.patched * 100.0 / total)))
        listed = list(self.facts.vulnerability_list or ())
        tables = [self.vulnerability_table(listed)] if listed else []
        if listed:
            paragraphs.append(self.t("vuln_list", k=self.n(len(listed))))
        labels = w.SEVERITY_LABELS[self.lang]
        charts = [
            Chart(
                "vuln_severity",
                self.t("chart_severity"),
                "donut",
                list(labels),
                [Series(self.t("count"), [v.high, v.medium, v.low])],
                lang=self.lang,
            )
        ]
        if types:
            charts.append(
                Chart(
                    "vuln_types",
                    self.t("chart_types"),
                    "barh",
                    [self.object_type(t) for t in types],
                    [Series(self.t("count"), [t.count for t in types])],
                    lang=self.lang,
                )
            )
        return Section("vulns", 4, self.t("h_vulns"), paragraphs, charts=charts, tables=tables)

    def vulnerability_table(self, listed: list[VulnerabilityItem]) -> Table:
        """Section 4's list: name, CNVD and CVE IDs, affected product, score, patch status."""
        keys = ("col_vuln_name", "col_cnvd", "col_cve", "col_product", "col_score", "col_patch")
        rows = [
            [
                (v.name_en if self.lang == "en" else None) or v.name or v.key,
                v.cnvd or "—",
                v.cve or "—",
                v.product or "—",
                "—" if v.score is None else f"{v.score:.1f}",
                self.t("patch_yes" if v.patched else "patch_no"),
            ]
            for v in listed
        ]
        numeric = [False, False, False, False, True, False]
        return Table("vulnerability_list", self.t("vuln_list_title"), [self.t(k) for k in keys], rows, numeric)

    def object_type(self, item: ObjectTypeCount) -> str:
        return item.type if self.lang == "zh" else OBJECT_TYPE_EN.get(item.type, item.en)

    # Section 5 -------------------------------------------------------------------------------
    def incidents(self) -> Section:
        inc = self.facts.incidents
        paragraphs = []
        if inc.handled.value:
            kinds = [PartnerType(t) for t in inc.partner_types]
            kinds.sort(key=PARTNER_ORDER.index)
            names = [k.zh if self.lang == "zh" else k.en for k in kinds]
            partners = self.t("inc_partners", items=w.join(names, self.lang, last="以及")) if names else ""
            cross = self.t("inc_cross", n=self.n(inc.cross_border.value)) if inc.cross_border.value else ""
            parts = [self.t("inc_handled", partners=partners, n=self.n(inc.handled.value), cross=cross)]
            if inc.phishing.value:
                parts.append(self.t("inc_phishing", n=self.n(inc.phishing.value)))
            urls, platforms = inc.mobile_malware_urls.value, inc.mobile_malware_platforms.value
            if urls and platforms:
                parts.append(self.t("inc_mobile", p=self.n(platforms), u=self.n(urls)))
            elif urls:
                parts.append(self.t("inc_mobile_no_platform", u=self.n(urls)))
            paragraphs.append(self.sentences(*parts))
        response = inc.partner_response
        if response is not None and response.median_hours is not None:
            values = {"n": self.n(response.taken_down), "h": w.hours(response.median_hours)}
            if response.previous_median_hours is None:
                paragraphs.append(self.t("response_no_previous", **values))
            else:
                paragraphs.append(
                    self.t(
                        "response",
                        **values,
                        w=self.n(response.previous_weeks),
                        p=w.hours(response.previous_median_hours),
                    )
                )
        charts = []
        categories = [(IncidentCategory(c), item.value) for c, item in inc.by_category.items() if item.value]
        if categories:
            charts.append(
                Chart(
                    "incident_categories",
                    self.t("chart_categories"),
                    "barh",
                    [c.zh if self.lang == "zh" else c.en for c, _ in categories],
                    [Series(self.t("incidents_unit"), [k for _, k in categories])],
                    lang=self.lang,
                )
            )
        partner_counts = [(PartnerType(t), item.value) for t, item in inc.by_partner_type.items() if item.value]
        if partner_counts:
            charts.append(
                Chart(
                    "partner_types",
                    self.t("chart_partners"),
                    "barh",
                    [t.zh if self.lang == "zh" else t.en for t, _ in partner_counts],
                    [Series(self.t("incidents_unit"), [k for _, k in partner_counts])],
                    lang=self.lang,
                )
            )
        if response is not None and response.median_hours is not None:
            charts.append(self.response_chart(response))
        return Section("incidents", 5, self.t("h_incidents"), paragraphs or [self.t("nothing")], charts=charts)

    def response_chart(self, response: PartnerResponse) -> Chart:
        """Median hours to take down by partner type, this week beside the weeks before (0: none acted)."""
        kinds = [t for t in response.by_type if t.median_hours is not None]
        return Chart(
            "partner_response",
            self.t("chart_response"),
            "grouped",
            [PartnerType(t.type).zh if self.lang == "zh" else PartnerType(t.type).en for t in kinds],
            [
                Series(self.t("this_week"), [t.median_hours or 0.0 for t in kinds]),
                Series(
                    self.t("previous_weeks", w=self.n(response.previous_weeks)),
                    [t.previous_median_hours or 0.0 for t in kinds],
                ),
            ],
            unit="h",
            lang=self.lang,
        )

    # Section 6 -------------------------------------------------------------------------------
    def review(self, previous: list[Week], base: str) -> Section:
        links = [
            Link("●" + w.title(week, self.lang), f"{base}/{week}/report.{self.lang}.html", str(week))
            for week in previous[:REVIEW_COUNT]
        ]
        return Section("review", 6, self.t("h_review"), [] if links else [self.t("review_none")], links=links)


# The breakdowns and the evidence entries (the events) behind each.
BREAKDOWN_EVIDENCE = {
    "malware_families": ("infected_hosts",),
    "regions": ("infected_hosts",),
    "malware_hosting": ("malware_hosting",),
    "websites": ("defaced_sites", "backdoored_sites"),
    "phishing": ("phishing_pages",),
    "vulnerabilities": ("new_vulnerabilities",),
}


def public_data(facts: Facts, secret: bytes, policy: PublicData) -> dict[str, Any]:
    """The numbers of the public JSON: every number, and the IDs behind each listed once under
    ``evidence``, restricted details redacted (keyed with the workspace ``secret``) as the public-data
    ``policy`` says."""
    public_events = set(facts.public_events)
    indicators = {key: item.as_dict() for key, item in facts.metrics.indicators.items()}
    breakdowns = facts.metrics.breakdowns.as_dict()
    public = set(facts.public_families)
    breakdowns["malware_families"] = [
        {"name": f.name if f.name in public else None, "hosts": f.hosts, "disclosed": f.name in public}
        for f in facts.metrics.breakdowns.malware_families
    ]
    if facts.public_regions is not None:
        regions = set(facts.public_regions)
        breakdowns["regions"] = [r.as_dict() for r in facts.metrics.breakdowns.regions if r.code in regions]
    if facts.sectors is not None:
        sectors = set(facts.public_sectors or ())
        breakdowns["sectors"] = [s.as_dict() for s in facts.sectors if s.name in sectors]
    inc = facts.incidents

    def counted(item: Counted) -> dict[str, Any]:
        return {"value": item.value, "incidents": refs(item.refs)}

    identifiers = policy.labels("identifiers")

    def refs(found: Iterable[str]) -> list[str]:
        return [public_id(facts, r, secret, identifiers) for r in found]

    incidents: dict[str, Any] = {key: counted(item) for key, item in inc.headline().items()}
    incidents["partner_types"] = list(inc.partner_types)
    incidents["by_category"] = {c: counted(item) for c, item in inc.by_category.items()}
    incidents["by_partner_type"] = {t: counted(item) for t, item in inc.by_partner_type.items()}
    rating = facts.rating.as_dict()
    return {
        "indicators": indicators,
        "breakdowns": breakdowns,
        "evidence": {
            key: event_evidence(public_events, facts.evidence.get(key, ()), secret)
            for key in (*indicators, "malware_hosting")
        },
        "breakdown_evidence": {name: list(keys) for name, keys in BREAKDOWN_EVIDENCE.items()},
        "incidents": incidents,
        "major_infrastructure_incidents": refs(inc.major_infrastructure),
        "rating": {**rating, "major_infrastructure": refs(facts.rating.major_infrastructure)},
        "trend": [{"week": s.week, **s.values} for s in facts.series[-8:]],
        "history_start": facts.history_start,
        **full_edition_data(facts),
    }


def full_edition_data(facts: Facts) -> dict[str, Any]:
    """The full edition's additions, where the issue recorded them: section 4's vulnerability list (IDs
    of CLEAR/GREEN records only, by construction) and the partner-response times."""
    found: dict[str, Any] = {}
    if facts.vulnerability_list is not None:
        found["vulnerability_list"] = [v.as_dict() for v in facts.vulnerability_list]
    if facts.incidents.partner_response is not None:
        found["partner_response"] = facts.incidents.partner_response.as_dict()
    return found


def compose(
    facts: Facts,
    settings: Settings,
    lang: str,
    *,
    previous: list[Week],
    secret: bytes,
    published_at: str | None = None,
    revision: int = 0,
    narrative: Text | None = None,
) -> Report:
    """The report model of ``facts`` in ``lang`` (``zh`` or ``en``); ``previous`` feeds 近期回顾;
    ``secret`` (:func:`sitrep.report.redact.workspace_secret`) keys the opaque IDs of restricted data;
    ``narrative`` (that language's) goes into the overview beside the computed sentences."""
    week = Week.parse(facts.week)
    composer = _Composer(facts, settings, lang)
    base = settings.report.base_url.rstrip("/") or ".."
    sections = [
        composer.overview(narrative or Text()),
        composer.malware(),
        composer.websites(),
        composer.vulns(),
        composer.incidents(),
        composer.review(previous, base),
    ]
    rating = composer.rating
    other = "en" if lang == "zh" else "zh"
    labels = {
        k: w.text(lang, k)
        for k in (
            "tlp",
            "published",
            "draft",
            "rating_label",
            "score_label",
            "col_indicator",
            "col_value",
            "col_previous",
            "col_change",
            "site_title",
            "evidence_note",
            "other_lang",
            "rating_rule",
            "highlights",
        )
    }
    return Report(
        lang=lang,
        week=str(week),
        year=week.year,
        number=week.number,
        title=w.title(week, lang),
        issue=w.text(lang, "issue", year=week.year, number=week.number),
        dates=w.dates(week, lang),
        organisation=composer.org,
        rating=rating.label,
        rating_word=w.rating_word(rating.label, lang),
        score=rating.score,
        sections=sections,
        labels=labels,
        published_at=published_at,
        revision=revision,
        other_lang_href=f"report.{other}.html",
        data={
            "schema": PUBLIC_SCHEMA,
            "week": str(week),
            "start": facts.start,
            "end": facts.end,
            "computed_at": facts.computed_at,
            **public_data(facts, secret, settings.public),
        },
    )
