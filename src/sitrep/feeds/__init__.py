"""Feed formats: Shadowserver's report types from one table (:mod:`.shadowserver`), and one small module
per other format, each declaring a module-level ``FEED`` or ``FEEDS``.

:func:`all_feeds` lists them; :func:`detect` recognises a file's format from its first bytes.  Functions
take the workspace's Shadowserver schema file (``Workspace.shadowserver_schema``; None: the built-in
table), since a newer schema brings report types of its own.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from pathlib import Path

from sitrep.feeds import shadowserver
from sitrep.feeds.base import Feed, Sample

_NOT_FEEDS = {"base", "sql", "shadowserver"}


class UnknownFormat(Exception):
    """No feed format recognises the file, or the named format does not exist."""


@cache
def _module_feeds() -> tuple[Feed, ...]:
    """The formats of the feed modules, in recognition order (most specific first)."""
    feeds: list[Feed] = []
    for info in pkgutil.iter_modules(__path__):
        if info.name in _NOT_FEEDS or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        # A module without FEED/FEEDS (generic_csv builds its feed from a mapping file) is no format.
        found = getattr(module, "FEEDS", None) or getattr(module, "FEED", None)
        if found is None:
            continue
        feeds.extend(found if isinstance(found, tuple | list) else (found,))
    return tuple(sorted(feeds, key=lambda f: (f.priority, f.name)))


def all_feeds(shadowserver_schema: Path | None = None) -> tuple[Feed, ...]:
    """Every feed format: Shadowserver's reports first, then the others in recognition order."""
    return (*shadowserver.family(shadowserver_schema).feeds, *_module_feeds())


def get_feed(name: str, shadowserver_schema: Path | None = None) -> Feed:
    """The feed format called ``name``; raise :class:`UnknownFormat` naming the way to list them."""
    for feed in all_feeds(shadowserver_schema):
        if feed.name == name:
            return feed
    raise UnknownFormat(f"unknown format {name!r} (see 'sitrep formats' for the names)")


def detect(sample: Sample, shadowserver_schema: Path | None = None) -> Feed:
    """The format of ``sample``: a Shadowserver report, else the first feed whose recogniser accepts it;
    raise :class:`UnknownFormat` otherwise."""
    try:
        found = shadowserver.family(shadowserver_schema).identify(sample)
    except shadowserver.Ambiguous as exc:
        raise UnknownFormat(str(exc)) from None
    if found is not None:
        return found
    for feed in _module_feeds():
        try:
            if feed.recognise(sample):
                return feed
        except (ValueError, IndexError, UnicodeError):
            continue
    # The caller names the file: the message says only what is wrong with it.
    raise UnknownFormat("format not recognised; name it with --format (see 'sitrep formats')")
