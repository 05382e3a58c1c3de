"""``extra`` built from SQL expressions rather than raw columns (values a feed derives per row)."""

from __future__ import annotations

import json

from sitrep.feeds.sql import lit


def extra_of(values: dict[str, str]) -> str:
    """A JSON object of named SQL text expressions; NULL ones are left out, and no member gives NULL.

    The same string concatenation :func:`sitrep.feeds.sql.extra` uses (``concat_ws`` skips NULLs), for
    values a feed computes (a key parsed out of a free-text field) instead of copying a raw column.
    """
    if not values:
        return "NULL"
    members = [
        f"CASE WHEN ({value}) IS NOT NULL THEN {lit(json.dumps(name) + ':')} || CAST(to_json({value}) AS VARCHAR) END"
        for name, value in values.items()
    ]
    return (
        f"CASE WHEN coalesce({', '.join(f'({v})' for v in values.values())}) IS NOT NULL "
        f"THEN '{{' || concat_ws(',', {', '.join(members)}) || '}}' END"
    )
