"""``sitrep incidents …``: cases, coordination requests, import, proposals, complaint intake, notifications,
weekly numbers.

Every command parses its arguments, calls one use case of :mod:`sitrep.incidents.service` and prints
the result; the rules live there.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from sitrep.cli.common import EngineOption, actor_of, console, fail, out, print_json, workspace
from sitrep.config import ConfigError
from sitrep.incidents import service
from sitrep.incidents.desk import Desk
from sitrep.incidents.errors import (
    DuplicateRef,
    InactivePartner,
    PartnerInUse,
    RequestWithoutPartner,
    StoreBusy,
    StoreError,
    UnknownIncident,
    UnknownPartner,
)
from sitrep.incidents.notify import NotifyError
from sitrep.incidents.records import ImportReport, UnknownFormat
from sitrep.incidents.scorecard import PartnerScore, Scorecard, TypeScore
from sitrep.incidents.views import IncidentDetail, timeline
from sitrep.incidents.vocabulary import Outcome, Status
from sitrep.taxonomy import IncidentCategory

if TYPE_CHECKING:
    from sitrep.incidents.complaints import ComplaintOutcome

app = typer.Typer(
    name="incidents",
    help="Incident handling: cases, owners and notes, coordination with partners and their due dates, "
    "import, proposals from events, partner notifications and reminders, and the weekly handling numbers.",
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
)

CATEGORIES = ", ".join(c.value for c in IncidentCategory)
STATUSES = ", ".join(s.value for s in Status)
OUTCOMES = ", ".join(o.value for o in Outcome)
TIME_HELP = "ISO 8601 time or 'now' (local workspace time without an offset)"

ActorOption = Annotated[
    str | None,
    typer.Option(
        "--actor",
        envvar="SITREP_USER",
        help="Who makes the change, for the audit trail (default: $SITREP_USER, else the login name).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON on stdout instead of a table.")]
RefArgument = Annotated[str, typer.Argument(help="The incident's ref (see 'sitrep incidents list').")]
CategoryFilter = Annotated[str | None, typer.Option("--category", "-c", help=f"Only this category: {CATEGORIES}.")]
OwnerFilter = Annotated[str | None, typer.Option("--owner", help="Only incidents this analyst owns.")]
UnassignedFilter = Annotated[bool, typer.Option("--unassigned", help="Only incidents nobody owns.")]
PartnerFilter = Annotated[
    str | None, typer.Option("--partner", "-p", help="Only incidents with a request to this partner.")
]
SearchFilter = Annotated[
    str | None, typer.Option("--search", help="Only incidents whose ref or title contains this text.")
]
ReportedBeforeFilter = Annotated[
    str | None, typer.Option("--reported-before", help=f"Only incidents reported before this time ({TIME_HELP}).")
]

# What the CLI adds to a refusal of the core: where to look, what to run.  ``{name}`` and ``{ref}``
# are the refused value, from the exception.
_HINTS: dict[type[Exception], str] = {
    UnknownIncident: " (see 'sitrep incidents list')",
    UnknownPartner: " (see 'sitrep partners list', or add it with 'sitrep partners add')",
    InactivePartner: " (reactivate it with 'sitrep partners add \"{name}\" --type …')",
    DuplicateRef: " (choose another --ref, or leave --ref out for the next number)",
    PartnerInUse: " (keep its history and stop new requests with 'sitrep partners remove \"{name}\" --deactivate')",
    RequestWithoutPartner: ": name it with --partner",
    UnknownFormat: "; name it with --format csv or json",
    NotifyError: " (check [smtp] in sitrep.toml)",
    StoreBusy: " (another writer held it longer than [incidents] busy_timeout_seconds; try again)",
    StoreError: " (check [storage] database_url in sitrep.toml)",
}


@contextmanager
def errors() -> Iterator[None]:
    """Print a refused use case as one line with its hint and leave with exit code 2."""
    try:
        yield
    except (ValueError, NotifyError, ConfigError) as exc:
        hint = next((text for kind, text in _HINTS.items() if isinstance(exc, kind)), "")
        # The message quotes what was typed or stored: never read it as console markup.
        fail(f"{exc}{hint.format_map(vars(exc))}")


def desk(engine: str | None = None) -> Desk:
    """The desk of the selected workspace (its database migrated on first use); ``engine``: the
    ``--engine`` of a command that reads the lake."""
    ws = workspace(engine)
    with errors():
        return Desk.open(ws)


def print_import(report: ImportReport, as_json: bool) -> None:
    """An import's counts and its rejected rows (line and reason)."""
    if as_json:
        print_json(report.as_dict())
        return
    console.print(
        f"{report.file}: read {report.read} = created {report.created} + updated "
        f"{report.updated} + unchanged {report.unchanged} + rejected {report.rejected}",
        markup=False,
    )
    for reject in report.rejects:
        console.print(f"  line {reject.line}: {reject.reason}", markup=False)


@app.command("add")
def add(
    title: Annotated[str, typer.Option("--title", help="Short description of the case.")],
    category: Annotated[str, typer.Option("--category", "-c", help=f"One of: {CATEGORIES}.")],
    asset: Annotated[
        list[str] | None,
        typer.Option("--asset", "-a", help="Affected URL, domain or IP (repeat for several)."),
    ] = None,
    partner: Annotated[
        list[str] | None,
        typer.Option("--partner", "-p", help="Partner (see 'sitrep partners list') to coordinate with; repeatable."),
    ] = None,
    ref: Annotated[
        str | None,
        typer.Option("--ref", help="Your reference (unique); default <ref_prefix>-<date>-<n>, e.g. INC-20250102-0001."),
    ] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="The analyst who handles it.")] = None,
    reporter: Annotated[str | None, typer.Option("--reporter", help="Who reported it.")] = None,
    reporter_country: Annotated[
        str | None,
        typer.Option("--reporter-country", help="ISO country of the reporter (foreign makes it cross-border)."),
    ] = None,
    reported_via: Annotated[
        str, typer.Option("--reported-via", help="complaint, partner, monitoring or foreign-cert.")
    ] = "monitoring",
    reported_at: Annotated[
        str | None, typer.Option("--reported-at", help=f"When it was reported (default now; {TIME_HELP}).")
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
    with errors():
        data = service.add_incident(
            desk(),
            title=title,
            category=category,
            actor=actor_of(actor),
            ref=ref,
            assets=asset or [],
            partner_names=partner or [],
            reporter=reporter,
            reporter_country=reporter_country,
            reported_via=reported_via,
            reported_at=reported_at,
            grade=grade,
            tlp=tlp,
            events=event or [],
            owner=owner,
        )
    if as_json:
        print_json(data)
        return
    console.print(
        f"Added incident {data['ref']} ({data['category']}, cross-border: {'yes' if data['cross_border'] else 'no'})",
        markup=False,
    )


@app.command("list")
def list_incidents(
    status: Annotated[
        list[str] | None,
        typer.Option(
            "--status",
            "-s",
            help=f"Only these statuses (repeatable): {STATUSES}; or 'proposed': new incidents proposed from "
            "the lake's events or complaint mails (refs P-…), awaiting triage.",
        ),
    ] = None,
    category: CategoryFilter = None,
    open_only: Annotated[
        bool, typer.Option("--open", help="Only open incidents (new, triaged, coordinating).")
    ] = False,
    week: Annotated[
        str | None, typer.Option("--week", "-w", help="Only incidents resolved in this ISO week (e.g. 2025-W01).")
    ] = None,
    owner: OwnerFilter = None,
    unassigned: UnassignedFilter = False,
    partner: PartnerFilter = None,
    search: SearchFilter = None,
    reported_before: ReportedBeforeFilter = None,
    proposed: Annotated[
        str | None,
        typer.Option(
            "--proposed", help="Only incidents proposed from this ISO week's events (refs P-<week>-…, 'propose')."
        ),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many, newest first (1–10000).")] = 200,
    after: Annotated[
        str | None,
        typer.Option("--after", help="Continue after this ref: the last one of the previous page."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """List incidents, newest first, with filters, a page at a time (see --limit and --after)."""
    query = service.IncidentQuery(
        statuses=status or [],
        open_only=open_only,
        category=category,
        owner=owner,
        unassigned=unassigned,
        partner=partner,
        resolved_in=week,
        search=search,
        reported_before=reported_before,
        proposed_in=proposed,
    )
    with errors():
        page = service.list_incidents(desk(), query, limit=limit, after=after)
    if as_json:
        print_json(page.incidents)
    else:
        table = Table("ref", "status", "owner", "category", "grade", "tlp", "cross-border", "title")
        for row in page.incidents:
            table.add_row(
                row["ref"],
                row["status"],
                row["owner"] or "",
                row["category"],
                row["grade"],
                row["tlp"],
                "yes" if row["cross_border"] else "",
                row["title"],
            )
        out.print(table)
        console.print(f"{len(page.incidents)} incident(s)")
    if page.next_after:
        console.print(f"more: add --after {page.next_after} for the next page", markup=False)


def _print_detail(data: IncidentDetail) -> None:
    out.print(f"{data['ref']}  {data['title']}", markup=False)
    out.print(
        f"  category {data['category']}  status {data['status']}  owner {data['owner'] or '-'}  "
        f"grade {data['grade']}  TLP:{data['tlp']}  cross-border {'yes' if data['cross_border'] else 'no'}"
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
        stages = [
            f"{key.removesuffix('_at')} {req[key]}"  # type: ignore[literal-required]
            for key in ("sent_at", "acknowledged_at", "actioned_at", "verified_at")
            if req[key]  # type: ignore[literal-required]
        ]
        due = f"; due {req['due_at']}{' (OVERDUE)' if req['overdue'] else ''}" if req["due_at"] else ""
        out.print(
            f"  request {req['partner']} ({req['partner_type']}): {', '.join(stages) or 'not sent'}{due}"
            + (f"; outcome {req['outcome']}" if req["outcome"] else ""),
            markup=False,
        )
    for mail in data["complaints"]:
        out.print(
            f"  mail   {(mail['received_at'] or '')[:16]}  {mail['action']}  {mail['reporter'] or '-'}  "
            f"{mail['subject'] or ''}",
            markup=False,
        )
        out.print(
            f"         {mail['file'] or '-'} ({mail['size']} bytes, {len(mail['attachments'])} attachment(s))"
            + (f"; reply {mail['reply']}" if mail["reply"] else ""),
            markup=False,
        )
    out.print("  timeline:")
    for entry in timeline(data):
        entered = f"  (entered {entry['entered_at']})" if entry["back_dated"] else ""
        out.print(f"    {entry['at']}  {entry['actor']}  {entry['text']}{entered}", markup=False)


@app.command("show")
def show(ref: RefArgument, as_json: JsonOption = False) -> None:
    """Show one incident: assets, linked events, coordination requests (with due dates) and its timeline
    (the audit trail and the notes; a back-dated change shows when it was entered)."""
    with errors():
        data = service.show_incident(desk(), ref)
    if as_json:
        print_json(data)
    else:
        _print_detail(data)


@app.command("update")
def update(
    ref: RefArgument,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            "-s",
            help="Move to this status (new → triaged → coordinating → resolved | rejected | "
            "unresolved; new/triaged may also be rejected).",
        ),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at", help=f"When the status change happened (default now; {TIME_HELP}; not before the report)."
        ),
    ] = None,
    title: Annotated[str | None, typer.Option("--title", help="New title.")] = None,
    category: Annotated[str | None, typer.Option("--category", "-c", help=f"New category: {CATEGORIES}.")] = None,
    grade: Annotated[str | None, typer.Option("--grade", help="New grade: 一般, 较大, 重大, 特别重大.")] = None,
    tlp: Annotated[str | None, typer.Option("--tlp", help="New TLP label.")] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="New owner ('' for nobody).")] = None,
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
    sent: Annotated[
        str | None,
        typer.Option("--sent", help="Request sent at TIME or 'now' (with --partner); sets its due date by the SLA."),
    ] = None,
    acknowledged: Annotated[
        str | None, typer.Option("--acknowledged", help="Partner acknowledged at TIME or 'now'.")
    ] = None,
    actioned: Annotated[str | None, typer.Option("--actioned", help="Partner acted at TIME or 'now'.")] = None,
    verified: Annotated[str | None, typer.Option("--verified", help="We verified at TIME or 'now'.")] = None,
    outcome: Annotated[str | None, typer.Option("--outcome", help=f"Request outcome: {OUTCOMES}.")] = None,
    due: Annotated[
        str | None, typer.Option("--due", help="Set the request's due date by hand (TIME, with --partner).")
    ] = None,
    actor: ActorOption = None,
) -> None:
    """Change an incident: status, fields, owner, assets, cross-border override or a partner's request.

    Every change is recorded in the audit trail ('sitrep incidents show REF') with who made it, when it
    took effect and when it was entered.  An illegal status change is refused with the allowed next
    statuses; a time before the incident's report time is refused.

    \b
    Example:
      sitrep incidents update INC-20250102-0001 --partner 阿里云 --acknowledged now
    """
    changes = service.IncidentChanges(
        status=status,
        at=at,
        title=title,
        category=category,
        grade=grade,
        tlp=tlp,
        owner=owner,
        add_assets=add_assets or [],
        events=event or [],
        cross_border=cross_border,
        reason=reason,
        partner=partner,
        sent=sent,
        acknowledged=acknowledged,
        actioned=actioned,
        verified=verified,
        outcome=outcome,
        due=due,
    )
    with errors():
        data = service.update_incident(desk(), ref, changes, actor=actor_of(actor))
    console.print(f"Updated {data['ref']} (status {data['status']})", markup=False)


@app.command("assign")
def assign(
    ref: RefArgument,
    owner: Annotated[str | None, typer.Argument(help="The analyst who handles it from now on.")] = None,
    unassign: Annotated[bool, typer.Option("--unassign", help="Nobody owns it any more.")] = False,
    actor: ActorOption = None,
) -> None:
    """Give an incident an owner (or take it away with --unassign); 'incidents list --owner NAME' and
    '--unassigned' find them.

    \b
    Example:
      sitrep incidents assign INC-20250102-0001 alice
    """
    if (owner is None) == (not unassign):
        fail("name the new owner, or pass --unassign")
    with errors():
        data = service.assign_incident(desk(), ref, None if unassign else owner, actor=actor_of(actor))
    console.print(f"{data['ref']} is owned by {data['owner'] or 'nobody'}", markup=False)


@app.command("note")
def note(
    ref: RefArgument,
    text: Annotated[str, typer.Argument(help="The note (quote it; line breaks are kept).")],
    at: Annotated[
        str | None, typer.Option("--at", help=f"When it happened (default now; {TIME_HELP}; not before the report).")
    ] = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Put a note on an incident's timeline (a call made, what a partner answered…).

    \b
    Example:
      sitrep incidents note INC-20250102-0001 "万网 confirmed by phone, takedown tonight"
    """
    with errors():
        data = service.note_incident(desk(), ref, text, actor=actor_of(actor), at=at)
    if as_json:
        print_json(data)
    else:
        console.print(f"Noted on {ref.strip()} at {data['at']}", markup=False)


@app.command("resolve")
def resolve(
    refs: Annotated[
        list[str] | None,
        typer.Argument(help="Refs of the incidents to close; or give criteria below to close all that match."),
    ] = None,
    as_status: Annotated[
        str, typer.Option("--as", help="Closing status: resolved, rejected or unresolved.")
    ] = "resolved",
    outcome: Annotated[
        str | None, typer.Option("--outcome", help=f"Outcome to record on requests that have none: {OUTCOMES}.")
    ] = None,
    at: Annotated[str | None, typer.Option("--at", help=f"When they were closed (default now; {TIME_HELP}).")] = None,
    category: CategoryFilter = None,
    owner: OwnerFilter = None,
    unassigned: UnassignedFilter = False,
    partner: PartnerFilter = None,
    search: SearchFilter = None,
    reported_before: ReportedBeforeFilter = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be closed, change nothing.")] = False,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Close incidents (coordinating → resolved or unresolved; new/triaged/coordinating → rejected),
    optionally recording an outcome on their requests.

    By ref, or in bulk by criteria: every incident that matches them and can be closed that way, e.g.
    'sitrep incidents resolve --partner 万网 --category phishing --outcome taken-down'.  One that is
    refused is reported and the others are closed.  Exit code 2 when none was closed and one was
    refused, 1 when some were refused.
    """
    query = service.IncidentQuery(
        category=category,
        owner=owner,
        unassigned=unassigned,
        partner=partner,
        search=search,
        reported_before=reported_before,
    )
    with errors():
        report = service.resolve_incidents(
            desk(),
            refs or [],
            query,
            actor=actor_of(actor),
            as_status=as_status,
            outcome=outcome,
            at=at,
            dry_run=dry_run,
        )
    if as_json:
        print_json(
            {
                "status": report.status,
                "dry_run": report.dry_run,
                "closed": report.closed,
                "refused": [{"ref": r.ref, "reason": r.reason} for r in report.refused],
            }
        )
    else:
        verb = "would be" if dry_run else "is"
        for ref in report.closed:
            console.print(f"{ref} {verb} {report.status}", markup=False)
        for refused in report.refused:
            console.print(f"error: {refused.reason}", markup=False)
        if not report.closed and not report.refused:
            console.print("no incident matches that can be closed that way")
    if report.refused:
        raise typer.Exit(1 if report.closed else 2)


RefsArgument = Annotated[
    list[str], typer.Argument(help="Refs of the new incidents (see 'incidents list --status new').")
]


def _print_triage(report: service.TriageReport, as_json: bool) -> None:
    if as_json:
        print_json(
            {
                "status": report.status,
                "decided": report.decided,
                "refused": [{"ref": r.ref, "reason": r.reason} for r in report.refused],
            }
        )
    else:
        for ref in report.decided:
            console.print(f"{ref} is {report.status}", markup=False)
        for refused in report.refused:
            console.print(f"error: {refused.reason}", markup=False)
    if report.refused:
        raise typer.Exit(1 if report.decided else 2)


@app.command("accept")
def accept(
    refs: RefsArgument,
    at: Annotated[str | None, typer.Option("--at", help=f"When they were triaged (default now; {TIME_HELP}).")] = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Accept new incidents — proposals of 'incidents propose', typically — moving them to triaged, so
    that 'incidents notify' mails their partners.

    One that is refused (unknown, or no longer new: decided already) is reported and the others are
    accepted.  Exit code 2 when none was accepted and one was refused, 1 when some were refused.

    \b
    Example:
      sitrep incidents accept P-2025-W01-3f2a9c1b7e P-2025-W01-0c4d2e8a91
    """
    with errors():
        report = service.triage_incidents(desk(), refs, "triaged", actor=actor_of(actor), at=at)
    _print_triage(report, as_json)


@app.command("reject")
def reject(
    refs: RefsArgument,
    reason: Annotated[
        str, typer.Option("--reason", help="Why they are no incidents; put on each one's timeline as a note.")
    ],
    at: Annotated[str | None, typer.Option("--at", help=f"When they were rejected (default now; {TIME_HELP}).")] = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Reject new incidents that are no incidents (a false positive of a proposal, a duplicate…): new →
    rejected, with the reason on their timelines.

    One that is refused (unknown, or no longer new: decided already) is reported and the others are
    rejected.  Exit code 2 when none was rejected and one was refused, 1 when some were refused.  (An
    incident already triaged is closed with 'incidents resolve --as rejected'.)

    \b
    Example:
      sitrep incidents reject P-2025-W01-3f2a9c1b7e --reason "sinkhole of a research project"
    """
    with errors():
        report = service.triage_incidents(desk(), refs, "rejected", actor=actor_of(actor), reason=reason, at=at)
    _print_triage(report, as_json)


@app.command("overdue")
def overdue(
    owner: OwnerFilter = None,
    partner: Annotated[str | None, typer.Option("--partner", "-p", help="Only requests to this partner.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Coordination requests past their due date, the longest overdue first.

    A request is due [incidents.sla_hours] of its partner's type after it was sent (e.g. 48 h for a
    registrar); it is overdue while its incident is open and the partner has neither acted nor been
    given an outcome.  'sitrep incidents notify' mails reminders for them.
    """
    with errors():
        rows = service.overdue_requests(desk(), owner=owner, partner=partner)
    if as_json:
        print_json(rows)
        return
    table = Table("ref", "partner", "type", "sent", "due", "hours over", "owner", "status")
    for row in rows:
        table.add_row(
            row["ref"],
            row["partner"],
            row["partner_type"],
            (row["sent_at"] or "")[:16],
            (row["due_at"] or "")[:16],
            f"{row['hours_overdue']:.1f}",
            row["owner"] or "",
            row["status"],
        )
    if not rows:
        console.print("no overdue request")
        return
    out.print(table)
    console.print(f"{len(rows)} overdue request(s)")


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
    docs/incidents.md for optional columns (owner, request times…) and an example.  Exit code 1 when
    rows were rejected.
    """
    with errors():
        report = service.import_incidents(desk(), file, actor=actor_of(actor), fmt=format)
    print_import(report, as_json)
    if report.rejects:
        raise typer.Exit(1)


@app.command("propose")
def propose(
    week: Annotated[str | None, typer.Option("--week", "-w", help="ISO week (default: last complete week).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the proposals, write nothing.")] = False,
    actor: ActorOption = None,
    as_json: JsonOption = False,
    engine: EngineOption = None,
) -> None:
    """Turn the week's lake events into proposed incidents by the [[incidents.propose]] rules.

    Default rules: an APK download URL → mobile-malware, routed to the app store; a phishing page
    imitating a domestic site or brand → phishing, routed to the registrar/hosting/cloud partner; a
    domestic defacement or backdoor → the branch of its region.  One incident per site (or URL); an
    asset that already has an open incident gets the new events linked instead.
    """
    with errors():
        result = service.propose_incidents(desk(engine), week, actor=actor_of(actor), dry_run=dry_run)
    rows = [p.as_dict() for p in result.proposals]
    if as_json:
        print_json({"week": str(result.week), "dry_run": result.dry_run, "proposals": rows})
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
            row["reason"] or row["routing"] or "no partner matched",
        )
    out.print(table)
    created = sum(1 for r in rows if r["action"] == "create")
    console.print(
        f"{result.week}: {created} new incident(s){' (dry run)' if dry_run else ''}, "
        f"{sum(1 for r in rows if r['action'] == 'attach')} attached to open ones, "
        f"{sum(1 for r in rows if r['action'] == 'refused')} refused"
    )


@app.command("intake")
def intake(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Saved complaint mails (.eml, RFC 5322), e.g. as a mail client saves them.", dir_okay=False
        ),
    ],
    reply: Annotated[
        bool | None,
        typer.Option(
            "--reply/--no-reply",
            help="Acknowledge each reporter with the ref by mail through [smtp] (default: [incidents.complaints] "
            "auto_reply).",
        ),
    ] = None,
    source: Annotated[
        str, typer.Option("--source", help="What the records name as the mails' source (up to 64 characters).")
    ] = "intake",
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Turn saved complaint mails into proposed incidents, as the complaints mailbox does.

    Each mail becomes a new incident (ref P-<week>-…, listed by 'incidents list --status proposed'
    and on the desk's proposals page) with its reporter, date, a guessed category and the URLs, domains
    and IPs it names (defanged forms such as hxxp:// and evil[.]com understood) as assets, the .eml
    kept in the workspace and the attachments listed — or joins the open incident that has one of its
    assets.  A mail taken before (same bytes, or same Message-ID and sender) adds nothing.  A mail that
    cannot be read reliably is quarantined, one over [incidents.complaints] max_mb is refused.  Exit
    code 1 when a mail was quarantined, refused or unreadable (the others are taken).

    \b
    Example:
      sitrep incidents intake ~/Downloads/举报仿冒网站.eml forwarded-report.eml --no-reply
    """
    with errors():
        report = service.intake_complaints(desk(), files, actor=actor_of(actor), source=source, auto_reply=reply)
    if as_json:
        print_json(report.as_dict())
    else:
        for name, outcome in report.outcomes:
            console.print(f"{name}: {_intake_line(outcome)}", markup=False)
            for warning in outcome.warnings:
                console.print(f"  warning: {warning}", markup=False)
        for name, reason in report.failed:
            console.print(f"{name}: not taken: {reason}", markup=False)
        counts = Counter(outcome.action for _, outcome in report.outcomes)
        parts = [f"{counts[a]} {a}" for a in ("proposed", "attached", "already", "quarantined", "refused") if counts[a]]
        parts += [f"{len(report.failed)} unreadable"] if report.failed else []
        console.print(f"{len(files)} mail(s): {', '.join(parts) or 'none taken'}")
    if not report.ok:
        raise typer.Exit(1)


def _intake_line(outcome: ComplaintOutcome) -> str:
    """One mail's outcome, for the terminal."""
    if outcome.action in ("quarantined", "refused"):
        kept = f"; kept as {outcome.kept}" if outcome.kept else ""
        return f"{outcome.action}: {outcome.reason}{kept}"
    if outcome.action == "already":
        return f"already taken ({outcome.reason}); incident {outcome.incident or '-'}"
    attachments = len(outcome.attachments)
    details = f"{outcome.category}, {len(outcome.assets)} asset(s), {attachments} attachment(s)"
    reply = f"; reply {outcome.reply}" if outcome.reply else ""
    verb = "proposed" if outcome.action == "proposed" else "attached to"
    return f"{verb} {outcome.incident} ({details}){reply}"


@app.command("notify")
def notify(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Write .eml files instead of sending.")] = False,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Folder for --dry-run (default <workspace>/outbox).")
    ] = None,
    reminders: Annotated[
        bool,
        typer.Option("--reminders/--no-reminders", help="Also remind partners of overdue requests (default yes)."),
    ] = True,
    partner: Annotated[
        str | None, typer.Option("--partner", "-p", help="Only this partner (see 'sitrep partners list').")
    ] = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """E-mail each partner its pending requests (triaged or coordinating incidents, not yet sent), and
    remind it of overdue ones.

    One message per partner in its language (zh/en) with the affected assets as a CSV attachment, sent
    through [smtp] of sitrep.toml (STARTTLS, login with the password from the smtp.password_env
    variable).  Records the sent time on each request (which sets its due date) and moves triaged
    incidents to coordinating.  A reminder goes at most every [incidents] reminder_hours.  A partner
    that cannot be mailed is reported and the others are still sent; exit code 1 when one failed.
    """
    with errors():
        report = service.notify_partners(
            desk(), actor=actor_of(actor), dry_run=dry_run, out_dir=out_dir, reminders=reminders, partner=partner
        )
    if as_json:
        print_json(report.as_dict())
    else:
        for item in report.sent:
            where = item.get("file") or item["email"]
            what = "reminder of" if item["kind"] == "reminder" else "request for"
            console.print(
                f"{'wrote' if dry_run else 'sent'} {item['partner']}: {what} {len(item['incidents'])} incident(s) "
                f"→ {where}",
                markup=False,
            )
        for problem in report.skipped + report.failed:
            console.print(f"not sent to {problem['partner']} ({problem['kind']}): {problem['reason']}", markup=False)
        if not report.sent:
            console.print("no pending requests or reminders to send")
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
    with errors():
        data = service.incident_stats(desk(), week)
    if as_json:
        print_json(data)
        return
    out.print(f"{data['week']} ({data['start'][:10]} – {data['end'][:10]})")
    numbers = {
        "handled": data["handled"],
        "cross_border": data["cross_border"],
        "phishing": data["phishing"],
        "mobile_malware_urls": data["mobile_malware_urls"],
        "mobile_malware_platforms": data["mobile_malware_platforms"],
        "median_hours_to_resolve": data["median_hours_to_resolve"],
    }
    for key, value in numbers.items():
        out.print(f"  {key:<26}{value if value is not None else '-'}")
    out.print(f"  {'partner_types':<26}{', '.join(data['partner_types']) or '-'}")
    print_scorecard(data["scorecard"])


def _hours(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


_SCORE_COLUMNS = ("", "type", "reqs", "sent", "ack", "down", "no answer", "h→ack", "h→down")
_SCORE_CAPTION = "ack: acknowledged; down: taken down; h→ack, h→down: median hours from sending"


def _score_cells(row: PartnerScore | TypeScore) -> list[str]:
    """A scorecard row's counts and medians, as both of its tables print them."""
    return [
        str(row["requests"]),
        str(row["sent"]),
        str(row["acknowledged"]),
        str(row["taken_down"]),
        f"{row['no_response']} ({_share(row['no_response_share'])})",
        _hours(row["median_hours_to_acknowledge"]),
        _hours(row["median_hours_to_takedown"]),
    ]


def print_scorecard(card: Scorecard) -> None:
    """A scorecard as two tables: per partner, then per partner type."""
    # Short headings: the nine columns fit an 80-column terminal without cutting partner names.
    table = Table(*_SCORE_COLUMNS, caption=_SCORE_CAPTION, show_edge=False, collapse_padding=True)
    table.columns[0].header = "partner"
    for column in table.columns[:2]:
        column.no_wrap = True
    for row in card["partners"]:
        table.add_row(row["partner"], row["type"], *_score_cells(row))
    out.print(table)
    kinds = Table(*_SCORE_COLUMNS, caption=_SCORE_CAPTION, show_edge=False, collapse_padding=True)
    kinds.columns[0].header, kinds.columns[1].header = "type", "partners"
    for kind in card["types"]:
        kinds.add_row(kind["type"], str(kind["partners"]), *_score_cells(kind))
    out.print(kinds)
    if card["no_response"]:
        out.print("  did not answer: " + ", ".join(card["no_response"]), markup=False)
