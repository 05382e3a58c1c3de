"""The JSON edition: the documented schema ``sitrep.report/2`` (``docs/report.md``).

Every number, with the IDs of the events (``evidence``, each list once) and incidents (``incidents``)
behind it, the rating and its explanation, the trend series and the text of each section.  Incidents
marked TLP:AMBER/RED appear only as opaque ``restricted-…`` IDs; restricted events only as a count and
an opaque digest of their set (their IDs stay in the workspace's published issue).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from sitrep.report.model import Report


def document(report: Report) -> dict[str, Any]:
    """The JSON document of one edition (one language)."""
    return {
        **report.data,
        "lang": report.lang,
        "title": report.title,
        "issue": {"year": report.year, "number": report.number, "label": report.issue},
        "organisation": report.organisation,
        "tlp": "CLEAR",
        "published_at": report.published_at,
        "revision": report.revision,
        "sections": [asdict(s) for s in report.sections],
    }


def render_json(report: Report) -> str:
    """The JSON edition as text (UTF-8, not ASCII-escaped, keys in a stable order)."""
    return json.dumps(document(report), ensure_ascii=False, indent=2) + "\n"
