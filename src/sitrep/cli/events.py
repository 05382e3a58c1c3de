"""``sitrep events``: the event explorer — search the lake, the events behind a report's number, export."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from sitrep.cli.common import console, fail, print_json, workspace
from sitrep.config import ConfigError
from sitrep.lake.errors import LakeError
from sitrep.report.archive import IssueError

if TYPE_CHECKING:
    from sitrep.metrics.explore_model import EventPage, EventQuery

app = typer.Typer(
    help=(
        "The event explorer: search events by IP, domain, URL, feed, class and TLP within a bounded time window, "
        "list the events behind a number of a week's report, export a search as CSV or Parquet. "
        "Internal: results include TLP:AMBER and RED events (see docs/explorer.md)."
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
)

EventOption = Annotated[
    str | None,
    typer.Option("--event", help="Only the event with this ID (an incident's linked event: 'incidents show')."),
]
IpOption = Annotated[
    str | None, typer.Option("--ip", help="Source IP address, or a network in CIDR form (10.1.0.0/16, 2001:db8::/32).")
]
DomainOption = Annotated[
    str | None, typer.Option("--domain", help="Site equal to this host or under it (example.gov.cn).")
]
UrlOption = Annotated[
    str | None,
    typer.Option("--url", help="Exact URL (normalised as ingest does), or a prefix ending in '*' (http://x.cn/a*)."),
]
FeedOption = Annotated[
    str | None, typer.Option("--feed", help="Feed name (see 'sitrep formats'), or a prefix ending in '*'.")
]
ClassOption = Annotated[
    str | None,
    typer.Option(
        "--class", help="Classification: taxonomy, taxonomy/type or taxonomy/type/identifier (fraud/phishing)."
    ),
]
TlpOption = Annotated[str | None, typer.Option("--tlp", help="Only events with this TLP label (CLEAR … RED).")]
WeekOption = Annotated[
    str | None,
    typer.Option(
        "--week", "-w", help="ISO week, e.g. 2025-W01 (default, without --start/--end: the last complete week)."
    ),
]
StartOption = Annotated[
    str | None,
    typer.Option("--start", help="Window start: a date (local midnight) or an ISO date-time; needs --end."),
]
EndOption = Annotated[
    str | None,
    typer.Option(
        "--end",
        help="Window end: a date (inclusive) or an ISO date-time (exclusive); needs --start. "
        "A window spans at most [explorer] max_days (31).",
    ),
]
LimitOption = Annotated[int, typer.Option("--limit", "-n", help="Events per page (1–1000).")]
AfterOption = Annotated[
    str | None, typer.Option("--after", help="Cursor printed by the previous page: show the page after it.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the page as JSON (docs/explorer.md).")]


@contextmanager
def _errors() -> Iterator[None]:
    """A core error is one line: its message as text (it may quote '[explorer]' or a hostile value)."""
    from sitrep.metrics.explore import ExploreError

    try:
        yield
    except (ExploreError, LakeError, IssueError, ConfigError) as exc:
        fail(str(exc))


def _query(
    ip: str | None,
    domain: str | None,
    url: str | None,
    feed: str | None,
    classification: str | None,
    tlp: str | None,
    week: str | None,
    start: str | None,
    end: str | None,
    limit: int = 50,
    after: str | None = None,
    event_id: str | None = None,
) -> EventQuery:
    from sitrep.metrics.explore_model import EventQuery

    return EventQuery(
        event_id=event_id,
        ip=ip,
        domain=domain,
        url=url,
        feed=feed,
        classification=classification,
        tlp=tlp,
        week=week,
        start=start,
        end=end,
        limit=limit,
        after=after,
    )


@app.command("search")
def search(
    event: EventOption = None,
    ip: IpOption = None,
    domain: DomainOption = None,
    url: UrlOption = None,
    feed: FeedOption = None,
    classification: ClassOption = None,
    tlp: TlpOption = None,
    week: WeekOption = None,
    start: StartOption = None,
    end: EndOption = None,
    limit: LimitOption = 50,
    after: AfterOption = None,
    as_json: JsonOption = False,
) -> None:
    """Search events, newest first, one page at a time (the next page: --after the printed cursor)."""
    from sitrep.metrics.explore import search_events

    ws = workspace()
    query = _query(ip, domain, url, feed, classification, tlp, week, start, end, limit, after, event)
    with _errors():
        page = search_events(ws, query)
    _show(page, as_json)


@app.command("behind")
def behind(
    number: Annotated[
        str,
        typer.Argument(
            help="An indicator key (infected_hosts, defaced_sites, … new_high_vulnerabilities, as in "
            "'sitrep metrics --json') or malware_hosting.",
            show_default=False,
        ),
    ],
    week: Annotated[
        str | None,
        typer.Option("--week", "-w", help="ISO week, e.g. 2025-W01 (default: the last complete week)."),
    ] = None,
    limit: LimitOption = 50,
    after: AfterOption = None,
    as_json: JsonOption = False,
) -> None:
    """The events behind one number of a week's report: the IDs a published issue froze, or for a draft
    week the events the indicator counts now."""
    from sitrep.metrics.explore import events_behind
    from sitrep.weeks import Week

    ws = workspace()
    with _errors():
        page = events_behind(ws, week or Week.last_complete(ws.timezone), number, limit=limit, after=after)
    _show(page, as_json)


@app.command("export")
def export(
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write (replaced whole).")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv or parquet.")] = "csv",
    ip: IpOption = None,
    domain: DomainOption = None,
    url: UrlOption = None,
    feed: FeedOption = None,
    classification: ClassOption = None,
    tlp: TlpOption = None,
    week: WeekOption = None,
    start: StartOption = None,
    end: EndOption = None,
) -> None:
    """Export every event a search matches (all pages, every column) as CSV or Parquet.

    CSV cells that would start a spreadsheet formula are written with a leading apostrophe.
    """
    from sitrep.metrics.explore import export_events

    ws = workspace()
    query = _query(ip, domain, url, feed, classification, tlp, week, start, end)
    with _errors():
        done = export_events(ws, query, output, fmt.strip().lower())
    noun = "event" if done.events == 1 else "events"
    console.print(Text(f"Wrote {done.events:,} {noun} to {done.path} ({done.format})."))


def _show(page: EventPage, as_json: bool) -> None:
    if as_json:
        print_json(page.as_dict())
        return
    if page.behind is not None:
        b = page.behind
        source = "frozen in the published issue" if b.frozen else "computed now (draft)"
        console.print(f"{b.events:,} events behind {b.number} of {b.week}, {source}.")
    if not page.events:
        console.print(f"No events in {page.start} – {page.end}.")
        return
    # One line per event, every value whole (what one greps for), the long site or URL last.
    typer.echo(_line("time (UTC)", "event", "TLP", "type", "source IP", "URL, site or vulnerability"))
    for e in page.events:
        typer.echo(
            _line(
                e.time_source[:19].replace("T", " "),
                e.event_id,
                e.tlp or "-",
                e.classification_type or "-",
                e.source_ip or "-",
                e.source_url or e.site or e.vulnerability_id or "-",
            )
        )
    if page.next_cursor:
        console.print(f"More: add --after {page.next_cursor}")


def _line(time: str, event: str, tlp: str, type_: str, ip: str, where: str) -> str:
    return f"{time:<19}  {event:<16}  {tlp:<5}  {type_:<22}  {ip:<15}  {where}".rstrip()
