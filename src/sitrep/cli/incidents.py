"""``sitrep incidents …``: cases, coordination requests, import, proposals, notifications, weekly numbers."""

from __future__ import annotations

import getpass
import os
from datetime import datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from sitrep.cli.common import console, out, print_json, user_errors, workspace
from sitrep.incidents.db import session_scope
from sitrep.incidents.importer import import_incidents, parse_bool, parse_time
from sitrep.incidents.models import CoordinationRequest, Incident, utcnow
from sitrep.incidents.notify import NotifyError, send_notifications
from sitrep.incidents.partners import find_partner
from sitrep.incidents.propose import propose as propose_incidents
from sitrep.incidents.records import ImportReport, InputError
from sitrep.incidents.stats import weekly_stats
from sitrep.incidents.views import incident_detail, incident_summary
from sitrep.incidents.vocabulary import (
    OPEN_STATUSES,
    Grade,
    Outcome,
    ReportedVia,
    Status,
    parse_enum,
)
from sitrep.incidents.workflow import (
    Home,
    WorkflowError,
    add_asset,
    add_request,
    create_incident,
    link_events,
    override_cross_border,
    refresh_cross_border,
    set_field,
    transition,
    update_request,
)
from sitrep.taxonomy import TLP, IncidentCategory
from sitrep.weeks import Week

app = typer.Typer(
    name="incidents",
    help="Incident handling: cases, coordination with partners, import, proposals from events, "
    "partner notifications and the weekly handling numbers.",
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
)

ERRORS = (WorkflowError, ValueError, InputError, NotifyError)
CATEGORIES = ", ".join(c.value for c in IncidentCategory)
STATUSES = ", ".join(s.value for s in Status)
OUTCOMES = ", ".join(o.value for o in Outcome)

ActorOption = Annotated[
    str | None,
    typer.Option(
        "--actor",
        envvar="SITREP_USER",
        help="Who makes the change, for the audit trail (default: $SITREP_USER, else the login name).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON on stdout instead of a table.")]


def _actor(actor: str | None) -> str:
    return actor or os.environ.get("SITREP_USER") or getpass.getuser()


def _when(text: str | None, tz: ZoneInfo) -> datetime | None:
    """'now', an ISO 8601 time (local workspace time when it has no offset), or None."""
    if text is None:
        return None
    return utcnow() if text.strip().lower() == "now" else parse_time(text, tz)


def _load(session: Session, ref: str) -> Incident:
    incident = session.scalars(
        select(Incident)
        .where(Incident.ref == ref)
        .options(
            selectinload(Incident.assets),
            selectinload(Incident.events),
            selectinload(Incident.requests).selectinload(CoordinationRequest.partner),
            selectinload(Incident.audit),
        )
    ).first()
    if incident is None:
        raise ValueError(f"no incident with ref {ref!r} (see 'sitrep incidents list')")
    return incident


def _week(text: str | None, tz: ZoneInfo) -> Week:
    return Week.parse(text) if text else Week.last_complete(tz)


def _next_ref(session: Session, tz: ZoneInfo) -> str:
    prefix = f"INC-{utcnow().astimezone(tz):%Y%m%d}-"
    count = session.scalar(select(func.count()).select_from(Incident).where(Incident.ref.like(prefix + "%")))
    return f"{prefix}{(count or 0) + 1:04d}"


def _print_report(report: ImportReport, as_json: bool) -> None:
    if as_json:
        print_json(report.as_dict())
    else:
        console.print(
            f"{report.file}: read {report.read} = created {report.created} + updated "
            f"{report.updated} + unchanged {report.unchanged} + rejected {report.rejected}"
        )
        for reject in report.rejects:
            console.print(f"  line {reject.line}: {reject.reason}", markup=False)


@app.command("add")
def add(
    title: Annotated[str, typer.Option("--title", help="Short description of the case.")],
    category: Annotated[str, typer.Option("--category", "-c", help=f"One of: {CATEGORIES}.")],
    asset: Annotated[
        list[str] | None, typer.Option("--asset", "-a", help="Affected URL, domain or IP (repeat for several).")
    ] = None,
    partner: Annotated[
        list[str] | None,
        typer.Option("--partner", "-p", help="Partner (see 'sitrep partners list') to coordinate with; repeatable."),
    ] = None,
    ref: Annotated[str | None, typer.Option("--ref", help="Your reference (unique); default INC-<date>-<n>.")] = None,
    reporter: Annotated[str | None, typer.Option("--reporter", help="Who reported it.")] = None,
    reporter_country: Annotated[
        str | None,
        typer.Option("--reporter-country", help="ISO country of the reporter (foreign makes it cross-border)."),
    ] = None,
    reported_via: Annotated[
        str, typer.Option("--reported-via", help="complaint, partner, monitoring or foreign-cert.")
    ] = "monitoring",
    reported_at: Annotated[
        str | None,
        typer.Option("--reported-at", help="ISO 8601 time it was reported (default now; local without offset)."),
    ] = None,
    grade: Annotated[str, typer.Option("--grade", help="一般, 较大, 重大 or 特别重大 (GB/T 20986).")] = "一般",
    tlp: Annotated[str, typer.Option("--tlp", help="CLEAR, GREEN, AMBER, AMBER+STRICT or RED.")] = "AMBER",
    event: Annotated[
        list[str] | None, typer.Option("--event", help="event_id of a lake event to link; repeatable.")
    ] = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a new incident (status new).

    \b
    Example:
      sitrep incidents add --title "仿冒工商银行" -c phishing -a http://icbc-login.example.com/ -p 阿里云
    """
    ws = workspace()
    who = _actor(actor)
    with user_errors(*ERRORS), session_scope(ws) as session:
        home = Home.of(ws)
        chosen_ref = (ref or "").strip() or _next_ref(session, ws.timezone)
        if session.scalar(select(func.count()).where(Incident.ref == chosen_ref)):
            raise ValueError(f"an incident with ref {chosen_ref!r} exists already")
        incident = create_incident(
            session,
            ref=chosen_ref,
            title=title,
            category=parse_enum(IncidentCategory, category, "category"),
            actor=who,
            reported_via=parse_enum(ReportedVia, reported_via, "reported_via"),
            reporter=reporter,
            reporter_country=(reporter_country or "").upper() or None,
            grade=Grade.parse(grade),
            tlp=TLP.parse(tlp),
            reported_at=_when(reported_at, ws.timezone) or utcnow(),
        )
        for value in asset or []:
            add_asset(session, incident, value, actor=who, home=home)
        for name in partner or []:
            found = find_partner(session, name)
            if found is None:
                raise ValueError(f"no partner {name!r} (add it with 'sitrep partners add')")
            add_request(session, incident, found, actor=who)
        link_events(session, incident, event or [], actor=who)
        refresh_cross_border(session, incident, home, actor=who)
        session.flush()
        data = incident_detail(incident, ws.timezone)
    if as_json:
        print_json(data)
    else:
        console.print(
            f"Added incident {data['ref']} ({data['category']}, cross-border: "
            f"{'yes' if data['cross_border'] else 'no'})",
            markup=False,
        )


@app.command("list")
def list_incidents(
    status: Annotated[
        list[str] | None, typer.Option("--status", "-s", help=f"Only these statuses: {STATUSES}.")
    ] = None,
    category: Annotated[str | None, typer.Option("--category", "-c", help=f"Only this category: {CATEGORIES}.")] = None,
    open_only: Annotated[
        bool, typer.Option("--open", help="Only open incidents (new, triaged, coordinating).")
    ] = False,
    week: Annotated[
        str | None, typer.Option("--week", "-w", help="Only incidents resolved in this ISO week (e.g. 2025-W01).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many, newest first.")] = 200,
    as_json: JsonOption = False,
) -> None:
    """List incidents, newest first, with filters."""
    ws = workspace()
    with user_errors(*ERRORS), session_scope(ws) as session:
        query = select(Incident).order_by(Incident.created_at.desc(), Incident.id.desc()).limit(limit)
        statuses = [parse_enum(Status, s, "status").value for s in status or []]
        if open_only:
            statuses += [s.value for s in OPEN_STATUSES]
        if statuses:
            query = query.where(Incident.status.in_(statuses))
        if category:
            query = query.where(Incident.category == parse_enum(IncidentCategory, category, "category").value)
        if week:
            start, end = Week.parse(week).bounds(ws.timezone)
            query = query.where(
                Incident.status == Status.RESOLVED.value, Incident.resolved_at >= start, Incident.resolved_at < end
            )
        rows = [incident_summary(i, ws.timezone) for i in session.scalars(query)]
    if as_json:
        print_json(rows)
        return
    table = Table("ref", "status", "category", "grade", "tlp", "cross-border", "title")
    for row in rows:
        table.add_row(
            row["ref"],
            row["status"],
            row["category"],
            row["grade"],
            row["tlp"],
            "yes" if row["cross_border"] else "",
            row["title"],
        )
    out.print(table)
    console.print(f"{len(rows)} incident(s)")


@app.command("show")
def show(
    ref: Annotated[str, typer.Argument(help="The incident's ref.")],
    as_json: JsonOption = False,
) -> None:
    """Show one incident: assets, linked events, coordination requests and its audit trail."""
    ws = workspace()
    with user_errors(*ERRORS), session_scope(ws) as session:
        data = incident_detail(_load(session, ref), ws.timezone)
    if as_json:
        print_json(data)
        return
    out.print(f"{data['ref']}  {data['title']}", markup=False)
    out.print(
        f"  category {data['category']}  status {data['status']}  grade {data['grade']}  "
        f"TLP:{data['tlp']}  cross-border {'yes' if data['cross_border'] else 'no'}"
        + (f" (override: {data['cross_border_reason']})" if data["cross_border_override"] is not None else ""),
        markup=False,
    )
    out.print(f"  reported via {data['reported_via']} by {data['reporter'] or '-'}", markup=False)
    for name, value in data["timestamps"].items():
        if value:
            out.print(f"  {name:<13}{value}")
    for asset in data["assets"]:
        out.print(f"  asset  {asset['kind']:<7}{asset['value']}", markup=False)
    if data["events"]:
        out.print(f"  events {len(data['events'])} linked")
    for req in data["requests"]:
        stages = (
            ", ".join(
                f"{k.removesuffix('_at')} {req[k]}"
                for k in ("sent_at", "acknowledged_at", "actioned_at", "verified_at")
                if req[k]
            )
            or "not sent"
        )
        out.print(
            f"  request {req['partner']} ({req['partner_type']}): {stages}"
            + (f"; outcome {req['outcome']}" if req["outcome"] else ""),
            markup=False,
        )
    out.print("  audit:")
    for entry in data["audit"]:
        out.print(
            f"    {entry['at']}  {entry['actor']}  {entry['field']}: {entry['old'] or ''} → {entry['new'] or ''}",
            markup=False,
        )


@app.command("update")
def update(
    ref: Annotated[str, typer.Argument(help="The incident's ref.")],
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            "-s",
            help="Move to this status (new → triaged → coordinating → resolved | rejected | "
            "unresolved; new/triaged may also be rejected).",
        ),
    ] = None,
    at: Annotated[str | None, typer.Option("--at", help="When the status change happened (default now).")] = None,
    title: Annotated[str | None, typer.Option("--title", help="New title.")] = None,
    category: Annotated[str | None, typer.Option("--category", "-c", help=f"New category: {CATEGORIES}.")] = None,
    grade: Annotated[str | None, typer.Option("--grade", help="New grade: 一般, 较大, 重大, 特别重大.")] = None,
    tlp: Annotated[str | None, typer.Option("--tlp", help="New TLP label.")] = None,
    add_assets: Annotated[list[str] | None, typer.Option("--add-asset", help="Add an affected asset.")] = None,
    event: Annotated[list[str] | None, typer.Option("--event", help="Link a lake event_id.")] = None,
    cross_border: Annotated[
        str | None,
        typer.Option(
            "--cross-border", help="yes or no to override (needs --reason), 'derive' to go back to deriving it."
        ),
    ] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why cross-border is overridden.")] = None,
    partner: Annotated[
        str | None, typer.Option("--partner", "-p", help="Partner whose request to add or update (added when new).")
    ] = None,
    sent: Annotated[str | None, typer.Option("--sent", help="Request sent at TIME or 'now' (with --partner).")] = None,
    acknowledged: Annotated[
        str | None, typer.Option("--acknowledged", help="Partner acknowledged at TIME or 'now'.")
    ] = None,
    actioned: Annotated[str | None, typer.Option("--actioned", help="Partner acted at TIME or 'now'.")] = None,
    verified: Annotated[str | None, typer.Option("--verified", help="We verified at TIME or 'now'.")] = None,
    outcome: Annotated[str | None, typer.Option("--outcome", help=f"Request outcome: {OUTCOMES}.")] = None,
    actor: ActorOption = None,
) -> None:
    """Change an incident: status, fields, assets, cross-border override or a partner's request.

    Every change is recorded in the audit trail ('sitrep incidents show REF').  An illegal status change
    is refused with the allowed next statuses.
    Example: sitrep incidents update INC-20250102-0001 --partner 阿里云 --acknowledged now
    """
    ws = workspace()
    who = _actor(actor)
    tz = ws.timezone
    with user_errors(*ERRORS), session_scope(ws) as session:
        incident = _load(session, ref)
        home = Home.of(ws)
        fields = {
            "title": title,
            "grade": Grade.parse(grade) if grade else None,
            "tlp": TLP.parse(tlp) if tlp else None,
            "category": parse_enum(IncidentCategory, category, "category") if category else None,
        }
        for name, value in fields.items():
            if value is not None:
                set_field(session, incident, name, value, who)
        for value in add_assets or []:
            add_asset(session, incident, value, actor=who, home=home)
        link_events(session, incident, event or [], actor=who)
        stages = {
            "sent_at": _when(sent, tz),
            "acknowledged_at": _when(acknowledged, tz),
            "actioned_at": _when(actioned, tz),
            "verified_at": _when(verified, tz),
            "outcome": parse_enum(Outcome, outcome, "outcome") if outcome else None,
        }
        if partner:
            found = find_partner(session, partner)
            if found is None:
                raise ValueError(f"no partner {partner!r} (add it with 'sitrep partners add')")
            request, _ = add_request(session, incident, found, actor=who)
            session.flush()
            update_request(session, request, actor=who, **stages)
        elif any(v is not None for v in stages.values()):
            raise ValueError("request times and --outcome need --partner")
        if cross_border is not None:
            value = None if cross_border.strip().lower() == "derive" else parse_bool(cross_border)
            override_cross_border(session, incident, value, reason=reason, actor=who, home=home)
        else:
            refresh_cross_border(session, incident, home, actor=who)
        if status:
            transition(session, incident, parse_enum(Status, status, "status"), actor=who, at=_when(at, tz))
        now_status = incident.status
    console.print(f"Updated {ref} (status {now_status})", markup=False)


@app.command("resolve")
def resolve(
    ref: Annotated[str, typer.Argument(help="The incident's ref (must be coordinating).")],
    as_status: Annotated[
        str, typer.Option("--as", help="Closing status: resolved, rejected or unresolved.")
    ] = "resolved",
    outcome: Annotated[
        str | None, typer.Option("--outcome", help=f"Outcome to record on requests that have none: {OUTCOMES}.")
    ] = None,
    at: Annotated[str | None, typer.Option("--at", help="When it was closed (default now).")] = None,
    actor: ActorOption = None,
) -> None:
    """Close an incident (coordinating → resolved, rejected or unresolved), optionally with an outcome."""
    ws = workspace()
    who = _actor(actor)
    with user_errors(*ERRORS), session_scope(ws) as session:
        incident = _load(session, ref)
        goal = parse_enum(Status, as_status, "status")
        if not goal.closed:
            raise ValueError(f"--as must be resolved, rejected or unresolved, not {goal.value}")
        when = _when(at, ws.timezone) or utcnow()
        transition(session, incident, goal, actor=who, at=when)
        if outcome:
            result = parse_enum(Outcome, outcome, "outcome")
            for request in incident.requests:
                if request.outcome is None:
                    update_request(
                        session,
                        request,
                        actor=who,
                        outcome=result,
                        actioned_at=when if result.effective and not request.actioned_at else None,
                    )
    console.print(f"{ref} is {goal.value}", markup=False)


@app.command("import")
def import_file(
    file: Annotated[
        Path,
        typer.Argument(help="CSV (header row) or JSON (array of objects, or JSON lines).", exists=True, dir_okay=False),
    ],
    format: Annotated[str | None, typer.Option("--format", "-f", help="csv or json (default: from suffix).")] = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import incidents, idempotent by ref; bad rows are reported with line and reason, the rest kept.

    Columns: ref, title, category, reported_at, resolved_at, status, reporter, partner, partner_type,
    partner_country, asset, cross_border, grade, tlp (several partners or assets separated by ';';
    empty cross_border = derive it; times ISO 8601, workspace time zone when no offset).  See
    docs/incidents.md for optional columns and an example.  Exit code 1 when rows were rejected.
    """
    ws = workspace()
    with user_errors(*ERRORS), session_scope(ws) as session:
        report = import_incidents(session, file, workspace=ws, actor=_actor(actor), fmt=format)
    _print_report(report, as_json)
    if report.rejects:
        raise typer.Exit(1)


@app.command("propose")
def propose(
    week: Annotated[str | None, typer.Option("--week", "-w", help="ISO week (default: last complete week).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the proposals, write nothing.")] = False,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Turn the week's lake events into proposed incidents by the [[incidents.propose]] rules.

    Default rules: an APK download URL → mobile-malware, routed to the app store; a phishing page
    imitating a domestic site or brand → phishing, routed to the registrar/hosting/cloud partner; a
    domestic defacement or backdoor → the branch of its region.  One incident per site (or URL); an
    asset that already has an open incident gets the new events linked instead.
    """
    ws = workspace()
    with user_errors(*ERRORS), session_scope(ws) as session:
        chosen = _week(week, ws.timezone)
        proposals = propose_incidents(session, ws, chosen, actor=_actor(actor), dry_run=dry_run)
        rows = [p.as_dict() for p in proposals]
    if as_json:
        print_json({"week": str(chosen), "dry_run": dry_run, "proposals": rows})
        return
    table = Table("action", "incident", "category", "asset", "events", "partner", "routing")
    for row in rows:
        table.add_row(
            row["action"],
            row["incident"],
            row["category"],
            row["asset"],
            str(row["events"]),
            row["partner"] or "-",
            row["routing"] or "no partner matched",
        )
    out.print(table)
    created = sum(1 for r in rows if r["action"] == "create")
    console.print(
        f"{chosen}: {created} new incident(s){' (dry run)' if dry_run else ''}, "
        f"{sum(1 for r in rows if r['action'] == 'attach')} attached to open ones"
    )


@app.command("notify")
def notify(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Write .eml files instead of sending.")] = False,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Folder for --dry-run (default <workspace>/outbox).")
    ] = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """E-mail each partner its pending requests (triaged or coordinating incidents, not yet sent).

    One message per partner in its language (zh/en) with the affected assets as a CSV attachment, sent
    through [smtp] of sitrep.toml (STARTTLS, login with the password from the smtp.password_env
    variable).  Records the sent time on each request and moves triaged incidents to coordinating.
    """
    ws = workspace()
    with user_errors(*ERRORS):
        report = send_notifications(ws, actor=_actor(actor), dry_run=dry_run, out_dir=out_dir)
    if as_json:
        print_json(report.as_dict())
    else:
        for item in report.sent:
            where = item.get("file") or item["email"]
            console.print(
                f"{'wrote' if dry_run else 'sent'} {item['partner']}: {len(item['incidents'])} incident(s) → {where}",
                markup=False,
            )
        for item in report.skipped + report.failed:
            console.print(f"not sent to {item['partner']}: {item['reason']}", markup=False)
        if not report.sent:
            console.print("no pending requests to notify")
    if report.failed:
        raise typer.Exit(1)


@app.command("stats")
def stats(
    week: Annotated[
        str | None, typer.Option("--week", "-w", help="ISO week, e.g. 2025-W01 (default: last complete week).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """The week's handling numbers: incidents resolved in the week, cross-border, phishing, mobile-malware
    URLs and app stores, partner types, breakdowns, median time to resolve and a partner scorecard."""
    ws = workspace()
    with user_errors(*ERRORS), session_scope(ws) as session:
        data = weekly_stats(
            session, _week(week, ws.timezone), tz=ws.timezone, no_response_hours=ws.settings.incidents.no_response_hours
        )
    if as_json:
        print_json(data)
        return
    out.print(f"{data['week']} ({data['start'][:10]} – {data['end'][:10]})")
    for key in (
        "handled",
        "cross_border",
        "phishing",
        "mobile_malware_urls",
        "mobile_malware_platforms",
        "median_hours_to_resolve",
    ):
        out.print(f"  {key:<26}{data[key] if data[key] is not None else '-'}")
    out.print(f"  {'partner_types':<26}{', '.join(data['partner_types']) or '-'}")
    table = Table("partner", "type", "requests", "acknowledged", "taken down", "no response", "median h")
    for row in data["scorecard"]["partners"]:
        table.add_row(
            row["partner"],
            row["type"],
            str(row["requests"]),
            str(row["acknowledged"]),
            str(row["taken_down"]),
            str(row["no_response"]),
            str(row["median_hours_to_takedown"] or "-"),
        )
    out.print(table)
    if data["scorecard"]["no_response"]:
        out.print("  did not answer: " + ", ".join(data["scorecard"]["no_response"]), markup=False)
