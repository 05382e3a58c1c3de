"""``sitrep metrics``: one week's key indicators and breakdowns."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from sitrep.cli.common import EngineOption, fail, out, print_json, user_errors, workspace
from sitrep.enrich.regions import name as region_name
from sitrep.lake.errors import LakeError
from sitrep.report.wording import change
from sitrep.weeks import Week

if TYPE_CHECKING:
    from sitrep.metrics.model import WeekMetrics


def parse_week(text: str | None, ws_timezone) -> Week:
    """The ``--week`` option: an ISO week, or by default the last complete week."""
    if text is None:
        return Week.last_complete(ws_timezone)
    try:
        return Week.parse(text)
    except ValueError as exc:
        fail(str(exc))


def metrics(
    week: Annotated[
        str | None,
        typer.Option("--week", "-w", help="ISO week, e.g. 2025-W01 (default: the last complete week)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the documented JSON (docs/indicators.md).")] = False,
    top: Annotated[int, typer.Option("--top", help="Rows in the top-N breakdowns.")] = 10,
    engine: EngineOption = None,
) -> None:
    """Compute a week's 8 key indicators, last week's values and the change, and the breakdowns.

    Weeks are ISO weeks, Monday 00:00 to Sunday 24:00 in the workspace time zone.  Last week's value
    and the change show "—" (null in --json) when the lake holds nothing before the week.
    """
    from sitrep.metrics.weekly import compute

    ws = workspace(engine)
    chosen = parse_week(week, ws.timezone)
    with user_errors(LakeError):
        data = compute(ws, chosen, top=top)
    if as_json:
        print_json(data.as_dict())
        return
    print_metrics(data)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def print_metrics(data: WeekMetrics) -> None:
    """The human-readable form of a week's metrics (as ``sitrep metrics`` prints it)."""
    out.print(f"[bold]{data.week}[/]  {data.start} – {data.end}  ({data.timezone})")
    table = Table(show_edge=False)
    table.add_column("indicator")
    for name in ("this week", "last week", "change"):
        table.add_column(name, justify="right")
    for item in data.indicators.values():
        last = "—" if item.previous is None else f"{item.previous:,}"
        table.add_row(item.zh, f"{item.value:,}", last, change(item.value, item.previous, item.change_pct, "zh")[0])
    out.print(table)
    b = data.breakdowns
    if b.malware_families:
        out.print("Top malware families: " + ", ".join(f"{f.name} ({f.hosts:,})" for f in b.malware_families))
    if b.regions:
        out.print("Top regions: " + ", ".join(f"{region_name(r.code)} ({r.hosts:,})" for r in b.regions))
    mh = b.malware_hosting
    out.print(
        f"Malware hosting: {mh.domains:,} domains ({_pct(mh.foreign_domain_pct)} foreign, "
        f"{_pct(mh.com_domain_pct)} .com), {mh.ips:,} IPs ({_pct(mh.foreign_ip_pct)} foreign)"
    )
    ph = b.phishing
    per_ip = "—" if ph.pages_per_ip is None else f"{ph.pages_per_ip}"
    out.print(f"Phishing: {ph.pages:,} pages on {ph.domains:,} domains and {ph.ips:,} IPs ({per_ip} per IP)")
    v = b.vulnerabilities
    out.print(
        f"Vulnerabilities: {v.total:,} new — 高 {v.high:,}, 中 {v.medium:,}, 低 {v.low:,}; "
        f"{v.patched:,} with a vendor patch"
    )
