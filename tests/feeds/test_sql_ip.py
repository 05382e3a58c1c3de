"""IP validation of :func:`sitrep.feeds.sql.ip`, which every feed's IP columns go through."""

import duckdb
import pytest

from sitrep.feeds.sql import bad_ip, ip, lit

VALID = [
    ("192.0.2.1", "192.0.2.1"),
    (" 192.0.2.1 ", "192.0.2.1"),
    ("2001:db8::1", "2001:db8::1"),
    ("2001:DB8::A", "2001:db8::a"),
    ("::", "::"),
    ("::1", "::1"),
    ("fe80::1:2:3:4", "fe80::1:2:3:4"),
    ("2001:0db8:85a3:0000:0000:8a2e:0370:7334", "2001:0db8:85a3:0000:0000:8a2e:0370:7334"),
    ("::ffff:192.0.2.1", "::ffff:192.0.2.1"),
    ("64:ff9b::192.0.2.33", "64:ff9b::192.0.2.33"),
]
INVALID = [
    "256.1.1.1",
    "1.2.3",
    "2001:db8:::1",
    "1:2:3:4:5:6:7:8:9",
    "::1::",
    "2001:db8::12345",
    "gggg::1",
    "2001:db8:1",
    ":",
    ":::",
    "::ffff:999.1.1.1",
    "not an ip",
]


def _eval(expr: str):
    return duckdb.connect().execute(f"SELECT {expr}").fetchone()[0]


@pytest.mark.parametrize(("text", "expected"), VALID)
def test_valid_addresses_pass(text, expected):
    assert _eval(ip(lit(text))) == expected
    assert _eval(bad_ip(lit(text))) is False


@pytest.mark.parametrize("text", INVALID)
def test_garbage_is_rejected(text):
    assert _eval(ip(lit(text))) is None
    assert _eval(bad_ip(lit(text))) is True
