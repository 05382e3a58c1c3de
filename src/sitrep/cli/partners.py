"""``sitrep partners …``: the directory of outside parties incidents are coordinated with."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from sitrep.cli.common import console, out, print_json, user_errors, workspace
from sitrep.cli.incidents import ActorOption, JsonOption, _actor, _print_report
from sitrep.incidents.db import session_scope
from sitrep.incidents.partners import PartnerSpec, import_partners, list_partners, upsert_partner
from sitrep.incidents.records import InputError
from sitrep.incidents.views import partner_dict
from sitrep.incidents.vocabulary import parse_enum
from sitrep.taxonomy import PartnerType

TYPES = ", ".join(t.value for t in PartnerType)

app = typer.Typer(
    name="partners",
    help="The partner directory: cloud providers, registrars, app stores, branches, international "
    "organisations, foreign CERTs… with the domain suffixes, AS numbers and regions each answers for "
    "(used to route incidents).",
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
)


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
    """Add a partner, or replace the details of the partner with that name.

    Example: sitrep partners add 广东分中心 --type branch --region GD --email gd@example.cn
    """
    ws = workspace()
    with user_errors(ValueError), session_scope(ws) as session:
        kind = parse_enum(PartnerType, type, "partner type")
        spec = PartnerSpec.build(
            name=name,
            type=kind,
            country=country,
            email=email,
            language=language,
            suffixes=suffix or [],
            asns=asn or [],
            regions=region or [],
        )
        _, outcome = upsert_partner(session, spec, actor=_actor(actor))
    console.print(f"Partner {spec.name}: {outcome}", markup=False)


@app.command("list")
def list_command(
    type: Annotated[str | None, typer.Option("--type", "-t", help=f"Only this type: {TYPES}.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List the partner directory, in the report's canonical type order."""
    ws = workspace()
    with user_errors(ValueError), session_scope(ws) as session:
        kind = parse_enum(PartnerType, type, "partner type") if type else None
        rows = [partner_dict(p) for p in list_partners(session, kind)]
    if as_json:
        print_json(rows)
        return
    table = Table("name", "type", "country", "language", "email", "answers for")
    for row in rows:
        scope = [*row["suffixes"], *(f"AS{a}" for a in row["asns"]), *row["regions"]]
        table.add_row(
            row["name"], row["type"], row["country"] or "", row["language"], row["email"] or "", ", ".join(scope)
        )
    out.print(table)
    console.print(f"{len(rows)} partner(s)")


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
    ws = workspace()
    with user_errors(ValueError, InputError), session_scope(ws) as session:
        report = import_partners(session, file, actor=_actor(actor), fmt=format)
    _print_report(report, as_json)
    if report.rejects:
        raise typer.Exit(1)
