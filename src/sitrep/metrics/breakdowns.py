"""The breakdowns sections 2–4 of the report need, over one week's events (Ibis expressions)."""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from sitrep.enrich.regions import name as region_name
from sitrep.hosts import under_any_expr
from sitrep.metrics.indicators import Context, infected, is_class, phishing
from sitrep.metrics.model import (
    FamilyCount,
    MalwareHosting,
    ObjectTypeCount,
    PhishingHosts,
    RegionCount,
    SectorCount,
    VulnerabilitySplit,
)
from sitrep.metrics.source import json_string
from sitrep.taxonomy import MALWARE_DISTRIBUTION, OBJECT_TYPE_EN, OBJECT_TYPES, SEVERITIES


def _records(expr: ir.Table) -> list[dict[str, Any]]:
    return expr.to_pyarrow().to_pylist()


def _pct(part: int, whole: int) -> float | None:
    return round(part * 100.0 / whole, 1) if whole else None


def _domain(t: ir.Table) -> ir.StringValue:
    """The registrable domain of a site, or NULL when the site is a bare IP address."""
    return ibis.ifelse(t.site_suffix.isnull(), ibis.null(str), t.site_domain)


def malware_families(week: ir.Table, ctx: Context, top: int = 10) -> tuple[FamilyCount, ...]:
    """Families with the most infected domestic hosts (distinct IPs)."""
    rows = week.filter(infected(week, ctx) & week.malware_name.notnull())
    counted = rows.group_by(name=rows.malware_name).aggregate(hosts=rows.source_ip.nunique())
    return tuple(FamilyCount(**r) for r in _records(counted.order_by([ibis.desc("hosts"), "name"]).limit(top)))


def regions(week: ir.Table, ctx: Context, top: int = 10) -> tuple[RegionCount, ...]:
    """Provinces with the most infected hosts, with their zh/en names."""
    rows = week.filter(infected(week, ctx) & week.region.notnull())
    counted = rows.group_by(code=rows.region).aggregate(hosts=rows.source_ip.nunique())
    found = _records(counted.order_by([ibis.desc("hosts"), "code"]).limit(top))
    return tuple(
        RegionCount(r["code"], r["hosts"], region_name(r["code"], "zh"), region_name(r["code"], "en")) for r in found
    )


def hosting(t: ir.Table) -> ir.BooleanValue:
    """The rows of the malware-hosting breakdown: every malware-distribution event, domestic or not."""
    return is_class(t, MALWARE_DISTRIBUTION.taxonomy, MALWARE_DISTRIBUTION.type)


def malware_hosting(week: ir.Table, ctx: Context) -> MalwareHosting:
    """Malware-hosting sites: domains and IPs, foreign shares, the .com share."""
    rows = week.filter(hosting(week))
    domain = _domain(rows)
    foreign_domain = ~under_any_expr(domain, ctx.country_tlds)
    counts = rows.aggregate(
        domains=domain.nunique(),
        foreign_domains=domain.nunique(where=foreign_domain),
        com_domains=domain.nunique(where=domain.endswith(".com")),
        ips=rows.source_ip.nunique(),
        foreign_ips=rows.source_ip.nunique(where=~rows.ip_domestic.fill_null(False)),
    )
    c = _records(counts)[0]
    return MalwareHosting(
        domains=c["domains"],
        ips=c["ips"],
        foreign_domain_pct=_pct(c["foreign_domains"], c["domains"]),
        com_domain_pct=_pct(c["com_domains"], c["domains"]),
        foreign_ip_pct=_pct(c["foreign_ips"], c["ips"]),
    )


def phishing_hosts(week: ir.Table, ctx: Context) -> PhishingHosts:
    """Phishing pages against domestic targets: how many domains and IPs host them."""
    rows = week.filter(phishing(week, ctx))
    c = _records(
        rows.aggregate(pages=rows.source_url.nunique(), domains=_domain(rows).nunique(), ips=rows.source_ip.nunique())
    )[0]
    per_ip = round(c["pages"] / c["ips"], 1) if c["ips"] else None
    return PhishingHosts(pages=c["pages"], domains=c["domains"], ips=c["ips"], pages_per_ip=per_ip)


def vulnerabilities(new: ir.Table) -> VulnerabilitySplit:
    """Severity split, affected-object types and patch status of the week's new vulnerabilities."""
    counts = _records(
        new.aggregate(
            total=new.vkey.count(),
            patched=new.patched.sum(),
            **{f"sev_{i}": (new.severity == s).sum() for i, s in enumerate(SEVERITIES)},
        )
    )[0]
    types = {r["object_type"]: r["n"] for r in _records(new.group_by("object_type").aggregate(n=new.vkey.count()))}
    by_type = [
        ObjectTypeCount(type=t, en=OBJECT_TYPE_EN[t], count=types.get(t, 0), pct=_pct(types.get(t, 0), counts["total"]))
        for t in OBJECT_TYPES
    ]
    unknown = sum(n for t, n in types.items() if t not in OBJECT_TYPE_EN)
    if unknown:
        by_type.append(ObjectTypeCount(type="其他", en="other", count=unknown, pct=_pct(unknown, counts["total"])))
    return VulnerabilitySplit(
        total=counts["total"],
        high=int(counts["sev_0"] or 0),
        medium=int(counts["sev_1"] or 0),
        low=int(counts["sev_2"] or 0),
        patched=int(counts["patched"] or 0),
        by_object_type=tuple(by_type),
    )


# Where a feed names the sector of an affected host in ``extra``: Shadowserver's event reports name the
# source host's ``src_sector``, its other reports the host's ``sector`` (with a NAICS code beside it).
SECTOR_KEYS = ("src_sector", "sector")


def sector(t: ir.Table) -> ir.StringValue:
    """The sector the feed gave the event's host, or NULL."""
    found = ibis.coalesce(*(json_string(t.extra, key) for key in SECTOR_KEYS)).nullif("")
    # Most events name no sector: a substring test spares parsing their JSON.
    return ibis.ifelse(t.extra.contains('sector"'), found, ibis.null(str))


def sectors(week: ir.Table, ctx: Context, top: int = 10) -> tuple[SectorCount, ...]:
    """Infected domestic hosts (distinct IPs) by the sector their feed gives, most hosts first; hosts of
    feeds that name no sector are not in it."""
    rows = week.filter(infected(week, ctx) & week.extra.contains('sector"'))
    rows = rows.mutate(sector=sector(rows))
    rows = rows.filter(rows.sector.notnull())
    counted = rows.group_by(name=rows.sector).aggregate(hosts=rows.source_ip.nunique())
    return tuple(SectorCount(**r) for r in _records(counted.order_by([ibis.desc("hosts"), "name"]).limit(top)))
