"""Times and numbers as the feed builders of :mod:`sitrep.feeds.sql` parse them from raw text."""

import json
from datetime import UTC, datetime

import duckdb
import pytest

from sitrep.feeds.sql import asn, extra_columns, integer, port, ts


def _eval(expr: str, text: str | None):
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")  # as every lake connection
    return con.execute(f"SELECT {expr} FROM (SELECT CAST(? AS VARCHAR) AS raw)", [text]).fetchone()[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-01-01 03:04:05", datetime(2025, 1, 1, 3, 4, 5, tzinfo=UTC)),
        ("2025-01-01T03:04:05", datetime(2025, 1, 1, 3, 4, 5, tzinfo=UTC)),
        (" 2025-01-01 03:04:05 ", datetime(2025, 1, 1, 3, 4, 5, tzinfo=UTC)),
        ("2025-01-01 03:04:05.250", datetime(2025, 1, 1, 3, 4, 5, 250000, tzinfo=UTC)),
        ("2025-01-01", datetime(2025, 1, 1, tzinfo=UTC)),
        ("2025-01-01T03:04:05Z", datetime(2025, 1, 1, 3, 4, 5, tzinfo=UTC)),
        ("2025-01-01 08:00:00+08", datetime(2025, 1, 1, tzinfo=UTC)),
        ("2025-01-01T08:00:00+08:00", datetime(2025, 1, 1, tzinfo=UTC)),
        # nineteen characters with an offset: must not take the naive fast path
        ("2025-01-01T08:00+08", datetime(2025, 1, 1, tzinfo=UTC)),
        ("2025-13-01 00:00:00", None),
        ("2025-01-01 24:00:01", None),
        ("yesterday", None),
        ("", None),
        (None, None),
    ],
)
def test_timestamps_in_utc(text, expected):
    assert _eval(ts("raw"), text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("80", 80),
        (" 8080 ", 8080),
        ("0", 0),
        ("65535", 65535),
        ("65536", None),
        ("-1", None),
        ("http", None),
        ("", None),
        (None, None),
        ("080", 80),
        # A plain numeric cast would take these; they are not ports.
        ("1e3", None),
        ("0x50", None),
        ("+80", None),
        ("80.0", None),
        ("1_000", None),
    ],
)
def test_ports(text, expected):
    assert _eval(port("raw"), text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4134", 4134),
        (" 4134 ", 4134),
        ("AS4134", 4134),
        ("as4134", 4134),
        ("ASN", None),
        ("", None),
        ("4294967295", 4294967295),
        ("4294967296", None),
        ("0", None),
        ("AS0", None),
        ("-4134", None),
    ],
)
def test_as_numbers(text, expected):
    assert _eval(asn("raw"), text) == expected


def test_integers_skip_spaces_and_empty_is_null():
    assert _eval(integer("raw"), " 12 ") == 12
    assert _eval(integer("raw"), "") is None


def test_extra_columns_gives_the_same_json_with_or_without_frequent_values():
    values = ["tcp", 'say "hi"', "广东", "", None, "back\\slash", "tab\there", "tcp "]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (protocol VARCHAR, note VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", [(a, b) for a in values for b in values])
    plain = extra_columns(["protocol", "note"])
    folded = extra_columns(["protocol", "note"], {"protocol": ["tcp", "广东", ""], "note": ['say "hi"', "tab\there"]})
    rows = con.execute(f"SELECT {plain}, {folded} FROM t").fetchall()
    assert all(a == b for a, b in rows)
    parsed = {r[0] for r in rows if r[0]}
    assert '{"protocol":"tcp","note":"say \\"hi\\""}' in parsed
    assert all(json.loads(p) for p in parsed)
    # Empty values are left out; a row with none has no extra at all.
    assert con.execute(f"SELECT {plain} FROM (SELECT '' AS protocol, NULL AS note)").fetchone() == (None,)
