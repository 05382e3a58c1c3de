"""Hostile line files (plain lines and JSON lines) and exactly what an ingest makes of each.

Every case is a small file around one kind of damage, between good lines, so each outcome says both what
happens to the bad line and that its neighbours survive.
"""

from __future__ import annotations

import gzip
import json
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from helpers import lake_rows
from sitrep.feeds import get_feed
from sitrep.lake.ingest import ingest_paths
from sitrep.lake.rejects import list_rejects

WRITTEN = datetime(2025, 1, 6, 9, 30, tzinfo=UTC)
URLS = [b"https://a.example.cn/1", b"https://b.example.cn/2", b"https://c.example.cn/3"]
EVENTS = [
    json.dumps(
        {
            "time.source": "2025-01-06T08:00:00+00:00",
            "classification.taxonomy": "fraud",
            "classification.type": "phishing",
            "source.url": f"https://{host}.example.cn/",
        }
    ).encode()
    for host in "abc"
]
# The reader's line limit (``[ingest] max_line_bytes``, 1 MiB by default), however a reason spells it.
_TOO_LONG = re.compile(r"(?i)(longer than|maximum line size of) 1,?048,?576 bytes")


@dataclass(frozen=True)
class Case:
    data: bytes
    feed: str
    counts: tuple[int, int, int, int]  # read, accepted, duplicates, rejected
    accepted_lines: tuple[int, ...] = ()
    rejects: dict[int, str | re.Pattern[str]] = field(default_factory=dict)


def _lines(*lines: bytes, end: bytes = b"\n") -> bytes:
    return end.join(lines) + end


CASES = {
    "bad UTF-8 on one plain line": Case(
        _lines(URLS[0], URLS[1] + b"\xc3\x28", URLS[2]), "openphish", (3, 2, 0, 1), (1, 3), {2: "not valid UTF-8"}
    ),
    "bad UTF-8 on one JSON line": Case(
        _lines(EVENTS[0], EVENTS[1][:-2] + b'\xff"}', EVENTS[2]),
        "intelmq",
        (3, 2, 0, 1),
        (1, 3),
        {2: "not valid UTF-8"},
    ),
    "a 5 MB plain line": Case(
        _lines(URLS[0], b"https://x.example.cn/" + b"a" * 5_000_000, URLS[2]),
        "openphish",
        (3, 2, 0, 1),
        (1, 3),
        {2: _TOO_LONG},
    ),
    "a 5 MB JSON line": Case(
        _lines(
            EVENTS[0], json.dumps({"time.source": "2025-01-06T08:00:00Z", "x": "a" * 5_000_000}).encode(), EVENTS[2]
        ),
        "intelmq",
        (3, 2, 0, 1),
        (1, 3),
        {2: _TOO_LONG},
    ),
    "a JSON line with 10,000 keys": Case(
        _lines(EVENTS[0], json.dumps({f"extra.k{i}": i for i in range(10_000)}).encode(), EVENTS[2]),
        "intelmq",
        (3, 2, 0, 1),
        (1, 3),
        {2: "more than 1,000 keys"},
    ),
    "NUL bytes in a plain line": Case(
        _lines(URLS[0], b"https\x00://b.example.cn/2", b"\x00\x00", URLS[2]),
        "openphish",
        (4, 2, 0, 2),
        (1, 4),
        {2: "line is not an http(s) URL", 3: "line is not an http(s) URL"},
    ),
    "NUL bytes in a JSON line": Case(
        _lines(EVENTS[0], EVENTS[1][:10] + b"\x00" + EVENTS[1][10:], EVENTS[2]),
        "intelmq",
        (3, 2, 0, 1),
        (1, 3),
        {2: "not a JSON object"},
    ),
    "CRLF line ends throughout": Case(_lines(*URLS, end=b"\r\n"), "openphish", (3, 3, 0, 0), (1, 2, 3)),
    "lone CR line ends throughout (old Mac)": Case(_lines(*URLS, end=b"\r"), "openphish", (3, 3, 0, 0), (1, 2, 3)),
    "one CRLF line in an LF file": Case(
        _lines(URLS[0], URLS[1] + b"\r", URLS[2]), "openphish", (3, 3, 0, 0), (1, 2, 3)
    ),
    "one CRLF JSON line in an LF file": Case(
        _lines(EVENTS[0], EVENTS[1] + b"\r", EVENTS[2]), "intelmq", (3, 3, 0, 0), (1, 2, 3)
    ),
    # A lone CR ends a line, as the CSV reader counts it: "junk" is a line of its own.
    "a lone CR inside an LF file": Case(
        _lines(URLS[0], URLS[1] + b"\rjunk", URLS[2]),
        "openphish",
        (4, 3, 0, 1),
        (1, 2, 4),
        {3: "line is not an http(s) URL"},
    ),
    "UTF-16 with a byte-order mark": Case(
        "\n".join(u.decode() for u in URLS).encode("utf-16"), "openphish", (3, 3, 0, 0), (1, 2, 3)
    ),
    "UTF-16 JSON lines with a byte-order mark": Case(
        "\n".join(e.decode() for e in EVENTS).encode("utf-16-le").join((b"\xff\xfe", b"")),
        "intelmq",
        (3, 3, 0, 0),
        (1, 2, 3),
    ),
    "gzip content without .gz": Case(gzip.compress(_lines(*URLS)), "openphish", (3, 3, 0, 0), (1, 2, 3)),
    "an empty file": Case(b"", "openphish", (0, 0, 0, 0)),
    "an empty JSON lines file": Case(b"", "intelmq", (0, 0, 0, 0)),
    "a file of only comments": Case(b"# URLhaus\n#\n   # indented\n\n", "abusech-urlhaus-text", (0, 0, 0, 0)),
    "comment lines where the format has none": Case(
        _lines(b"# not a comment here", URLS[0]), "openphish", (2, 1, 0, 1), (2,), {1: "line is not an http(s) URL"}
    ),
}


def _ingest(workspace, tmp_path: Path, data: bytes, feed: str):
    path = tmp_path / "hostile.txt"
    path.write_bytes(data)
    os.utime(path, (WRITTEN.timestamp(), WRITTEN.timestamp()))
    [result] = ingest_paths(workspace, [path], feed=get_feed(feed))
    return result


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_hostile_line_file(workspace, tmp_path, case):
    result = _ingest(workspace, tmp_path, case.data, case.feed)
    assert result.error is None
    assert (result.read, result.accepted, result.duplicates, result.rejected) == case.counts
    assert tuple(r["source_line"] for r in lake_rows(workspace)) == case.accepted_lines
    rejects = {r["line"]: r["reason"] for r in list_rejects(workspace)}
    assert set(rejects) == set(case.rejects)
    for line, expected in case.rejects.items():
        if isinstance(expected, re.Pattern):
            assert expected.search(rejects[line]), rejects[line]
        else:
            assert rejects[line] == expected


def test_good_lines_of_hostile_files_keep_their_content(workspace, tmp_path):
    _ingest(workspace, tmp_path, "\n".join(u.decode() for u in URLS).encode("utf-16"), "openphish")
    rows = lake_rows(workspace)
    assert [r["source_url"] for r in rows] == [u.decode() for u in URLS]
    assert {r["time_source"] for r in rows} == {WRITTEN}


def test_truncated_gzip_is_an_error_of_the_file_and_adds_nothing(workspace, tmp_path):
    packed = gzip.compress(_lines(*URLS * 5000))
    result = _ingest(workspace, tmp_path, packed[: len(packed) // 2], "openphish")
    assert result.error is not None
    assert re.search(r"(?i)gzip|compressed|truncated", result.error)
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (0, 0, 0, 0)
    assert lake_rows(workspace) == []
    assert list_rejects(workspace) == []
