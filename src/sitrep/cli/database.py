"""``sitrep database …``: the workspace's incident database as a whole (moving it to another server)."""

from __future__ import annotations

from typing import Annotated

import typer

from sitrep.cli.common import out, print_json, user_errors, workspace

app = typer.Typer(
    name="database",
    help="The workspace's database of incidents, partners, accounts and jobs: copy it to another server "
    "(e.g. from the default SQLite file to PostgreSQL; see docs/deploy.md).",
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
)


@app.callback()
def database() -> None:
    """The workspace's database of incidents, partners, accounts and jobs."""


@app.command("copy")
def copy(
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="SQLAlchemy URL of an empty database, e.g. postgresql+psycopg://sitrep@db.example.org/sitrep "
            "(leave the password out: PostgreSQL reads PGPASSWORD or ~/.pgpass).",
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the rows copied per table as JSON.")] = False,
) -> None:
    """Copy every table of the workspace's database ([storage] database_url) into an empty database:
    it is brought to the newest schema, filled in one transaction (a failure leaves it empty) and
    refused when it already holds data.  The workspace's database is only read; point [storage]
    database_url at the new one afterwards."""
    from sitrep.incidents.db import open_store, shown_url
    from sitrep.incidents.errors import IncidentError
    from sitrep.incidents.transfer import copy_database

    ws = workspace()
    with user_errors(IncidentError):
        copied = copy_database(open_store(ws), to)
    if as_json:
        print_json([{"table": c.table, "rows": c.rows} for c in copied])
        return
    width = max(len(c.table) for c in copied)
    for c in copied:
        out.print(f"  {c.table:<{width}}  {c.rows:>9,}")
    total = sum(c.rows for c in copied)
    out.print(f"copied {total:,} rows of {len(copied)} tables into {shown_url(to)}")
    out.print(f'now set \\[storage] database_url = "{shown_url(to)}" in {ws.config_path}')
