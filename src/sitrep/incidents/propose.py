"""From lake events to proposed incidents, by the ``[[incidents.propose]]`` rules of the workspace.

Each event of the week goes to the first rule it matches (rules are tried in configuration order).
Events of a rule are grouped by site or URL in one Ibis query (DuckDB by default; the same expressions
run on other Ibis backends), so one proposal stands for all the events of one asset.  A proposal
becomes a ``new`` incident with its asset, its linked events and a
coordination request to the partner routing chose, unless an open incident already has that asset:
then the new events are linked to it instead.  An asset no incident can hold (a URL with a space, a
host that is no domain name) is reported as refused, with the reason.  Proposed refs are
``P-<week>-<hash of rule and asset>``, so proposing the same week twice creates nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import ibis
import ibis.expr.types as ir
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from sitrep.config import ProposeRule, Workspace
from sitrep.incidents.errors import IncidentError
from sitrep.incidents.models import Incident, Partner
from sitrep.incidents.partners import Route, route
from sitrep.incidents.refs import proposal_ref
from sitrep.incidents.vocabulary import OPEN_STATUSES, AssetKind, ReportedVia
from sitrep.incidents.workflow import (
    Home,
    add_asset,
    add_request,
    create_incident,
    link_events,
    normalise_asset,
    refresh_cross_border,
)
from sitrep.metrics.indicators import Context, phishing_target_domestic
from sitrep.metrics.source import events_table, in_window
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
    action: str = "create"  # create | attach | exists | refused
    incident: str | None = None
    reason: str | None = None  # why a proposal was refused

    def as_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "action": self.action,
            "incident": self.incident,
            "reason": self.reason,
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


@dataclass(frozen=True)
class EventGroup:
    """The events of one rule and one asset (site or URL) in the week, summarised."""

    rule: int  # index into the rules
    key: str  # the asset: a site, or a URL
    site: str | None
    region: str | None
    asn: int | None
    country: str | None
    domestic: bool
    events: int
    first_seen: datetime
    tlp: str  # the most restricted TLP of the events
    target: str | None
    event_ids: list[str]


def matches(t: ir.Table, rule: ProposeRule, ctx: Context) -> ir.BooleanValue:
    """The events ``rule`` proposes incidents for.  ``domestic-target`` is the phishing indicator's own
    rule (:func:`sitrep.metrics.indicators.phishing_target_domestic`), so proposals and the report
    agree on which phishing pages imitate a domestic target."""
    test = ibis.literal(True)
    if rule.classification_types:
        test &= t.classification_type.isin(rule.classification_types)
    if rule.classification_identifiers:
        test &= t.classification_identifier.lower().isin([i.lower() for i in rule.classification_identifiers])
    if rule.url_pattern:
        test &= t.source_url.fill_null("").re_search(rule.url_pattern)
    if rule.require == "domestic-site":
        test &= t.domestic.fill_null(False)
    elif rule.require == "domestic-target":
        test &= phishing_target_domestic(t, ctx)
    return test.fill_null(False)


def _asset(t: ir.Table, rule: ProposeRule) -> ir.StringValue:
    if rule.group_by == "url":
        return t.source_url.strip().nullif("")
    return ibis.coalesce(t.site, t.source_fqdn, t.source_ip).lower().nullif("")


# What a proposal says of its asset that its events may disagree on: the most frequent value of each.
MOST_FREQUENT = ("site", "region", "asn", "country", "target")


def _most_frequent(rows: ir.Table) -> dict[tuple[int, str], dict[str, str]]:
    """Per rule and asset, the value of each of :data:`MOST_FREQUENT` most of its events have, as text
    (NULLs aside; of values as frequent, the first in text order, so that every run and every engine
    picks the same).  One query for all five."""
    counted = ibis.union(
        *(
            rows.filter(rows[column].notnull())
            .group_by("rule", "key", value=rows[column].cast(str))
            .aggregate(n=ibis._.count())
            .mutate(column=ibis.literal(column))
            for column in MOST_FREQUENT
        ),
        distinct=False,
    )
    order = [ibis.desc("n"), counted.value]
    ranked = counted.mutate(place=ibis.row_number().over(group_by=["rule", "key", "column"], order_by=order))
    found: dict[tuple[int, str], dict[str, str]] = {}
    for row in ranked.filter(ranked.place == 0).select("rule", "key", "column", "value").to_pyarrow().to_pylist():
        found.setdefault((row["rule"], row["key"]), {})[row["column"]] = row["value"]
    return found


def lake_groups(workspace: Workspace, week: Week, rules: list[ProposeRule], max_events: int) -> list[EventGroup]:
    """Events of ``week`` that match a rule (the first one, in order), grouped by rule and asset."""
    if not rules:
        return []
    start, end = week.bounds(workspace.timezone)
    events = events_table(workspace, start=start, end=end)
    events = events.filter(in_window(events, start, end))
    ctx = Context.from_settings(workspace.settings)
    rule = ibis.cases(*((matches(events, r, ctx), i) for i, r in enumerate(rules)), else_=None)
    matched = events.mutate(rule=rule).filter(lambda t: t.rule.notnull())
    keyed = matched.mutate(key=ibis.cases(*((matched.rule == i, _asset(matched, r)) for i, r in enumerate(rules))))
    keyed = keyed.filter(keyed.key.notnull())
    keyed = keyed.select(
        "rule",
        "key",
        "site",
        "region",
        "country",
        "domestic",
        "time_source",
        "tlp",
        "event_id",
        asn=keyed.source_asn,
        target=ibis.coalesce(keyed.target_domain, keyed.event_description_target),
    )
    rank = ibis.cases(*((keyed.tlp.upper() == name, i) for name, i in _TLP_RANK.items()), else_=None)
    groups = keyed.group_by("rule", "key").aggregate(
        domestic=keyed.domestic.fill_null(False).any(),
        events=keyed.count(),
        first_seen=keyed.time_source.min(),
        tlp_rank=rank.max(),
        # Sorted after collecting: Spark orders no aggregate's input.
        event_ids=keyed.event_id.collect(distinct=True).sort()[:max_events],
    )
    groups = groups.order_by("rule", "key")
    names = {i: name for name, i in _TLP_RANK.items()}
    best = _most_frequent(keyed)
    found = []
    for row in groups.to_pyarrow().to_pylist():
        values = best.get((row["rule"], row["key"]), {})
        asn = values.get("asn")
        found.append(
            EventGroup(
                rule=row["rule"],
                key=row["key"],
                site=values.get("site"),
                region=values.get("region"),
                asn=None if asn is None else int(asn),
                country=values.get("country"),
                domestic=bool(row["domestic"]),
                events=row["events"],
                first_seen=row["first_seen"],
                tlp=names.get(row["tlp_rank"], TLP.AMBER.value),
                target=values.get("target"),
                event_ids=row["event_ids"],
            )
        )
    return found


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
    proposals = []
    for group in groups:
        rule = rules[group.rule]
        country = group.country or (home.country if group.domestic else None)
        proposal = Proposal(
            rule=rule.name,
            category=rule.category.value,
            asset=group.key,
            site=group.site,
            region=group.region,
            asn=group.asn,
            country=country,
            domestic=group.domestic,
            events=group.events,
            first_seen=group.first_seen,
            tlp=group.tlp,
            target=group.target,
            event_ids=list(group.event_ids),
        )
        proposal.ref = proposal_ref(week, rule.name, proposal.asset)
        try:
            normalise_asset(proposal.asset)
        except IncidentError as exc:
            # A feed value no incident can hold (a URL with a space…): reported; the others go on.
            proposal.action, proposal.reason = "refused", str(exc)
            proposals.append(proposal)
            continue
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
