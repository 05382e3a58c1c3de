"""What Shadowserver's report CSVs share: UTC timestamps, ``src_``/``dst_`` geo columns, detection.

Shadowserver names each report file ``YYYY-MM-DD-<report>-<org>-<geo>.csv``; the header identifies the
layout too, so a renamed file is still recognised.
"""

from __future__ import annotations

from sitrep.feeds.base import Sample

PROVIDER = "Shadowserver"


def recognise(report: str, *columns: str, absent: tuple[str, ...] = ()) -> object:
    """A recogniser: the file name names ``report``, or the header has all ``columns`` and none of
    ``absent``."""

    def check(sample: Sample) -> bool:
        header = set(sample.csv_header())
        if not header or "timestamp" not in header:
            return False
        if f"-{report}-" in sample.name.lower() or sample.name.lower().startswith(f"{report}-"):
            return True
        return all(c in header for c in columns) and not any(a in header for a in absent)

    return check
