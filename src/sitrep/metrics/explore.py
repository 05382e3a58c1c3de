"""The event explorer: search the lake's events, list the events behind a number of a week's report,
and export a search as CSV or Parquet.

Every query is bounded in time: a search covers one ISO week or a ``start``/``end`` window of at most
``[explorer] max_days`` days, so it reads only the events files that can hold that window.  Pages are
newest first (``time_source``, then ``event_id``) and paginated by a keyset cursor — the last row's
``(time_source, event_id)`` — never by OFFSET, so page 5 costs what page 1 costs.

The explorer is an internal tool: its pages and exports carry restricted (TLP:AMBER/RED) events with
their TLP, for logged-in users.  Nothing public (the report, the site) is built from it.

Its pages are DuckDB SQL (compiling an Ibis expression costs more than a page's query), so the explorer
queries with DuckDB whatever ``[query] engine`` says (:func:`~sitrep.metrics.source.duckdb_backend`).
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa

from sitrep.config import Workspace
from sitrep.csvsafe import safe_cell_expr
from sitrep.enrich.sites import url_sql
from sitrep.feeds.sql import lit
from sitrep.hosts import normalise, under_any_sql
from sitrep.lake.schema import ARROW_SCHEMA
from sitrep.lake.store import Lake, events_source
from sitrep.metrics import weekly
from sitrep.metrics.explore_model import PAGE_COLUMNS, Behind, EventPage, EventQuery, EventRow, Export
from sitrep.metrics.source import EVENTS_SCHEMA, cursor, duckdb_backend, in_window
from sitrep.report.archive import load_issue
from sitrep.taxonomy import TLP
from sitrep.weeks import Week

DEFAULT_LIMIT = 50
MAX_EVENT_ID = 128  # as long as an incident's event link may be
MAX_LIMIT = 1000
EXPORT_FORMATS = ("csv", "parquet")
NUMBERS = weekly.BEHIND_KEYS
NEWEST_FIRST = "time_source DESC, event_id DESC"
EVERY_IPV4 = r"^\d+\.\d+\.\d+\.\d+$"


class ExploreError(ValueError):
    """A search that cannot run as asked; the message names the bad value (and the limit it breaks)."""


@dataclass(frozen=True)
class _Cursor:
    """Where the previous page ended, and which search it belongs to."""

    micros: int
    event_id: str
    search: str

    @property
    def moment(self) -> datetime:
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=self.micros)

    def encode(self) -> str:
        data = json.dumps([self.micros, self.event_id, self.search], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, search: str) -> _Cursor:
        bad = ExploreError(f"cursor {text!r} is not one this search returned (start again without it)")
        try:
            micros, event_id, found = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        except (ValueError, TypeError):
            raise bad from None
        if not (isinstance(micros, int) and isinstance(event_id, str) and found == search):
            raise bad
        return cls(micros, event_id, search)


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:12]


# -- the time window ------------------------------------------------------------------------------


def _moment(text: str, tz: ZoneInfo, *, what: str, is_end: bool) -> datetime:
    """A date is local midnight (an end date is inclusive: to the next midnight); a date-time without
    an offset is local time."""
    value = text.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime.combine(day + timedelta(days=1 if is_end else 0), time(0), tzinfo=tz).astimezone(UTC)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ExploreError(
            f"{what} {text!r} is not a date (2025-01-06) or an ISO date-time (2025-01-06T08:00, 2025-01-06T00:00Z)"
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=tz)).astimezone(UTC)


def window(workspace: Workspace, query: EventQuery) -> tuple[datetime, datetime]:
    """The search's ``[start, end)`` in UTC: its week, its start and end, or the last complete week.

    Raises :class:`ExploreError` for a window open at one end, empty, or longer than
    ``[explorer] max_days``.
    """
    tz = workspace.timezone
    limit = workspace.settings.explorer.max_days
    if query.week is not None:
        if query.start is not None or query.end is not None:
            raise ExploreError("give a week, or a start and an end, not both")
        return parse_week(query.week).bounds(tz)
    if query.start is None and query.end is None:
        return Week.last_complete(tz).bounds(tz)
    if query.start is None or query.end is None:
        given, missing = ("a start", "end") if query.start is not None else ("an end", "start")
        raise ExploreError(
            f"the time window has {given} but no {missing}: every search is bounded (a week, or a start "
            f"and an end at most {limit} days apart)"
        )
    start = _moment(query.start, tz, what="start", is_end=False)
    end = _moment(query.end, tz, what="end", is_end=True)
    if end <= start:
        raise ExploreError(f"the window ends ({query.end}) before it starts ({query.start})")
    if end - start > timedelta(days=limit):
        days = (end - start) / timedelta(days=1)
        raise ExploreError(
            f"the window {query.start} – {query.end} spans {days:g} days; a search covers at most {limit} days "
            "([explorer] max_days in sitrep.toml)"
        )
    return start, end


def parse_week(text: str | Week) -> Week:
    """An ISO week given as text (``2025-W01``), or as is."""
    if isinstance(text, Week):
        return text
    try:
        return Week.parse(text)
    except ValueError as exc:
        raise ExploreError(str(exc)) from None


# -- the filters ----------------------------------------------------------------------------------


def _ip_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise ExploreError(
            f"IP {text!r} is not an IP address or a network in CIDR form (192.0.2.1, 10.1.0.0/16, 2001:db8::/32)"
        ) from None


def _ipv4_in(column: str, net: ipaddress.IPv4Network, bind: _Binder) -> str:
    """IPv4 text in ``net``, by prefixes of the dotted text (the lake writes octets without leading
    zeros, so this is exact): the whole octets, then each value the partial octet may take."""
    octets = str(net.network_address).split(".")
    whole, part = divmod(net.prefixlen, 8)
    if whole == 4:
        return f"{column} = {bind(str(net.network_address))}"
    fixed = octets[:whole]
    values = [str(v) for v in range(int(octets[whole]), int(octets[whole]) + 2 ** (8 - part))] if part else [None]
    if whole == 3 and part:
        return f"list_contains({bind([*('.'.join([*fixed, v]) for v in values if v is not None)])}, {column})"
    prefixes = [".".join([*fixed, v] if v is not None else fixed) + "." for v in values]
    if prefixes == ["."]:  # 0.0.0.0/0: every IPv4 address
        return f"regexp_matches({column}, {bind(EVERY_IPV4)})"
    return "(" + " OR ".join(f"starts_with({column}, {bind(prefix)})" for prefix in prefixes) + ")"


def _url(text: str, con: duckdb.DuckDBPyConnection) -> tuple[str, bool]:
    """The URL normalised as ingest normalises ``source_url``, and whether it is a prefix (``…*``).

    The normalisation rule exists once, as ingest's DuckDB SQL (:func:`sitrep.enrich.sites.url_sql`);
    it is applied here to the one typed value, not to the lake.
    """
    value, prefix = _prefixed(text, "URL")
    found = con.execute(f"SELECT {url_sql('$1')}", [value]).fetchone()
    normal = str(found[0]) if found and found[0] else value
    if prefix and normal.endswith("/") and not value.endswith("/"):
        normal = normal[:-1]  # 'http://x.example*' must keep matching 'http://x.example.org/'
    return normal, prefix


def _prefixed(text: str, what: str) -> tuple[str, bool]:
    """A value and whether it is a prefix (typed with a trailing ``*``)."""
    value = text.strip()
    if not value.rstrip("*"):
        raise ExploreError(f"{what} {text!r} is empty")
    return (value[:-1], True) if value.endswith("*") else (value, False)


def _matches(column: str, value: tuple[str, bool], bind: _Binder) -> str:
    text, prefix = value
    return f"starts_with({column}, {bind(text)})" if prefix else f"{column} = {bind(text)}"


def _classification(text: str) -> tuple[str, ...]:
    parts = tuple(p.strip().lower() for p in text.split("/"))
    if not 1 <= len(parts) <= 3 or not all(parts):
        raise ExploreError(
            f"class {text!r} is not taxonomy, taxonomy/type or taxonomy/type/identifier "
            "(malicious-code, malicious-code/infected-system)"
        )
    return parts


def _domain(text: str) -> str:
    host = normalise(text)
    if not host or any(c.isspace() or c in "/?#@" for c in host) or "://" in text:
        raise ExploreError(f"domain {text!r} is not a host name (example.gov.cn)")
    return host


def _event_id(text: str) -> str:
    value = text.strip()
    if not value or len(value) > MAX_EVENT_ID or any(not c.isprintable() for c in value):
        raise ExploreError(
            f"event ID {text!r} is not an event ID of the lake (printable, 1 to {MAX_EVENT_ID} characters)"
        )
    return value


def days_around(workspace: Workspace, moment: datetime) -> tuple[date, date]:
    """The first and last local day (inclusive) of the longest window a search may cover
    (``[explorer] max_days``) centred on ``moment``'s day: where an incident's linked events are looked
    for, around the time it was reported, without an unbounded scan of the lake."""
    # A day short of the limit: a window across a daylight-saving change is an hour longer.
    days = max(workspace.settings.explorer.max_days - 1, 1)
    first = moment.astimezone(workspace.timezone).date() - timedelta(days=(days - 1) // 2)
    return first, first + timedelta(days=days - 1)


def _tlp(text: str) -> TLP:
    try:
        return TLP.parse(text)
    except ValueError:
        raise ExploreError(f"TLP {text!r} is not a TLP label ({', '.join(t.value for t in TLP)})") from None


@dataclass(frozen=True)
class _Search:
    """A checked query: the window, the normalised filters, and the identity its cursors carry."""

    start: datetime
    end: datetime
    event_id: str | None
    ip: ipaddress.IPv4Network | ipaddress.IPv6Network | None
    domain: str | None
    url: tuple[str, bool] | None
    feed: tuple[str, bool] | None
    classification: tuple[str, ...] | None
    tlp: TLP | None
    limit: int

    @property
    def fingerprint(self) -> str:
        fields = asdict(self)
        fields.pop("limit")  # a page of another size continues the same search
        return _fingerprint(sorted((k, str(v)) for k, v in fields.items()))


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise ExploreError(f"limit {limit} is out of range: a page holds 1 to {MAX_LIMIT} events")
    return limit


def check(workspace: Workspace, query: EventQuery) -> _Search:
    """The query with every value checked and normalised; :class:`ExploreError` names the first bad one."""
    start, end = window(workspace, query)
    return _Search(
        start=start,
        end=end,
        event_id=_event_id(query.event_id) if query.event_id is not None else None,
        ip=_ip_network(query.ip) if query.ip is not None else None,
        domain=_domain(query.domain) if query.domain is not None else None,
        url=_url(query.url, cursor(workspace)) if query.url is not None else None,
        feed=_prefixed(query.feed, "feed") if query.feed is not None else None,
        classification=_classification(query.classification) if query.classification is not None else None,
        tlp=_tlp(query.tlp) if query.tlp is not None else None,
        limit=_limit(query.limit),
    )


class _Binder:
    """Where the values of a search's SQL go: prepared parameters (``$1``, ``$2``…, collected in
    ``params``) for a page run on a DuckDB cursor, or SQL literals for an export that Ibis runs."""

    def __init__(self, *, inline: bool = False) -> None:
        self.inline = inline
        self.params: list[object] = []

    def __call__(self, value: str | int | datetime | list[str]) -> str:
        if self.inline:
            return _literal(value)
        self.params.append(value)
        return f"${len(self.params)}"


def _literal(value: str | int | datetime | list[str]) -> str:
    if isinstance(value, datetime):
        return f"CAST({lit(value.astimezone(UTC).isoformat())} AS TIMESTAMPTZ)"
    if isinstance(value, list):
        return "CAST([" + ", ".join(lit(v) for v in value) + "] AS VARCHAR[])"
    if isinstance(value, int):
        return str(int(value))
    return lit(value)


def _where(search: _Search, source: str, bind: _Binder, con: duckdb.DuckDBPyConnection) -> str:
    """The SQL condition on the events of ``source`` (SQL of a table of the lake schema): in the
    window and passing every filter.  The one definition of each filter: pages and exports use it."""
    conditions = [_in_window(search.start, search.end, bind)]
    if search.event_id is not None:
        conditions.append(f"event_id = {bind(search.event_id)}")
    if search.domain is not None:
        conditions.append(under_any_sql("site", [search.domain]))
    if search.url is not None:
        conditions.append(_matches("source_url", search.url, bind))
    if search.feed is not None:
        conditions.append(_matches("feed_name", search.feed, bind))
    if search.classification is not None:
        columns = ("classification_taxonomy", "classification_type", "classification_identifier")
        conditions.extend(f"{c} = {bind(v)}" for c, v in zip(columns, search.classification, strict=False))
    if search.tlp is not None:
        conditions.append(f"upper(tlp) = {bind(search.tlp.value)}")
    if isinstance(search.ip, ipaddress.IPv4Network):
        conditions.append(_ipv4_in("source_ip", search.ip, bind))
    if isinstance(search.ip, ipaddress.IPv6Network):
        conditions.append(_ipv6_in(search.ip, source, " AND ".join(conditions), bind, con))
    return " AND ".join(conditions)


def _in_window(start: datetime, end: datetime, bind: _Binder) -> str:
    """Events whose source time is in ``[start, end)`` (the SQL of :func:`~sitrep.metrics.source.in_window`)."""
    return f"time_source >= {bind(start)} AND time_source < {bind(end)}"


def _ipv6_in(net: ipaddress.IPv6Network, source: str, where: str, bind: _Binder, con: duckdb.DuckDBPyConnection) -> str:
    """The condition that an IPv6 source is in ``net``.  IPv6 text has many spellings of one address
    (``2001:db8::1``, ``2001:0db8:0:0::1``), so the distinct IPv6 sources of the rows ``where``
    selects are compared as addresses — once per distinct address, not per row — and the matching
    spellings listed."""
    candidates = f"SELECT DISTINCT source_ip FROM {source} WHERE {where} AND contains(source_ip, ':')"
    spelled = [row[0] for row in con.execute(candidates, bind.params).fetchall()]
    found = [ip for ip, address in ((ip, _as_address(ip)) for ip in spelled) if address is not None and address in net]
    return f"list_contains({bind(found)}, source_ip)" if found else "false"


def _as_address(text: str) -> ipaddress.IPv6Address | None:
    try:
        found = ipaddress.ip_address(text)
    except ValueError:
        return None
    return found if isinstance(found, ipaddress.IPv6Address) else None


# -- pages ----------------------------------------------------------------------------------------


# A page is first looked for among the window's newest day of events (the files of one day); only
# when that day holds too few is the rest of the window read.  Rows of the newer part are all newer
# than those of the older, so the page is the same; a common search opens a seventh of a week's files.
NEWEST_SPAN = timedelta(days=1)

# The rows of a page from the part ``[start, end)`` of the window: after the cursor, at most so many.
Fetch = Callable[[datetime, datetime, "_Cursor | None", int], list[dict[str, Any]]]


def _page_sql(rows: str, after: _Cursor | None, wanted: int, bind: _Binder) -> str:
    """SQL of a page of the rows of the query or table ``rows``: after the cursor, newest first."""
    later = "true"
    if after is not None:
        at = bind(after.moment)
        later = f"(time_source < {at} OR (time_source = {at} AND event_id < {bind(after.event_id)}))"
    return f"SELECT {', '.join(PAGE_COLUMNS)} FROM {rows} WHERE {later} ORDER BY {NEWEST_FIRST} LIMIT {int(wanted)}"


# The SQL condition on the events of ``source`` in the part ``[start, end)``, its values bound by the
# binder; the cursor runs what the condition itself must look up.
Where = Callable[[str, datetime, datetime, _Binder, duckdb.DuckDBPyConnection], str]


def _lake_pages(workspace: Workspace, where: Where) -> Fetch:
    """Pages of the lake's events that ``where`` selects, as SQL with prepared parameters on a DuckDB
    cursor of its own: no Ibis expression to compile per page."""
    lake = Lake.of(workspace)
    con = cursor(workspace)

    def fetch(start: datetime, end: datetime, after: _Cursor | None, wanted: int) -> list[dict[str, Any]]:
        source = events_source(lake, lake.event_files(start, end))
        bind = _Binder()
        rows = f"(SELECT * FROM {source} WHERE {where(source, start, end, bind, con)})"
        return con.sql(_page_sql(rows, after, wanted, bind), params=bind.params).to_arrow_table().to_pylist()

    return fetch


def _page(
    fetch: Fetch, start: datetime, end: datetime, limit: int, cursor: _Cursor | None, search: str
) -> tuple[list[EventRow], str | None]:
    """The page after ``cursor`` of the rows ``fetch`` gives for parts of the window ``[start, end)``."""
    if cursor is not None:  # nothing after the cursor's time can be on the page: files past it stay shut
        end = min(end, cursor.moment + timedelta(microseconds=1))
    split = max(start, end - NEWEST_SPAN)
    found: list[dict[str, Any]] = []
    for part_start, part_end in ((split, end), (start, split)):
        if part_start >= part_end or len(found) > limit:
            continue
        found += fetch(part_start, part_end, cursor, limit + 1 - len(found))
    events = [EventRow(**{**r, "time_source": r["time_source"].astimezone(UTC).isoformat()}) for r in found[:limit]]
    if len(found) <= limit:
        return events, None
    last = found[limit - 1]
    micros = (last["time_source"] - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    return events, _Cursor(micros, last["event_id"], search).encode()


def search_events(workspace: Workspace, query: EventQuery) -> EventPage:
    """One page of the events that match ``query``, newest first, and the cursor of the next page.

    Raises :class:`ExploreError` for a bad value: an IP or network, a domain, a class, a TLP, a week or
    date, an unbounded or over-long window, a limit out of range, a cursor of another search.
    """
    search = check(workspace, query)
    cursor = _Cursor.decode(query.after, search.fingerprint) if query.after else None

    def where(source: str, start: datetime, end: datetime, bind: _Binder, con: duckdb.DuckDBPyConnection) -> str:
        return _where(replace(search, start=start, end=end), source, bind, con)

    fetch = _lake_pages(workspace, where)
    events, next_cursor = _page(fetch, search.start, search.end, search.limit, cursor, search.fingerprint)
    return EventPage(
        start=search.start.isoformat(),
        end=search.end.isoformat(),
        limit=search.limit,
        events=tuple(events),
        next_cursor=next_cursor,
    )


def events_behind(
    workspace: Workspace,
    week: Week | str,
    number: str,
    *,
    limit: int = DEFAULT_LIMIT,
    after: str | None = None,
) -> EventPage:
    """One page of the events behind ``number`` (an indicator key or ``malware_hosting``) in ``week``'s
    report, newest first.

    For a published week these are the event IDs its issue froze (what the published number counted);
    otherwise (a draft, or a withdrawn issue) the events the indicator's own definition selects now
    (:func:`sitrep.metrics.weekly.behind`).  Raises :class:`ExploreError` for an unknown number, a bad
    week, limit or cursor; :class:`~sitrep.report.archive.IssueError` for a damaged issue file.
    """
    chosen = parse_week(week)
    if number not in NUMBERS:
        raise ExploreError(f"no number {number!r} in a week's report; the numbers are {', '.join(NUMBERS)}")
    limit = _limit(limit)
    search = _fingerprint("behind", str(chosen), number)
    cursor = _Cursor.decode(after, search) if after else None
    start, end = chosen.bounds(workspace.timezone)
    issue = load_issue(workspace, chosen)
    published = issue is not None and issue.withdrawn is None
    if issue is not None and published:
        ids = issue.facts.evidence.get(number)
        if ids is None:
            raise ExploreError(f"the published issue of {chosen} froze no event IDs for {number!r}")

        def frozen(source: str, s: datetime, e: datetime, bind: _Binder, con: duckdb.DuckDBPyConnection) -> str:
            ids_in = f"event_id IN (SELECT unnest({bind(list(ids))}))"  # a hash semi-join
            return f"{_in_window(s, e, bind)} AND {ids_in}"

        fetch = _lake_pages(workspace, frozen)
        total = len(ids)
    else:
        on = duckdb_backend(workspace)
        rows = weekly.behind(workspace, chosen, number, on=on)
        total = int(rows.count().to_pyarrow().as_py())

        def fetch(s: datetime, e: datetime, after: _Cursor | None, wanted: int) -> list[dict[str, Any]]:
            # The indicator's definition is an Ibis expression: its SQL is the rows of the same page SQL.
            part = rows.filter(in_window(rows, s, e))
            on._run_pre_execute_hooks(part)  # registers its in-memory tables, as Ibis does before a query
            page = _page_sql(f"({on.compile(part)})", after, wanted, _Binder(inline=True))
            return on.con.sql(page).to_arrow_table().to_pylist()

    events, next_cursor = _page(fetch, start, end, limit, cursor, search)
    return EventPage(
        start=start.isoformat(),
        end=end.isoformat(),
        limit=limit,
        events=tuple(events),
        next_cursor=next_cursor,
        behind=Behind(week=str(chosen), number=number, frozen=published, events=total),
    )


# -- exports --------------------------------------------------------------------------------------


def export_events(workspace: Workspace, query: EventQuery, path: Path, fmt: str) -> Export:
    """Write every event ``query`` matches (all pages, newest first, every lake column) to ``path`` as
    CSV or Parquet, streamed in Arrow batches; the file appears whole or not at all.

    CSV cells that would start a spreadsheet formula are neutralised (:mod:`sitrep.csvsafe`); Parquet
    keeps the lake's schema.  ``query.limit`` and ``query.after`` do not apply to an export.
    """
    if fmt not in EXPORT_FORMATS:
        raise ExploreError(f"export format {fmt!r}: use {' or '.join(EXPORT_FORMATS)}")
    search = check(workspace, query)
    on = duckdb_backend(workspace)
    lake = Lake.of(workspace)
    source = events_source(lake, lake.event_files(search.start, search.end))
    where = _where(search, source, _Binder(inline=True), on.con)
    columns = ", ".join(ARROW_SCHEMA.names)
    matching = f"SELECT {columns} FROM {source} WHERE {where} ORDER BY {NEWEST_FIRST}"
    rows = on.sql(matching, schema=EVENTS_SCHEMA)
    if fmt == "csv":
        rows = rows.select(
            *(
                safe_cell_expr(rows[name]).name(name) if pa.types.is_string(ARROW_SCHEMA.field(name).type) else name
                for name in ARROW_SCHEMA.names
            )
        )
    count = int(rows.count().to_pyarrow().as_py())
    _write_atomically(path, lambda tmp: rows.to_csv(tmp) if fmt == "csv" else rows.to_parquet(tmp, compression="zstd"))
    return Export(path=str(path), format=fmt, events=count)


def _write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """``write`` into a work file beside ``path``, then move it into place (the engine streams the
    rows to the file itself: DuckDB's COPY on the default backend)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise ExploreError(f"cannot write {path}: {exc.strerror or exc}") from None
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except (OSError, duckdb.Error) as exc:
        raise ExploreError(f"cannot write {path}: {getattr(exc, 'strerror', None) or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
