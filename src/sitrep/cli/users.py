"""``sitrep users …``: the accounts of the web desk and the API (roles, passwords, API tokens).

Each command parses its arguments, calls one use case of :mod:`sitrep.accounts.service` and prints
the result.  Passwords are read without echo (twice) or from standard input, never from the command
line where ``ps`` and the shell history would keep them.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.table import Table

from sitrep.accounts import service
from sitrep.accounts.errors import DuplicateUser, UnknownToken, UnknownUser
from sitrep.accounts.roles import PERMISSIONS, Role
from sitrep.cli.common import console, fail, out, print_json, workspace
from sitrep.config import ConfigError
from sitrep.incidents.db import Store, open_store
from sitrep.incidents.errors import StoreBusy, StoreError

ROLES = ", ".join(r.value for r in Role)

app = typer.Typer(
    name="users",
    help="Accounts of the web desk and the API: add users with a role (admin, analyst, publisher, viewer), "
    "list them, issue and revoke API tokens, change passwords, deactivate.",
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
)

NameArgument = Annotated[str, typer.Argument(help="The user's login name (case does not matter).")]
PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from the first line of standard input (for scripts)."),
]

_HINTS: dict[type[Exception], str] = {
    UnknownUser: " (see 'sitrep users list')",
    DuplicateUser: " (change its password with 'sitrep users password {name}')",
    UnknownToken: " (see 'sitrep users tokens {name}')",
    StoreBusy: " (another writer held it longer than [incidents] busy_timeout_seconds; try again)",
    StoreError: " (check [storage] database_url in sitrep.toml)",
}


@contextmanager
def errors() -> Iterator[None]:
    """Print a refused use case as one line with its hint and leave with exit code 2."""
    try:
        yield
    except (ValueError, ConfigError) as exc:
        hint = next((text for kind, text in _HINTS.items() if isinstance(exc, kind)), "")
        fail(f"{exc}{hint.format_map(vars(exc))}")


def _store() -> Store:
    ws = workspace()
    with errors():
        return open_store(ws)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            fail("no password on standard input")
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        fail("standard input is not a terminal: give the password with --password-stdin")
    try:
        first = getpass.getpass("Password: ")
        second = getpass.getpass("Password again: ")
    except (EOFError, KeyboardInterrupt):
        fail("no password given")
    if first != second:
        fail("the two passwords differ")
    return first


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Login name: letters, digits and . _ - @ (e.g. alice).")],
    role: Annotated[str, typer.Option("--role", "-r", help=f"One of: {ROLES}.")],
    language: Annotated[str, typer.Option("--language", help="Interface language: zh or en.")] = "zh",
    password_stdin: PasswordStdin = False,
) -> None:
    """Add a user.  The password (at least 10 characters) is asked for twice, or read with
    --password-stdin.

    \b
    Examples:
      sitrep users add alice --role analyst
      printf '%s\\n' "$PASSWORD" | sitrep users add ci-bot --role viewer --password-stdin
    """
    store = _store()
    with errors():
        service.check_new_user(store, name, role, language)
    password = _password(password_stdin)
    with errors():
        user = service.add_user(store, name, role, password, lang=language)
    console.print(f"Added user {user.name} ({user.role.value})", markup=False)


@app.command("list")
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout instead of a table.")] = False,
) -> None:
    """List the users with their role, language, state, last login and active API tokens."""
    store = _store()
    with errors():
        users = service.list_users(store)
    if as_json:
        print_json([u.as_dict() for u in users])
        return
    table = Table("name", "role", "language", "active", "last login", "API tokens")
    for user in users:
        last = f"{user.last_login_at:%Y-%m-%d %H:%M} UTC" if user.last_login_at else ""
        table.add_row(user.name, user.role.value, user.language, "yes" if user.active else "no", last, str(user.tokens))
    out.print(table)
    console.print(f"{len(users)} user(s)")


@app.command("roles")
def roles() -> None:
    """Show what each role may do."""
    for role, actions in PERMISSIONS.items():
        out.print(f"{role.value:10} {', '.join(sorted(a.value for a in actions))}", markup=False)


@app.command("token")
def token(name: NameArgument) -> None:
    """Issue a new API token for the user and print it once (only its hash is kept: store it now).

    \b
    Use it as:  curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8000/api/v1/…
    """
    store = _store()
    with errors():
        issued = service.issue_token(store, name)
    typer.echo(issued.token)
    console.print(
        f"API token {issued.id} for {issued.user}: shown this once; revoke it with "
        f"'sitrep users revoke {issued.user} --token {issued.id}'",
        markup=False,
    )


@app.command("tokens")
def tokens(name: NameArgument) -> None:
    """List the user's API tokens (ID, first characters, created, last used, revoked)."""
    store = _store()
    with errors():
        rows = service.list_tokens(store, name)
    table = Table("id", "starts with", "created", "last used", "revoked")
    for row in rows:
        table.add_row(
            str(row.id),
            row.prefix + "…",
            f"{row.created_at:%Y-%m-%d %H:%M}",
            f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "",
            f"{row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "",
        )
    out.print(table)


@app.command("revoke")
def revoke(
    name: NameArgument,
    token_id: Annotated[
        int | None, typer.Option("--token", help="The token's ID (see 'sitrep users tokens'); default: all.")
    ] = None,
) -> None:
    """Revoke one of the user's API tokens, or all of them."""
    store = _store()
    with errors():
        count = service.revoke_token(store, name, token_id)
    console.print(f"Revoked {count} API token(s) of {name.strip().lower()}", markup=False)


@app.command("password")
def password(name: NameArgument, password_stdin: PasswordStdin = False) -> None:
    """Set a new password for the user (asked twice, or --password-stdin); their browser sessions end."""
    store = _store()
    with errors():
        service.get_user(store, name)
    secret = _password(password_stdin)
    with errors():
        user = service.set_password(store, name, secret)
    console.print(f"New password set for {user.name}; their sessions were ended", markup=False)


@app.command("role")
def role(name: NameArgument, new_role: Annotated[str, typer.Argument(help=f"One of: {ROLES}.")]) -> None:
    """Give the user another role."""
    store = _store()
    with errors():
        user = service.set_role(store, name, new_role)
    console.print(f"{user.name} is now {user.role.value}", markup=False)


@app.command("deactivate")
def deactivate(name: NameArgument) -> None:
    """Deactivate the user: no more logins, their sessions end, their API tokens are revoked.  Their
    name stays in the audit trail; 'sitrep users activate' lets them log in again."""
    store = _store()
    with errors():
        user = service.deactivate_user(store, name)
    console.print(f"Deactivated {user.name}", markup=False)


@app.command("activate")
def activate(name: NameArgument) -> None:
    """Let a deactivated user log in again (revoked API tokens stay revoked)."""
    store = _store()
    with errors():
        user = service.activate_user(store, name)
    console.print(f"Activated {user.name}", markup=False)
