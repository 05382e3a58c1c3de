"""The one rule for host names and suffixes: a host *is under* a suffix when it equals it or ends with
``.`` + the suffix (``www.gov.cn`` and ``gov.cn`` are under ``gov.cn``; ``notgov.cn`` is not).

Indicators, enrichment, routing, cross-border and proposals all ask this question, over Python
strings, DuckDB SQL or Ibis columns; the three forms below are the same rule.  Hosts and suffixes are
compared as given: callers pass them lower case without a trailing dot (:func:`normalise`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sitrep.feeds.sql import lit


def normalise(host: str) -> str:
    """A host name as the rule compares it: lower case, without a trailing dot."""
    return host.strip().lower().rstrip(".")


def is_under(host: str, suffix: str) -> bool:
    """``host`` equals ``suffix`` or is a subdomain of it."""
    return host == suffix or host.endswith("." + suffix)


def under_any(host: str, suffixes: Iterable[str]) -> bool:
    """``host`` is under one of ``suffixes``."""
    return any(is_under(host, s) for s in suffixes)


def longest_suffix(host: str, suffixes: Iterable[str]) -> str | None:
    """The longest of ``suffixes`` that ``host`` is under (the most specific match), or None."""
    found = [s for s in suffixes if is_under(host, s)]
    return max(found, key=len) if found else None


def under_any_sql(expr: str, suffixes: Sequence[str]) -> str:
    """DuckDB SQL, true when the host ``expr`` is under one of ``suffixes`` (false for NULL)."""
    if not suffixes:
        return "false"
    tests = [f"({expr} = {lit(s)} OR ends_with({expr}, {lit('.' + s)}))" for s in suffixes]
    return "coalesce(" + " OR ".join(tests) + ", false)"


def under_any_expr(column: Any, suffixes: Sequence[str]) -> Any:
    """The Ibis boolean expression: the string ``column`` is under one of ``suffixes`` (false for NULL)."""
    import ibis  # only callers that already hold Ibis columns get here

    test = ibis.literal(False)
    for suffix in suffixes:
        test = test | (column == suffix) | column.endswith("." + suffix)
    return test.fill_null(False)
