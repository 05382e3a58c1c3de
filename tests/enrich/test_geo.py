"""The offline IP database exported as a range table: contiguous, China by province, HK/MO/TW apart."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import duckdb
import pytest

from sitrep.enrich import geo


@pytest.fixture(scope="module")
def ranges(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    target = tmp_path_factory.mktemp("geo") / "ranges.parquet"
    db = geo.export_ranges(geo.xdb_path(), target)
    assert db.path == target and target.is_file()
    assert db.version.startswith("ip2region-")
    assert not target.with_suffix(".tmp").exists()
    con = duckdb.connect()
    con.execute(f"CREATE TABLE g AS SELECT * FROM read_parquet('{target}')")
    return con


def _lookup(con: duckdb.DuckDBPyConnection, ip: str) -> tuple[str | None, str | None]:
    n = int(ipaddress.IPv4Address(ip))
    rows = con.execute("SELECT cc, region FROM g WHERE ? BETWEEN start_int AND end_int", [n]).fetchall()
    assert len(rows) == 1, f"{ip} is in {len(rows)} ranges"
    return rows[0]


def test_range_table_columns(ranges: duckdb.DuckDBPyConnection) -> None:
    columns = [r[0] for r in ranges.execute("DESCRIBE g").fetchall()]
    assert {"start_int", "end_int", "cc", "region"} <= set(columns)
    assert ranges.execute("SELECT count(*) FROM g").fetchone()[0] > 100_000
    assert "block" in columns
    # ranges are split at block boundaries, for an equi-join on the block (geo.join_sql)
    bad = ranges.execute(
        f"SELECT count(*) FROM g WHERE start_int >> {geo.BLOCK_BITS} <> block OR end_int >> {geo.BLOCK_BITS} <> block"
    ).fetchone()[0]
    assert bad == 0


def test_neighbouring_ranges_with_one_place_are_merged(ranges: duckdb.DuckDBPyConnection) -> None:
    unmerged = ranges.execute(
        """
        SELECT count(*) FROM (
            SELECT block, start_int, cc, region, lag(end_int) OVER w AS prev_end, lag(cc) OVER w AS prev_cc,
                   lag(region) OVER w AS prev_region
            FROM g WINDOW w AS (PARTITION BY block ORDER BY start_int)
        )
        WHERE prev_end = start_int - 1 AND prev_cc IS NOT DISTINCT FROM cc AND prev_region IS NOT DISTINCT FROM region
        """
    ).fetchone()[0]
    assert unmerged == 0


def test_ranges_cover_ipv4_contiguously(ranges: duckdb.DuckDBPyConnection) -> None:
    low, high = ranges.execute("SELECT min(start_int), max(end_int) FROM g").fetchone()
    assert (low, high) == (0, 2**32 - 1)
    gaps = ranges.execute(
        "SELECT count(*) FROM (SELECT start_int, lag(end_int) OVER (ORDER BY start_int) AS prev FROM g) "
        "WHERE prev IS NOT NULL AND start_int <> prev + 1"
    ).fetchone()[0]
    assert gaps == 0
    assert ranges.execute("SELECT count(*) FROM g WHERE end_int < start_int").fetchone()[0] == 0


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("114.114.114.114", ("CN", "JS")),
        ("223.5.5.5", ("CN", "ZJ")),
        ("8.8.8.8", ("US", None)),
        ("1.36.0.1", ("HK", None)),  # ip2region: 中国|香港 → HK, not CN
    ],
)
def test_lookups(ranges: duckdb.DuckDBPyConnection, ip: str, expected: tuple[str, str | None]) -> None:
    assert _lookup(ranges, ip) == expected


def test_hk_mo_tw_are_never_chinese_regions(ranges: duckdb.DuckDBPyConnection) -> None:
    assert ranges.execute("SELECT count(*) FROM g WHERE cc = 'CN' AND region IN ('HK', 'MO', 'TW')").fetchone()[0] == 0
    found = {r[0] for r in ranges.execute("SELECT DISTINCT cc FROM g WHERE cc IN ('HK', 'MO', 'TW')").fetchall()}
    assert found == {"HK", "MO", "TW"}
    assert ranges.execute("SELECT count(*) FROM g WHERE cc <> 'CN' AND region IS NOT NULL").fetchone()[0] == 0


def test_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SITREP_CACHE", str(tmp_path / "c"))
    assert geo.cache_dir() == tmp_path / "c"
    monkeypatch.delenv("SITREP_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert geo.cache_dir() == tmp_path / "xdg" / "sitrep"


def test_ipv4_int_and_join_sql(ranges: duckdb.DuckDBPyConnection) -> None:
    ips = ["1.2.3.4", "255.255.255.255", "114.114.114.114", "::1"]
    ranges.execute("CREATE OR REPLACE TABLE t AS SELECT unnest(?) AS ip", [ips])
    ip_int = geo.ipv4_int_sql(geo.ipv4_octets_sql("ip"))
    got = dict(ranges.execute(f"SELECT ip, {ip_int} FROM t").fetchall())
    assert got == {"1.2.3.4": 16909060, "255.255.255.255": 2**32 - 1, "114.114.114.114": 1920103026, "::1": None}
    found = ranges.execute(
        f"SELECT t.ip, g.cc, g.region FROM (SELECT ip, {ip_int} AS n FROM t) t "
        f"LEFT JOIN g ON {geo.join_sql('t.n', 'g')} ORDER BY t.ip"
    ).fetchall()
    assert len(found) == 4  # one range per address, none for IPv6
    assert ("114.114.114.114", "CN", "JS") in found and ("::1", None, None) in found
