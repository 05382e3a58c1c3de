"""From lake events to proposed incidents, by the ``[[incidents.propose]]`` rules of the workspace.

Each event of the week goes to the first rule it matches (rules are tried in configuration order).
Events of a rule are grouped by site or URL in DuckDB, in bulk, so one proposal stands for all the
events of one asset.  A proposal becomes a ``new`` incident with its asset, its linked events and a
coordination request to the partner routing chose, unless an open incident already has that asset:
then the new events are linked to it instead.  Proposed refs are ``P-<week>-<hash of rule and asset>``,
so proposing the same week twice creates nothing new.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from sitrep.config import ProposeRule, Workspace
from sitrep.feeds.sql import lit
from sitrep.hosts import under_any_sql
from sitrep.incidents.models import Incident, Partner
from sitrep.incidents.partners import Route, route
from sitrep.incidents.vocabulary import OPEN_STATUSES, AssetKind, ReportedVia
from sitrep.incidents.workflow import (
    Home,
    add_asset,
    add_request,
    create_incident,
    link_events,
    refresh_cross_border,
)
from sitrep.lake.store import Lake, connect, events_source
from sitrep.taxonomy import TLP
from sitrep.weeks import Week

_TLP_RANK = {t.value: i for i, t in enumerate(TLP)}


@dataclass
class Proposal:
    """One proposed incident (or events to attach to an open one) and why."""

    rule: str
    category: str
    asset: str
    site: str | None
    region: str | None
    asn: int | None
    country: str | None
    domestic: bool
    events: int
    first_seen: datetime
    tlp: str
    target: str | None
    event_ids: list[str] = field(default_factory=list)
    ref: str = ""
    route: Route | None = None
    action: str = "create"  # create | attach | exists
    incident: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "action": self.action,
            "incident": self.incident,
            "rule": self.rule,
            "category": self.category,
            "asset": self.asset,
            "site": self.site,
            "region": self.region,
            "asn": self.asn,
            "country": self.country,
            "domestic": self.domestic,
            "events": self.events,
            "first_seen": self.first_seen.isoformat(),
            "tlp": self.tlp,
            "target": self.target,
            "partner": self.route.partner.name if self.route else None,
            "routing": self.route.rule if self.route else None,
        }


def _in(column: str, values: list[str]) -> str:
    return f"{column} IN ({', '.join(lit(v) for v in values)})"


def _domestic_target(workspace: Workspace) -> str:
    """DESIGN.md §4: the imitated target is domestic (TLD or protected site/brand), else a
    domestically hosted page with no known target counts."""
    enrichment = workspace.settings.enrichment
    target = "lower(target_domain)"
    brands = [f"contains(lower(event_description_target), {lit(b.lower())})" for b in enrichment.protected_brands]
    brand_test = "(" + " OR ".join(brands) + ")" if brands else "false"
    return (
        f"({under_any_sql(target, list(enrichment.country_tlds))} "
        f"OR {under_any_sql(target, list(enrichment.protected_sites))} "
        f"OR coalesce({brand_test}, false) "
        "OR (target_domain IS NULL AND event_description_target IS NULL AND coalesce(domestic, false)))"
    )


def _condition(rule: ProposeRule, workspace: Workspace) -> str:
    parts = []
    if rule.classification_types:
        parts.append(_in("classification_type", rule.classification_types))
    if rule.classification_identifiers:
        identifiers = [i.lower() for i in rule.classification_identifiers]
        parts.append(_in("lower(classification_identifier)", identifiers))
    if rule.url_pattern:
        parts.append(f"regexp_matches(coalesce(source_url, ''), {lit(rule.url_pattern)})")
    if rule.require == "domestic-site":
        parts.append("coalesce(domestic, false)")
    elif rule.require == "domestic-target":
        parts.append(_domestic_target(workspace))
    return "(" + " AND ".join(parts or ["true"]) + ")"


def _key(rule: ProposeRule) -> str:
    if rule.group_by == "url":
        return "nullif(trim(source_url), '')"
    return "nullif(lower(coalesce(site, source_fqdn, source_ip)), '')"


def lake_groups(workspace: Workspace, week: Week, rules: list[ProposeRule], max_events: int) -> list[dict[str, Any]]:
    """Events of ``week`` that match a rule, grouped by (rule, site or URL), computed in DuckDB."""
    if not rules:
        return []
    start, end = week.bounds(workspace.timezone)
    rule_case = " ".join(f"WHEN {_condition(r, workspace)} THEN {i}" for i, r in enumerate(rules))
    key_case = " ".join(f"WHEN {i} THEN {_key(r)}" for i, r in enumerate(rules))
    tlp_case = " ".join(f"WHEN {lit(name)} THEN {rank}" for name, rank in _TLP_RANK.items())
    sql = f"""
        WITH matched AS (
            SELECT *, CASE {rule_case} END AS rule
            FROM {events_source(Lake.of(workspace))}
            WHERE time_source >= ? AND time_source < ?
        ), keyed AS (
            SELECT *, CASE rule {key_case} END AS key FROM matched WHERE rule IS NOT NULL
        )
        SELECT rule, key,
               mode(site) AS site, mode(region) AS region, mode(source_asn) AS asn,
               mode(country) AS country, bool_or(coalesce(domestic, false)) AS domestic,
               count(*) AS events, min(time_source) AS first_seen,
               max(CASE upper(tlp) {tlp_case} END) AS tlp_rank,
               mode(coalesce(target_domain, event_description_target)) AS target,
               list_slice(list(DISTINCT event_id ORDER BY event_id), 1, {int(max_events)}) AS event_ids
        FROM keyed WHERE key IS NOT NULL
        GROUP BY rule, key ORDER BY rule, key
    """
    con = connect(workspace)
    try:
        cursor = con.execute(sql, [start, end])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()


def _open_assets(session: Session) -> dict[str, Incident]:
    """Asset value (and the host of URL assets) → an open incident that has it."""
    open_incidents = session.scalars(
        select(Incident)
        .where(Incident.status.in_([s.value for s in OPEN_STATUSES]))
        .options(selectinload(Incident.assets))
    )
    found: dict[str, Incident] = {}
    for incident in open_incidents:
        for asset in incident.assets:
            found.setdefault(asset.value, incident)
            if asset.kind == AssetKind.URL.value and (host := urlsplit(asset.value).hostname):
                found.setdefault(host, incident)
    return found


def proposal_ref(week: Week, rule: str, asset: str) -> str:
    """The deterministic ref of a proposed incident."""
    digest = hashlib.sha256(f"{rule}\0{asset}".encode()).hexdigest()[:10]
    return f"P-{week}-{digest}"


def propose(session: Session, workspace: Workspace, week: Week, *, actor: str, dry_run: bool = False) -> list[Proposal]:
    """Turn the week's events into proposed incidents (see the module docstring); return the proposals.

    With ``dry_run`` nothing is written; the proposals say what would happen.
    """
    settings = workspace.settings.incidents
    rules = list(settings.propose)
    home = Home.of(workspace)
    groups = lake_groups(workspace, week, rules, settings.max_linked_events)
    partners = list(session.scalars(select(Partner)))
    open_assets = _open_assets(session)
    tlp_names = {rank: name for name, rank in _TLP_RANK.items()}
    proposals = []
    for group in groups:
        rule = rules[group["rule"]]
        domestic = bool(group["domestic"])
        country = group["country"] or (home.country if domestic else None)
        proposal = Proposal(
            rule=rule.name,
            category=rule.category.value,
            asset=group["key"],
            site=group["site"],
            region=group["region"],
            asn=group["asn"],
            country=country,
            domestic=domestic,
            events=group["events"],
            first_seen=group["first_seen"],
            tlp=tlp_names.get(group["tlp_rank"], TLP.AMBER.value),
            target=group["target"],
            event_ids=list(group["event_ids"]),
        )
        proposal.ref = proposal_ref(week, rule.name, proposal.asset)
        proposal.route = route(
            partners,
            rule.partner_types,
            host=proposal.site or urlsplit(proposal.asset).hostname,
            asn=proposal.asn,
            region=proposal.region,
            country=country,
        )
        existing = session.scalars(select(Incident).where(Incident.ref == proposal.ref)).first()
        host = urlsplit(proposal.asset).hostname if "://" in proposal.asset else None
        match = open_assets.get(proposal.asset) or (
            open_assets.get(proposal.site or "") if rule.group_by == "site" else None
        )
        if existing is not None:
            proposal.action, proposal.incident = "exists", existing.ref
        elif match is not None:
            proposal.action, proposal.incident = "attach", match.ref
            if not dry_run:
                link_events(session, match, proposal.event_ids, actor=actor)
        else:
            proposal.incident = proposal.ref
            if not dry_run:
                incident = _create(session, proposal, rule, home, actor)
                open_assets[proposal.asset] = incident
                if host:
                    open_assets.setdefault(host, incident)
        proposals.append(proposal)
    return proposals


def _create(session: Session, proposal: Proposal, rule: ProposeRule, home: Home, actor: str) -> Incident:
    target = f"（仿冒 {proposal.target}）" if proposal.target and rule.category.value == "phishing" else ""
    incident = create_incident(
        session,
        ref=proposal.ref,
        title=f"{rule.category.zh}：{proposal.asset}{target}",
        category=rule.category,
        actor=actor,
        reported_via=ReportedVia.MONITORING,
        tlp=TLP(proposal.tlp),
        reported_at=proposal.first_seen,
    )
    add_asset(session, incident, proposal.asset, actor=actor, country=proposal.country, home=home)
    link_events(session, incident, proposal.event_ids, actor=actor)
    if proposal.route is not None:
        add_request(session, incident, proposal.route.partner, actor=actor)
    refresh_cross_border(session, incident, home, actor=actor)
    return incident
