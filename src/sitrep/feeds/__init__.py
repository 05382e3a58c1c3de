"""Feed formats: one small module per format, each declaring a module-level ``FEED``.

:func:`all_feeds` discovers them; :func:`detect` recognises a file's format from its first bytes.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from sitrep.feeds.base import Feed, Sample

_NOT_FEEDS = {"base", "sql"}


class UnknownFormat(Exception):
    """No feed format recognises the file, or the named format does not exist."""


@cache
def all_feeds() -> tuple[Feed, ...]:
    """Every feed format, in recognition order (most specific first)."""
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


def get_feed(name: str) -> Feed:
    """The feed format called ``name``; raise :class:`UnknownFormat` listing the known names."""
    for feed in all_feeds():
        if feed.name == name:
            return feed
    names = ", ".join(f.name for f in all_feeds())
    raise UnknownFormat(f"unknown format {name!r}; known formats: {names}")


def detect(sample: Sample) -> Feed:
    """The first feed whose recogniser accepts ``sample``; raise :class:`UnknownFormat` otherwise."""
    for feed in all_feeds():
        try:
            if feed.recognise(sample):
                return feed
        except (ValueError, IndexError, UnicodeError):
            continue
    # The caller names the file: the message says only what is wrong with it.
    raise UnknownFormat("format not recognised; name it with --format (see 'sitrep formats')")
