"""The event explorer's typed values: the query as typed, and the pages and exports it returns.

:func:`sitrep.metrics.explore.search_events` and :func:`~sitrep.metrics.explore.events_behind` return an
:class:`EventPage`; its JSON form (:meth:`~sitrep.results.Result.as_dict`) is what ``sitrep events
search --json`` prints and what the web desk's API serves.  Pages hold every event's TLP: the explorer
is an internal tool, for logged-in users only, and nothing public is built from it
(``docs/explorer.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sitrep.results import Result

# The columns an explorer page shows for each event, in this order (exports carry every column).
PAGE_COLUMNS = (
    "event_id",
    "time_source",
    "feed_name",
    "feed_provider",
    "classification_taxonomy",
    "classification_type",
    "classification_identifier",
    "source_ip",
    "source_port",
    "source_asn",
    "source_fqdn",
    "source_url",
    "site",
    "country",
    "region",
    "domestic",
    "is_gov",
    "malware_name",
    "event_description_target",
    "vulnerability_id",
    "tlp",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class EventQuery:
    """A search as the user typed it (a form, an API call or the command line): every filter is text,
    checked by :func:`~sitrep.metrics.explore.search_events`, which names a bad value.

    Filters left as None do not filter.  The time window is either ``week`` or both ``start`` and
    ``end``; with neither it is the last complete week.  ``after`` is the cursor of the page before.
    """

    event_id: str | None = None  # one event, by its ID (an incident's linked event)
    ip: str | None = None  # an address, or a network in CIDR form (10.1.0.0/16, 2001:db8::/32)
    domain: str | None = None  # the site is the host or under it
    url: str | None = None  # exact (normalised as ingest does), or a prefix ending in '*'
    feed: str | None = None  # feed name, or a prefix ending in '*'
    classification: str | None = None  # taxonomy, taxonomy/type or taxonomy/type/identifier
    tlp: str | None = None  # one TLP label (CLEAR, GREEN, AMBER, AMBER+STRICT, RED)
    week: str | None = None  # ISO week, 2025-W01
    start: str | None = None  # date (local midnight) or ISO date-time, inclusive
    end: str | None = None  # date (inclusive: to the next local midnight) or ISO date-time (exclusive)
    limit: int = 50
    after: str | None = None


@dataclass(frozen=True, slots=True)
class EventRow(Result):
    """One event as a page shows it (``PAGE_COLUMNS``); ``time_source`` is ISO 8601 in UTC."""

    event_id: str
    time_source: str
    feed_name: str | None
    feed_provider: str | None
    classification_taxonomy: str | None
    classification_type: str | None
    classification_identifier: str | None
    source_ip: str | None
    source_port: int | None
    source_asn: int | None
    source_fqdn: str | None
    source_url: str | None
    site: str | None
    country: str | None
    region: str | None
    domestic: bool | None
    is_gov: bool | None
    malware_name: str | None
    event_description_target: str | None
    vulnerability_id: str | None
    tlp: str | None


@dataclass(frozen=True, slots=True)
class Behind(Result):
    """Which number of which week a page lists the events of; ``frozen`` when they are a published
    issue's frozen IDs rather than computed now; ``events``: how many events there are in all."""

    week: str
    number: str
    frozen: bool
    events: int


@dataclass(frozen=True, slots=True)
class EventPage(Result):
    """One page of events, newest first (by ``time_source``, then ``event_id``).

    ``start``/``end`` are the searched window ``[start, end)`` in UTC; ``next_cursor`` fetches the
    following page (None on the last one); ``behind`` is set by ``events_behind``.
    """

    start: str
    end: str
    limit: int
    events: tuple[EventRow, ...]
    next_cursor: str | None
    behind: Behind | None = None


@dataclass(frozen=True, slots=True)
class Export(Result):
    """A written export: the file, its format (``csv`` or ``parquet``) and how many events it holds."""

    path: str
    format: str
    events: int
