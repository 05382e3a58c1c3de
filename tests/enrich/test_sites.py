"""Sites in SQL: host extraction, URL normalisation, and the public-suffix match against ``publicsuffixlist``."""

from __future__ import annotations

import duckdb
import pytest
from publicsuffixlist import PublicSuffixList

from sitrep.enrich import sites

# Hosts that exercise normal, wildcard (*.kawasaki.jp, *.ck) and exception (!city.kawasaki.jp, !www.ck)
# rules, private-section rules, IDN rules (中国, 公司.cn), multi-label suffixes and unknown TLDs.
TRICKY_HOSTS = [
    "example.com",
    "www.example.com",
    "com",
    "a.b.gov.cn",
    "gov.cn",
    "www.moe.gov.cn",
    "www.bbc.co.uk",
    "co.uk",
    "city.kawasaki.jp",
    "www.city.kawasaki.jp",
    "foo.kawasaki.jp",
    "bar.foo.kawasaki.jp",
    "www.ck",
    "a.b.ck",
    "x.bd",
    "a.x.bd",
    "例子.中国",
    "www.例子.中国",
    "中国",
    "例子.公司.cn",
    "公司.cn",
    "foo.blogspot.com",
    "a.foo.blogspot.com",
    "s3.amazonaws.com",
    "bucket.s3.amazonaws.com",
    "a.b.c.github.io",
    "unknowntld.zzz",
    "a.unknowntld.zzz",
    "icbc.com.cn",
    "login.icbc.com.cn",
]


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    sites.load_psl(connection)
    return connection


def _domains(con: duckdb.DuckDBPyConnection, hosts: list[str]) -> dict[str, tuple[str | None, str | None]]:
    con.execute("CREATE OR REPLACE TEMP TABLE hosts (host VARCHAR)")
    con.executemany("INSERT INTO hosts VALUES (?)", [[h] for h in hosts])
    sites.create_domain_table(con, "SELECT host FROM hosts", "__d")
    return {h: (s, d) for h, s, d in con.execute("SELECT host, suffix, domain FROM __d").fetchall()}


def _eval(con: duckdb.DuckDBPyConnection, sql_of, value: str | None):
    con.execute("CREATE OR REPLACE TEMP TABLE v AS SELECT CAST(? AS VARCHAR) AS x", [value])
    return con.execute(f"SELECT {sql_of('x')} FROM v").fetchone()[0]


def test_psl_in_sql_matches_the_package(con: duckdb.DuckDBPyConnection) -> None:
    psl = PublicSuffixList()
    found = _domains(con, TRICKY_HOSTS)
    assert set(found) == set(TRICKY_HOSTS)
    for host in TRICKY_HOSTS:
        assert found[host] == (psl.publicsuffix(host), psl.privatesuffix(host)), host


def test_wildcard_and_exception_rules(con: duckdb.DuckDBPyConnection) -> None:
    found = _domains(con, ["www.city.kawasaki.jp", "bar.foo.kawasaki.jp", "www.ck", "a.b.ck"])
    assert found["www.city.kawasaki.jp"] == ("kawasaki.jp", "city.kawasaki.jp")  # !city.kawasaki.jp
    assert found["bar.foo.kawasaki.jp"] == ("foo.kawasaki.jp", "bar.foo.kawasaki.jp")  # *.kawasaki.jp
    assert found["www.ck"] == ("ck", "www.ck")
    assert found["a.b.ck"] == ("b.ck", "a.b.ck")


@pytest.mark.parametrize("host", ["1.2.3.4", "203.0.113.9", "[2001:db8::1]", "2001:db8::1"])
def test_ip_hosts_are_their_own_domain(con: duckdb.DuckDBPyConnection, host: str) -> None:
    assert _domains(con, [host])[host] == (None, host)


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://user:pw@Example.COM:8080/x?y#z", "example.com"),
        ("https://[2001:db8::1]:443/p", "[2001:db8::1]"),
        ("example.com/path", "example.com"),
        ("HTTP://WWW.Gov.CN./a", "www.gov.cn"),
        ("ftp://anonymous@files.example.org", "files.example.org"),
        ("  http://x.cn  ", "x.cn"),
        ("http://例子.中国/", "例子.中国"),
        ("192.168.1.1:8080/x", "192.168.1.1"),
        ("http://a.com?q=1", "a.com"),
        ("login.icbc.com.cn", "login.icbc.com.cn"),
        ("", None),
        (None, None),
    ],
)
def test_host_extraction(con: duckdb.DuckDBPyConnection, url: str | None, host: str | None) -> None:
    assert _eval(con, sites.host_sql, url) == host


@pytest.mark.parametrize(
    ("url", "normalised"),
    [
        ("HTTPS://Foo.Example/Path/A?B=C", "https://foo.example/Path/A?B=C"),
        ("example.com/path", "http://example.com/path"),
        ("http://a.com#frag", "http://a.com/"),
        ("http://a.com/page#frag", "http://a.com/page"),
        ("  http://x.cn  ", "http://x.cn/"),
        ("http://user:pw@Example.COM:8080/x?y#z", "http://user:pw@example.com:8080/x?y"),
        ("http://1.2.3.4/a.apk", "http://1.2.3.4/a.apk"),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_url_normalisation(con: duckdb.DuckDBPyConnection, url: str | None, normalised: str | None) -> None:
    assert _eval(con, sites.url_sql, url) == normalised


def test_normalised_urls_dedupe_spellings(con: duckdb.DuckDBPyConnection) -> None:
    spellings = ["HTTP://Phish.Example.COM/login", "http://phish.example.com/login#x", "phish.example.com/login"]
    assert {_eval(con, sites.url_sql, u) for u in spellings} == {"http://phish.example.com/login"}


@pytest.mark.parametrize(
    ("url", "plain"),
    [
        ("hxxps://login.example[.]gov[.]cn/x", "https://login.example.gov.cn/x"),
        ("HXXP://A[.]B/", "http://A.B/"),
        ("http[:]//evil(.)com/x", "http://evil.com/x"),
        ("hxxp[://]evil[dot]com", "http://evil.com"),
        ("fxp://files[.]example/x", "ftp://files.example/x"),
        ("https://user[@]evil[.]com/", "https://user@evil.com/"),
        ("evil[.]example", "evil.example"),  # a host name alone
        # Left as they are: brackets in a path or query, an IPv6 literal, a plain or non-web URL.
        ("http://example.com/wiki/(.)/a[.]b", "http://example.com/wiki/(.)/a[.]b"),
        ("http://plain.example/a?b=[.]", "http://plain.example/a?b=[.]"),
        ("http://[2001:db8::1]/x", "http://[2001:db8::1]/x"),
        ("HTTP://Upper.example/", "HTTP://Upper.example/"),
        ("javascript:alert(1)", "javascript:alert(1)"),
        (None, None),
    ],
)
def test_defanged_urls_are_written_plainly(con: duckdb.DuckDBPyConnection, url: str | None, plain: str | None) -> None:
    assert _eval(con, sites.refang_url_sql, url) == plain
