"""The host-under-suffix rule: its Python, DuckDB SQL and Ibis forms agree on every case."""

from __future__ import annotations

import duckdb
import ibis
import pytest

from sitrep.feeds.sql import lit
from sitrep.hosts import is_under, longest_suffix, normalise, under_any, under_any_expr, under_any_sql

CASES = [
    ("gov.cn", ["gov.cn"], True),
    ("www.gov.cn", ["gov.cn"], True),
    ("a.b.gov.cn", ["gov.cn"], True),
    ("agov.cn", ["gov.cn"], False),
    ("gov.cn.evil.com", ["gov.cn"], False),
    ("cn", ["gov.cn"], False),
    ("www.moe.gov.cn", ["edu.cn", "gov.cn"], True),
    ("example.com", ["cn", "中国"], False),
    ("例子.中国", ["cn", "中国"], True),
    ("gov.cn", [], False),
    (None, ["gov.cn"], False),
]


@pytest.mark.parametrize(("host", "suffixes", "expected"), CASES)
def test_the_three_forms_agree(host: str | None, suffixes: list[str], expected: bool) -> None:
    if host is not None:
        assert under_any(host, suffixes) is expected
    con = duckdb.connect()
    [(sql,)] = con.execute(f"SELECT {under_any_sql(lit(host) + '::VARCHAR', suffixes)}").fetchall()
    assert sql is expected
    table = ibis.memtable({"host": [host]}, schema={"host": "string"})
    [ibis_value] = ibis.duckdb.connect().execute(table.select(x=under_any_expr(table.host, suffixes)))["x"]
    assert bool(ibis_value) is expected


def test_longest_suffix_is_the_most_specific() -> None:
    assert longest_suffix("a.oss.aliyuncs.com", ["com", "aliyuncs.com", "oss.aliyuncs.com"]) == "oss.aliyuncs.com"
    assert longest_suffix("example.org", ["com", "cn"]) is None


def test_normalise_and_is_under() -> None:
    assert normalise(" WWW.Gov.CN. ") == "www.gov.cn"
    assert is_under("www.gov.cn", "gov.cn") and not is_under("xgov.cn", "gov.cn")
