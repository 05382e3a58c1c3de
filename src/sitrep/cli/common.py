"""What every command shares: the selected workspace, the console, and how errors are shown."""

from __future__ import annotations

import getpass
import json
import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from sitrep.config import CONFIG_NAME, QUERY_ENGINES, ConfigError, Workspace, load_workspace, resolve_home, with_engine

# soft_wrap: long lines (file paths, reasons) stay whole so output can be grepped and piped
console = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)


class _State:
    home: str | None = None


state = _State()


def fail(message: str, code: int = 2) -> NoReturn:
    """Print an error on stderr and leave with ``code``."""
    print_error(message)
    raise typer.Exit(code)


def print_error(message: str) -> None:
    """Print ``error: message`` on stderr."""
    # The message is text, not markup: "[smtp]" in it is a section of sitrep.toml, not a style.
    console.print(f"[bold red]error:[/] {escape(message)}", markup=True, highlight=False)


def workspace(engine: str | None = None) -> Workspace:
    """The workspace chosen by ``--home``, ``SITREP_HOME`` or the current folder; with ``engine`` (the
    ``--engine`` option), its queries run on that engine instead of the configured one."""
    try:
        return with_engine(load_workspace(state.home), engine)
    except ConfigError as exc:
        fail(f"--engine: {exc}" if engine is not None and engine not in QUERY_ENGINES else str(exc))


EngineOption = Annotated[
    str | None,
    typer.Option(
        "--engine",
        metavar="[duckdb|spark]",
        help="Run this command's queries over the lake on this engine: duckdb (one machine) or spark "
        "(Apache Spark, [query.spark] in sitrep.toml; needs the spark extra and Java). "
        "Default: [query] engine of sitrep.toml (duckdb). See docs/configuration.md.",
    ),
]


def optional_workspace() -> Workspace | None:
    """The selected workspace, or None when there is none (commands that work without one)."""
    if not (resolve_home(state.home) / CONFIG_NAME).is_file():
        return None
    return workspace()


@contextmanager
def user_errors(*kinds: type[Exception]) -> Iterator[None]:
    """Turn the listed exception types into a clean error message and exit code 2."""
    caught: tuple[type[Exception], ...] = (ConfigError, *kinds)
    try:
        yield
    except caught as exc:
        fail(str(exc))


def actor_of(actor: str | None) -> str:
    """The actor of the audit trail: --actor / $SITREP_USER, else the login name."""
    return actor or os.environ.get("SITREP_USER") or getpass.getuser()


def print_json(data: Any) -> None:
    """Write JSON to stdout (UTF-8, not ASCII-escaped) for scripts."""
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def program() -> str:
    """This program as a command the user can paste: ``sitrep`` when that is what the shell finds, else
    the path it was started by (``.venv/bin/sitrep`` before the virtualenv is activated)."""
    started = sys.argv[0]
    if started.endswith("__main__.py"):
        return f"{_relative(sys.executable)} -m sitrep"
    found = shutil.which("sitrep")
    if found and os.path.realpath(found) == os.path.realpath(started):
        return "sitrep"
    return _relative(started)


def _relative(path: str) -> str:
    relative = os.path.relpath(path)
    return relative if not relative.startswith("..") else os.path.abspath(path)
