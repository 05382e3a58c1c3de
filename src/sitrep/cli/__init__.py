"""The ``sitrep`` command: thin Typer commands over the library functions."""

from __future__ import annotations

from typing import Annotated

import typer

from sitrep import __version__
from sitrep.cli.common import state

app = typer.Typer(
    name="sitrep",
    help="Sitrep: ingest a CERT's security feeds and incidents and publish the weekly situation report.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"sitrep {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    home: Annotated[
        str | None,
        typer.Option("--home", envvar="SITREP_HOME", help="Workspace folder (default: the current folder)."),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    state.home = home


def _register() -> None:
    from sitrep.cli import demo, incidents, ingest, metrics, partners, report, workspace

    for module in (workspace, ingest, metrics, incidents, partners, report, demo):
        module.register(app)


_register()


def main() -> None:
    """Entry point of the ``sitrep`` console script."""
    app()
