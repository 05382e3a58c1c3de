"""``sitrep send``: mail a published issue to its readers (or, with --dry-run, show who would get what)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from sitrep.cli.common import actor_of, console, fail, out, print_json, workspace
from sitrep.cli.metrics import parse_week
from sitrep.lake.errors import LakeError
from sitrep.report.archive import IssueError
from sitrep.report.errors import OutputError
from sitrep.report.narrative import NarrativeError
from sitrep.report.redact import SecretError
from sitrep.report.wording import LANGS

if TYPE_CHECKING:
    from sitrep.report.distribution.send import SendResult

# Core errors whose message is shown as is (exit status 2: nothing was sent).
_ERRORS = (IssueError, OutputError, SecretError, LakeError, NarrativeError)


def _langs(value: str | None) -> list[str] | None:
    if value is None:
        return None
    chosen = [v.strip().lower() for v in value.split(",") if v.strip()]
    if not chosen or any(v not in LANGS for v in chosen):
        fail(f"--lang {value!r}: use zh, en or zh,en")
    return chosen


def _size(n: int) -> str:
    return f"{n / 1024:,.0f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:,.1f} MB"


def send(
    week: Annotated[str, typer.Option("--week", "-w", help="ISO week of the published issue, e.g. 2025-W01.")],
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            "-l",
            help="Editions to send: zh, en or zh,en (default: every language with recipients in "
            "[distribution.recipients]).",
        ),
    ] = None,
    to: Annotated[
        list[str] | None,
        typer.Option(
            "--to",
            metavar="ADDR",
            help="Send to this address instead of the configured list (repeat for more), e.g. a test copy "
            "to yourself, or the recipients a partial send missed.",
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Send nothing: print who would get what and write each message as mail.<lang>.eml.",
        ),
    ] = False,
    again: Annotated[
        bool, typer.Option("--again", help="Send a revision again to recipients who already got it.")
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Folder for the --dry-run .eml files (default: reports/<week>/)."),
    ] = None,
    actor: Annotated[
        str | None,
        typer.Option("--actor", envvar="SITREP_USER", help="Who sends, for the send log (default: login name)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Mail a published issue: one message per edition (zh, en) to that language's recipients in
    [distribution] of sitrep.toml, a short HTML and plain-text body (rating, overview, key indicators)
    with the PDF edition attached.  Recipients are never shown to each other.

    A week that is not published, or whose issue was withdrawn, is refused.  Each send is recorded in
    reports/sent/<week>.json; sending the same revision again to anyone who got it needs --again.

    Exit status: 0 when every recipient got its message, 1 when the relay refused some (the others
    got it; they are listed), 2 when nothing was sent (not published, configuration, relay down, login
    or TLS failure).
    """
    from sitrep.report.distribution.errors import DistributionError
    from sitrep.report.distribution.send import send_issue

    if output is not None and not dry_run:
        fail("--output is for --dry-run (the .eml files); a real send writes no file but the send log")
    ws = workspace()
    chosen = parse_week(week, ws.timezone)
    try:
        result = send_issue(
            ws,
            chosen,
            actor=actor_of(actor),
            langs=_langs(lang),
            to=to,
            dry_run=dry_run,
            again=again,
            out_dir=output,
        )
    except DistributionError as exc:
        fail(str(exc))
    except _ERRORS as exc:
        fail(str(exc))
    if as_json:
        print_json(result.as_dict())
    else:
        _print(result)
    if not result.complete:
        raise typer.Exit(1)


def _print(result: SendResult) -> None:
    relay = result.relay
    login = f", as {relay.username}" if relay.username else ""
    via = f"{relay.host}:{relay.port} ({relay.security}{login}; [{relay.section}])"
    if result.dry_run:
        out.print(
            f"{result.week} revision {result.revision}: dry run, nothing sent (would go through {via})", markup=False
        )
    else:
        out.print(f"{result.week} revision {result.revision} through {via}", markup=False)
    for d in result.deliveries:
        out.print(f"[bold]{d.lang}[/]: {escape(d.subject)}")
        out.print(
            f"  Message-ID {d.message_id}; {_size(d.size)} with {d.attachment} ({_size(d.attachment_bytes)})",
            markup=False,
        )
        if result.dry_run:
            out.print(f"  to {len(d.recipients)}: {', '.join(d.recipients)}", markup=False)
            if d.eml:
                out.print(f"  written to {d.eml}", markup=False)
            if d.already:
                console.print(
                    f"[yellow]note:[/] this revision already went to {escape(', '.join(d.already))}; "
                    "sending it needs --again"
                )
            continue
        out.print(f"  sent to {len(d.accepted)} of {len(d.recipients)}: {', '.join(d.accepted) or '—'}", markup=False)
        for address, reason in d.refused.items():
            console.print(f"[bold red]not sent[/] to {escape(address)}: {escape(reason)}", markup=True)
        if d.refused:
            retry = " ".join(f"--to {a}" for a in d.refused)
            console.print(f"to try them again: sitrep send --week {result.week} --lang {d.lang} {retry}", markup=False)
