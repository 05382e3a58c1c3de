"""The ``sitrep`` command: thin Typer commands over the library functions."""

from __future__ import annotations

import importlib
import signal
from typing import TYPE_CHECKING, Annotated

import typer
from typer.core import TyperGroup

from sitrep import __version__
from sitrep.cli.common import print_error, state

if TYPE_CHECKING:
    # Typer's own copy of Click, private: only for the types of the TyperGroup methods overridden below.
    from typer import _click

# Each command's module (under ``sitrep.cli``) and its function or, for a command group, its Typer
# app, in the order ``sitrep --help`` lists them.  A command imports only its own module: ``sitrep
# ingest`` does not load SQLAlchemy or Ibis (a third of a second at every start).
_COMMANDS = {
    "init": ("workspace", "init"),
    "ingest": ("ingest", "ingest"),
    "collect": ("collect", "collect"),
    "formats": ("ingest", "formats"),
    "rejects": ("ingest", "rejects"),
    "lake": ("lake", "app"),
    "metrics": ("metrics", "metrics"),
    "events": ("events", "app"),
    "report": ("report", "report"),
    "check": ("report", "check"),
    "publish": ("report", "publish"),
    "unpublish": ("report", "unpublish"),
    "narrative": ("narrative", "app"),
    "site": ("report", "site"),
    "send": ("send", "send"),
    "demo": ("demo", "demo"),
    "incidents": ("incidents", "app"),
    "partners": ("partners", "app"),
    "users": ("users", "app"),
    "serve": ("serve", "serve"),
    "jobs": ("jobs", "app"),
    "database": ("database", "app"),
}


class _LazyGroup(TyperGroup):
    """The root command: a subcommand's module is imported when that subcommand runs (or is listed)."""

    def list_commands(self, ctx: _click.Context) -> list[str]:
        return [*super().list_commands(ctx), *_COMMANDS]

    def get_command(self, ctx: _click.Context, cmd_name: str) -> _click.Command | None:
        if cmd_name not in _COMMANDS:
            return super().get_command(ctx, cmd_name)
        module_name, attribute = _COMMANDS[cmd_name]
        target = getattr(importlib.import_module(f"sitrep.cli.{module_name}"), attribute)
        if not isinstance(target, typer.Typer):
            # A Typer app with one command and no callback is that command.
            function, target = target, typer.Typer(rich_markup_mode=None, add_completion=False)
            target.command(cmd_name)(function)
        command = typer.main.get_command(target)
        command.name = cmd_name
        return command


app = typer.Typer(
    cls=_LazyGroup,
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


def _terminated(signum: int, _frame: object) -> None:
    # A scheduler's or an operator's ``kill``: leave as on Ctrl-C, through the clean-up of every block
    # (the lake's lock and work folder, the worker processes of ``sitrep site``), not in mid-write.
    raise SystemExit(128 + signum)


def main() -> None:
    """Entry point of the ``sitrep`` console script."""
    signal.signal(signal.SIGTERM, _terminated)
    try:
        app()
    except Exception as exc:
        # A Spark job that fails inside any command (an executor lost, a file Spark cannot read): one
        # line, not the JVM's stack through Py4J.
        from sitrep.metrics.spark import failure  # on this error path only: it loads Ibis

        message = failure(exc)
        if message is None:
            raise
        print_error(message)
        raise SystemExit(2) from None
