"""Sites: host names from URLs, normalised URLs, registrable domains (public-suffix list), GOV.

The public-suffix list is the one the ``publicsuffixlist`` package ships (offline).  Its rules are
loaded into DuckDB and matched against every distinct host of a batch with one join, so enrichment never
calls Python per row.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import duckdb

from sitrep.feeds.sql import lit

PSL_TABLE = "__psl"

# Host of a URL: after the scheme and any user info, up to the port, path, query or fragment.
_HOST_RE = r"^(?:[A-Za-z][A-Za-z0-9+.\-]*://)?(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#\s]*)"


def psl_path() -> Path:
    import publicsuffixlist

    return Path(publicsuffixlist.__file__).parent / "public_suffix_list.dat"


@cache
def _rules() -> tuple[list[str], list[str]]:
    """The public-suffix rules (lower case) and their kinds: normal, wildcard or exception."""
    rules: list[str] = []
    kinds: list[str] = []
    for raw in psl_path().read_text(encoding="utf-8").splitlines():
        line = raw.strip().split()[0] if raw.strip() else ""
        if not line or line.startswith("//"):
            continue
        if line.startswith("!"):
            rules.append(line[1:])
            kinds.append("exception")
        elif line.startswith("*."):
            rules.append(line[2:])
            kinds.append("wildcard")
        else:
            rules.append(line)
            kinds.append("normal")
    return [r.lower() for r in rules], kinds


def load_psl(con: duckdb.DuckDBPyConnection) -> None:
    """Create the temp table of public-suffix rules in ``con`` (once per connection)."""
    # List parameters, not an Arrow table: building one from Python lists imports pandas (0.3 s).
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {PSL_TABLE} AS "
        "SELECT unnest($1::VARCHAR[]) AS rule, unnest($2::VARCHAR[]) AS kind",
        list(_rules()),
    )


def host_sql(expr: str) -> str:
    """SQL for the lower-case host of a URL or bare host name (trailing dot and ``www.`` kept)."""
    host = f"lower(rtrim(regexp_extract(trim({expr}), {lit(_HOST_RE)}, 1), '.'))"
    return f"nullif({host}, '')"


# A defanged URL (``hxxps://login.example[.]gov[.]cn/x``, the convention of the IETF draft
# draft-grimminck-safe-ioc-sharing that incidents.extract also reads in mail): a defanged scheme, a
# bracketed ``://``, or a bracketed dot or ``@`` in the authority.
_DEFANGED = (
    r"(?i)^\s*(h(xx|xt|tx)ps?|fxp)(\[|\(|:)|(?i)^\s*(https?|ftp)(\[|\()"
    r"|(?i)^\s*([a-z][a-z0-9+.-]*(://|\[|\())?[^/?#]*[\[({]\s?(\.|dot|@|at)\s?[\])}]"
)
_DEFANGED_SCHEME = (r"(?i)^(\s*)h[tx]{2}p", r"\1http"), (r"(?i)^(\s*)f[tx]p", r"\1ftp")
_DEFANGED_SLASHES = r"^(\s*[A-Za-z][A-Za-z0-9+.-]*)(\[://\]|\[:/\]/|\[:\]//|\(:\)//)"
_PARTS = r"^(\s*[A-Za-z][A-Za-z0-9+.-]*://)?([^/?#]*)(.*)$"
_DEFANGED_DOT = r"\s?[\[({]\s?(?i:\.|dot)\s?[\])}]\s?"
_DEFANGED_AT = r"[\[(](?i:@|at)[\])]"


def refang_url_sql(expr: str) -> str:
    """SQL writing a defanged URL plainly again (``hxxp://evil[.]com/a`` → ``http://evil.com/a``), so
    its site, domain and GOV and domestic flags are the real host's; other URLs are left as they are.
    Only the scheme and the authority change: brackets in a path or query are the page's own."""
    plain = expr
    for pattern, replacement in _DEFANGED_SCHEME:
        plain = f"regexp_replace({plain}, {lit(pattern)}, {lit(replacement)})"
    plain = f"regexp_replace({plain}, {lit(_DEFANGED_SLASHES)}, '\\1://')"
    parts = f"regexp_extract({plain}, {lit(_PARTS)}, ['scheme', 'authority', 'rest'])"
    authority = f"regexp_replace({parts}.authority, {lit(_DEFANGED_DOT)}, '.', 'g')"
    authority = f"regexp_replace({authority}, {lit(_DEFANGED_AT)}, '@', 'g')"
    return (
        f"CASE WHEN regexp_matches({expr}, {lit(_DEFANGED)}) "
        f"THEN {parts}.scheme || {authority} || {parts}.rest ELSE {expr} END"
    )


def url_sql(expr: str) -> str:
    """SQL normalising a URL: scheme added when missing, scheme and host lower-cased, fragment dropped."""
    value = f"trim({expr})"
    with_scheme = (
        f"CASE WHEN regexp_matches({value}, '^[A-Za-z][A-Za-z0-9+.\\-]*://') THEN {value} ELSE 'http://' || {value} END"
    )
    no_fragment = f"regexp_replace({with_scheme}, '#.*$', '')"
    pattern = lit("^([A-Za-z][A-Za-z0-9+.\\-]*://)([^/?#]*)(.*)$")
    parts = f"regexp_extract({no_fragment}, {pattern}, ['scheme', 'authority', 'rest'])"
    return (
        f"CASE WHEN nullif({value}, '') IS NULL THEN NULL ELSE "
        f"lower({parts}.scheme) || lower({parts}.authority) || "
        f"CASE WHEN {parts}.rest = '' THEN '/' ELSE {parts}.rest END END"
    )


def is_ip_sql(expr: str) -> str:
    return f"(regexp_matches({expr}, '^\\d{{1,3}}(\\.\\d{{1,3}}){{3}}$') OR contains({expr}, ':'))"


def create_domain_table(con: duckdb.DuckDBPyConnection, hosts_sql: str, table: str) -> None:
    """Create ``table(host, suffix, domain)`` for the distinct hosts ``hosts_sql`` selects.

    Longest matching rule wins; wildcard rules add one label; exception rules remove one (PSL
    algorithm).  Hosts that are IP addresses get no suffix and are their own domain.
    """
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {table} AS
        WITH hosts AS (
            SELECT DISTINCT host FROM ({hosts_sql}) WHERE host IS NOT NULL AND host <> ''
        ),
        names AS (SELECT host FROM hosts WHERE NOT {is_ip_sql("host")}),
        labels AS (
            SELECT host, string_split(host, '.') AS parts, len(string_split(host, '.')) AS n FROM names
        ),
        candidates AS (
            SELECT host, n, n - i + 1 AS size, array_to_string(parts[i:], '.') AS tail,
                   CASE WHEN i < n THEN array_to_string(parts[i + 1:], '.') END AS parent
            FROM labels, range(1, n + 1) AS r(i)
        ),
        matches AS (
            SELECT c.host, c.n,
                   max(CASE WHEN p.kind = 'normal' AND p.rule = c.tail THEN c.size END) AS normal,
                   max(CASE WHEN p.kind = 'wildcard' AND p.rule = c.parent THEN c.size END) AS wildcard,
                   max(CASE WHEN p.kind = 'exception' AND p.rule = c.tail THEN c.size - 1 END) AS exception
            FROM candidates c
            LEFT JOIN {PSL_TABLE} p ON p.rule = c.tail OR (p.kind = 'wildcard' AND p.rule = c.parent)
            GROUP BY c.host, c.n
        ),
        sized AS (
            SELECT host, n, coalesce(exception, greatest(coalesce(normal, 1), coalesce(wildcard, 1))) AS size
            FROM matches
        )
        SELECT host,
               array_to_string(string_split(host, '.')[n - size + 1:], '.') AS suffix,
               CASE WHEN n > size THEN array_to_string(string_split(host, '.')[n - size:], '.') END AS domain
        FROM sized
        UNION ALL
        SELECT host, NULL, host FROM hosts WHERE {is_ip_sql("host")}
        """
    )
