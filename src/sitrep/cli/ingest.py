"""``sitrep ingest``, ``sitrep formats``, ``sitrep rejects``: feeds into the event lake."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from sitrep.cli.common import console, fail, optional_workspace, out, print_json, user_errors, workspace
from sitrep.cli.progress import file_progress
from sitrep.feeds import UnknownFormat, all_feeds, generic_csv, get_feed
from sitrep.feeds.base import Feed
from sitrep.feeds.shadowserver import SchemaError
from sitrep.lake.engines import ingest_paths
from sitrep.lake.errors import LakeError
from sitrep.lake.ingest import IngestResult
from sitrep.lake.rejects import list_rejects


def ingest(
    files: Annotated[
        list[Path], typer.Argument(help="Feed files (.csv, .json, .jsonl, .xml, .txt; .gz and .zip too).")
    ],
    format: Annotated[
        str | None,
        typer.Option("--format", "-f", help="Format name (see 'sitrep formats'); detected from content if omitted."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the per-file summary as JSON on stdout.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--mapping",
            help="Column-mapping TOML for --format generic-csv (see docs/feeds.md).",
            dir_okay=False,
        ),
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option(
            "--engine",
            metavar="[duckdb|spark]",
            help="Where the files are read: duckdb (this process, one file after another) or spark (each "
            "file a task on Apache Spark, [query.spark] in sitrep.toml, committed here in the order given; "
            "the files and the workspace folder must be at the same path on every executor). The same events "
            "either way. Default: [query] engine of sitrep.toml (duckdb). See docs/deploy.md.",
        ),
    ] = None,
) -> None:
    """Ingest feed files into the event lake.

    Each file is mapped to normalised events, enriched (domestic/foreign, region, site, GOV) and
    deduplicated; ingesting a file twice adds nothing.  Malformed rows are rejected with file, line and
    reason and kept ('sitrep rejects').  Prints read = accepted + duplicates + rejected per file.
    Exit code 1 when a file could not be ingested at all.
    """
    ws = workspace(engine)
    with user_errors(SchemaError):
        all_feeds(ws.shadowserver_schema)  # a bad schema file is one error, not one per file
    feed = _feed(format, mapping, ws.shadowserver_schema)
    show_bar = not quiet and not as_json and console.is_terminal
    # One call for all files: the lake lock, the DuckDB session and its reference tables (or the Spark
    # session) serve all.
    with file_progress(show_bar) as reporter, user_errors(LakeError):
        results = ingest_paths(ws, files, feed=feed, reporter=reporter)
    if as_json:
        print_json(
            [
                {k: r.as_dict()[k] for k in ("file", "format", "read", "accepted", "duplicates", "rejected", "error")}
                for r in results
            ]
        )
    else:
        _print_results(results)
    if any(r.error for r in results):
        raise typer.Exit(1)


def _feed(format: str | None, mapping: Path | None, schema: Path | None) -> Feed | None:
    """The feed --format names (detect when None); generic-csv is built from its --mapping file."""
    if mapping is not None or format == generic_csv.NAME:
        if format not in (None, generic_csv.NAME):
            fail(f"--mapping goes with --format {generic_csv.NAME}, not --format {format}")
        if mapping is None:
            fail(f"--format {generic_csv.NAME} needs --mapping MAP.toml (see docs/feeds.md)")
        try:
            return generic_csv.feed_from_mapping(mapping)
        except generic_csv.MappingError as exc:
            fail(str(exc))
    if format is None:
        return None
    try:
        return get_feed(format, schema)
    except UnknownFormat as exc:
        fail(str(exc))


def _print_results(results: list[IngestResult]) -> None:
    table = Table(title=None, show_edge=False)
    for name in ("file", "format", "read", "accepted", "duplicates", "rejected", "seconds"):
        table.add_column(name, justify="right" if name not in ("file", "format") else "left")
    for r in results:
        if r.error:
            table.add_row(r.file, r.format or "?", "-", "-", "-", "-", "-")
        else:
            table.add_row(
                r.file,
                r.format,
                *(f"{v:,}" for v in (r.read, r.accepted, r.duplicates, r.rejected)),
                f"{r.seconds:.2f}",
            )
    out.print(table)
    for r in results:
        if r.error:
            console.print(f"[red]error:[/] {r.file}: {r.error}")
        elif r.rejected:
            console.print(f"{r.file}: {r.rejected:,} rejected row(s); see 'sitrep rejects --file {r.file}'")


def formats(
    search: Annotated[
        str | None, typer.Argument(help="Only formats whose name, provider or summary contains this text.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """List the feed formats 'sitrep ingest' reads (use the name with --format).

    Shadowserver's report types (170) come from the built-in table, or from the schema file that
    '[feeds] shadowserver_schema' in the workspace's sitrep.toml names.  'class' is the RSIT class the
    format gives its rows (taxonomy/type/identifier; '*' where each row decides).  Example:
    'sitrep formats sinkhole'.
    """
    feeds = [
        {"name": f.name, "provider": f.provider, "class": f.classification, "summary": f.summary} for f in _all_feeds()
    ]
    if search:
        needle = search.lower()
        feeds = [f for f in feeds if needle in f"{f['name']} {f['provider']} {f['summary']}".lower()]
    if as_json:
        print_json(feeds)
        return
    table = Table(show_edge=False)
    # Names are pasted into --format: they stay whole; class and summary wrap (--json has the provider).
    table.add_column("name", no_wrap=True, min_width=max((len(f["name"]) for f in feeds), default=4))
    table.add_column("class", overflow="fold", ratio=1)
    table.add_column("summary", overflow="fold", ratio=2)
    for f in feeds:
        table.add_row(f["name"], f["class"], f["summary"])
    out.print(table)


def _all_feeds() -> tuple[Feed, ...]:
    ws = optional_workspace()
    with user_errors(SchemaError):
        return all_feeds(ws.shadowserver_schema if ws else None)


def rejects(
    file: Annotated[str | None, typer.Option("--file", help="Only rows rejected from this file (substring).")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="Show at most this many rows (0: all).")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Show rejected rows with their file, line and reason (newest ingest first)."""
    ws = workspace()
    with user_errors(LakeError):
        rows = list_rejects(ws, file=file, limit=limit or None)
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("No rejected rows.")
        return
    table = Table(show_edge=False)
    for name in ("file", "line", "reason", "raw"):
        table.add_column(name, overflow="fold")
    for r in rows:
        raw = (r["raw"] or "")[:200]
        table.add_row(r["file"], str(r["line"]), r["reason"], raw)
    out.print(table)
