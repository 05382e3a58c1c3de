"""``sitrep partners …``: the directory of outside parties incidents are coordinated with, and how
they answer (scorecards)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from sitrep.cli.common import console, out, print_json
from sitrep.cli.incidents import ActorOption, JsonOption, actor_of, desk, errors, print_import, print_scorecard
from sitrep.incidents import service
from sitrep.incidents.views import PartnerView
from sitrep.taxonomy import PartnerType

TYPES = ", ".join(t.value for t in PartnerType)

app = typer.Typer(
    name="partners",
    help="The partner directory: cloud providers, registrars, app stores, branches, international "
    "organisations, foreign CERTs… with the domain suffixes, AS numbers and regions each answers for "
    "(used to route incidents), and their scorecards.",
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
)

NameArgument = Annotated[str, typer.Argument(help="The partner's name (case does not matter).")]


def _scope(row: PartnerView) -> str:
    return ", ".join([*row["suffixes"], *(f"AS{a}" for a in row["asns"]), *row["regions"]])


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="The partner's name (unique), e.g. 阿里云 or JPCERT/CC.")],
    type: Annotated[str, typer.Option("--type", "-t", help=f"Partner type: {TYPES}.")],
    country: Annotated[
        str | None, typer.Option("--country", help="ISO country code; a foreign one makes its incidents cross-border.")
    ] = None,
    email: Annotated[str | None, typer.Option("--email", help="Where notifications go.")] = None,
    language: Annotated[
        str | None,
        typer.Option("--language", help="zh or en for notifications (default zh for CN or no country, else en)."),
    ] = None,
    suffix: Annotated[
        list[str] | None, typer.Option("--suffix", help="Domain suffix it answers for (e.g. aliyuncs.com); repeatable.")
    ] = None,
    asn: Annotated[list[str] | None, typer.Option("--asn", help="AS number it answers for; repeatable.")] = None,
    region: Annotated[
        list[str] | None,
        typer.Option("--region", help="Province code it answers for (e.g. GD), for branches; repeatable."),
    ] = None,
    actor: ActorOption = None,
) -> None:
    """Add a partner, or replace the details of the partner with that name (a deactivated one is
    reactivated).  Names and e-mail addresses with control characters are refused.

    \b
    Example:
      sitrep partners add 广东分中心 --type branch --region GD --email gd@example.cn
    """
    with errors():
        saved = service.add_partner(
            desk(),
            name,
            type,
            actor=actor_of(actor),
            country=country,
            email=email,
            language=language,
            suffixes=suffix or [],
            asns=asn or [],
            regions=region or [],
        )
    console.print(f"Partner {saved.partner['name']}: {saved.outcome}", markup=False)


@app.command("list")
def list_command(
    type: Annotated[str | None, typer.Option("--type", "-t", help=f"Only this type: {TYPES}.")] = None,
    all_partners: Annotated[bool, typer.Option("--all", help="Include deactivated partners.")] = False,
    as_json: JsonOption = False,
) -> None:
    """List the partner directory, in the report's canonical type order."""
    with errors():
        rows = service.list_partners(desk(), type, inactive=all_partners)
    if as_json:
        print_json(rows)
        return
    table = Table("name", "type", "country", "language", "email", "answers for", *(["active"] if all_partners else []))
    for row in rows:
        cells = [row["name"], row["type"], row["country"] or "", row["language"], row["email"] or "", _scope(row)]
        table.add_row(*cells, *((["yes" if row["active"] else "no"]) if all_partners else []))
    out.print(table)
    console.print(f"{len(rows)} partner(s)")


@app.command("show")
def show(
    name: NameArgument,
    recent: Annotated[int, typer.Option("--recent", help="Show this many of its newest requests.")] = 20,
    as_json: JsonOption = False,
) -> None:
    """Show one partner: its details, how many requests it has (open, overdue), its newest requests and
    the changes of its entry."""
    with errors():
        data = service.show_partner(desk(), name, recent=recent)
    if as_json:
        print_json(data)
        return
    partner = data["partner"]
    out.print(
        f"{partner['name']}  {partner['type']}  {partner['country'] or '-'}  {partner['email'] or 'no e-mail'}  "
        f"language {partner['language']}{'' if partner['active'] else '  (deactivated)'}",
        markup=False,
    )
    out.print(f"  answers for {_scope(partner) or '-'}", markup=False)
    out.print(
        f"  requests {data['requests']}, open {data['open_requests']}, overdue {data['overdue_requests']}",
        markup=False,
    )
    table = Table("ref", "status", "sent", "acknowledged", "actioned", "outcome", "due", "title")
    for row in data["recent"]:
        table.add_row(
            row["ref"],
            row["status"],
            (row["sent_at"] or "")[:16],
            (row["acknowledged_at"] or "")[:16],
            (row["actioned_at"] or "")[:16],
            row["outcome"] or "",
            (row["due_at"] or "")[:16] + (" OVERDUE" if row["overdue"] else ""),
            row["title"],
        )
    out.print(table)
    for entry in data["audit"]:
        out.print(
            f"    {entry['at']}  {entry['actor']}  {entry['field']}: {entry['old'] or ''} → {entry['new'] or ''}",
            markup=False,
        )


@app.command("remove")
def remove(
    name: NameArgument,
    deactivate: Annotated[
        bool,
        typer.Option("--deactivate", help="Keep the partner and its requests' history, but send it no new requests."),
    ] = False,
    actor: ActorOption = None,
) -> None:
    """Remove a partner from the directory.

    A partner named by coordination requests cannot be removed (that would rewrite their history):
    deactivate it with --deactivate instead; 'sitrep partners add' with its name reactivates it.
    """
    with errors():
        outcome = service.remove_partner(desk(), name, actor=actor_of(actor), deactivate=deactivate)
    console.print(f"Partner {name.strip()}: {outcome}", markup=False)


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="CSV or JSON partner list.", exists=True, dir_okay=False)],
    format: Annotated[str | None, typer.Option("--format", "-f", help="csv or json (default: from suffix).")] = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import partners (upsert by name); bad rows are reported with line and reason.

    Columns: name, type, country, email, language, suffixes, asns, regions (lists separated by ';').
    Exit code 1 when rows were rejected.
    """
    with errors():
        report = service.import_partners(desk(), file, actor=actor_of(actor), fmt=format)
    print_import(report, as_json)
    if report.rejects:
        raise typer.Exit(1)


@app.command("scorecard")
def scorecard(
    weeks: Annotated[int, typer.Option("--weeks", "-n", help="How many weeks, ending with --week.")] = 4,
    week: Annotated[
        str | None, typer.Option("--week", "-w", help="The last week counted (default: the last complete week).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """How partners answered: per partner and per partner type, the requests sent in the weeks, how many
    were acknowledged and taken down, the median hours to acknowledge and to take down, and the share
    with no response (not acknowledged within [incidents] no_response_hours, or outcome no-response).

    The same definitions as the scorecard of 'sitrep incidents stats'.
    """
    with errors():
        data = service.partner_scorecard(desk(), weeks=weeks, week=week)
    if as_json:
        print_json(data)
        return
    out.print(f"{data['first_week']} – {data['last_week']} ({data['start'][:10]} – {data['end'][:10]})")
    print_scorecard(data["scorecard"])
