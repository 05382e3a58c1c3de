"""Hostile input at the desk: formula cells, control characters in partner names and addresses, domain
assets that are no domains; the CLI layer stays thin; the report's incident numbers and their refs come
from one function."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import sitrep.cli
from sitrep.cli import app
from sitrep.csvsafe import FORMULA_STARTS, csv_text, safe_cell
from sitrep.incidents import service
from sitrep.incidents.db import session_scope
from sitrep.incidents.desk import Desk
from sitrep.incidents.errors import IncidentError
from sitrep.incidents.importer import import_incidents
from sitrep.incidents.stats import handling_numbers, weekly_stats
from sitrep.weeks import Week

from .conftest import DATA

runner = CliRunner()
CLI = Path(sitrep.cli.__file__).parent
FORBIDDEN = ("sqlalchemy", "duckdb", "ibis", "pyarrow")
# Section 5 of the report, in its order.
INCIDENT_NUMBERS = ("handled", "cross_border", "phishing", "mobile_malware_urls", "mobile_malware_platforms")


def _run(ws, *args):
    result = runner.invoke(app, ["--home", str(ws.root), *args], env={"SITREP_USER": "analyst"})
    assert "Traceback" not in result.output
    return result


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_every_formula_start_is_neutralised(start):
    hostile = f"{start}cmd|'/C calc'!A0"
    assert safe_cell(hostile) == "'" + hostile
    document = csv_text(["ref"], [[hostile]])
    assert document.splitlines()[1].lstrip('"').startswith("'")


def test_plain_cells_are_left_as_they_are():
    assert [safe_cell(v) for v in ("INC-1", "http://a.example.cn/", 5, None, "a=b")] == [
        "INC-1",
        "http://a.example.cn/",
        "5",
        "",
        "a=b",
    ]


@pytest.mark.parametrize(
    ("name", "email", "code"),
    [
        ("阿里云\nBcc: x@evil.example", None, "U+000A"),
        ("阿里云", "abuse@aliyun.example.cn\r\nBcc: x@evil.example", "U+000D"),
        ("moc.elgoog\u202e", None, "U+202E"),
        ("bell\x07", None, "U+0007"),
    ],
)
def test_partner_names_and_addresses_with_control_characters_are_refused(ws, name, email, code):
    args = ["partners", "add", name, "--type", "cloud", *(["--email", email] if email else [])]
    result = _run(ws, *args)
    assert result.exit_code == 2 and f"contains the control character {code}" in result.output
    assert json.loads(_run(ws, "partners", "list", "--all", "--json").stdout) == []


def test_partner_import_refuses_control_characters_per_line(ws, tmp_path):
    path = tmp_path / "partners.json"
    path.write_text(
        json.dumps(
            [
                {"name": "阿里云", "type": "cloud", "email": "abuse@aliyun.example.cn"},
                {"name": "evil\nname", "type": "cloud"},
                {"name": "万网", "type": "registrar", "email": "a@wanwang.example.cn\nBcc: x@evil.example"},
            ]
        ),
        encoding="utf-8",
    )
    result = _run(ws, "partners", "import", str(path), "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["created"] == 1
    assert [(r["line"], "control character" in r["reason"]) for r in report["rejects"]] == [(2, True), (3, True)]


@pytest.mark.parametrize(
    ("asset", "problem"),
    [
        ("exa mple.com", "holds a character a host name cannot have"),
        ("localhost", "at least two labels"),
        ("a..example.cn", "empty label"),
        ("-bad.example.cn", "holds a character"),
        ("example.123", "top-level domain '123'"),
        ("http://bad_host!/x", "is not a URL: its host"),
        ("999.1.1.1.1", "top-level domain"),
    ],
)
def test_assets_that_are_no_domain_are_refused(ws, asset, problem):
    result = _run(ws, "incidents", "add", "--title", "t", "-c", "phishing", "-a", asset)
    assert result.exit_code == 2 and problem in result.output, result.output


def test_country_codes_and_cross_border_choices_are_checked(ws, tmp_path):
    result = _run(ws, "incidents", "add", "--title", "t", "-c", "phishing", "--reporter-country", "CHN")
    assert result.exit_code == 2 and "reporter country 'CHN' is not a two-letter ISO country code" in result.output
    _run(ws, "incidents", "add", "--ref", "K-1", "--title", "t", "-c", "phishing")
    result = _run(ws, "incidents", "update", "K-1", "--cross-border", "maybe")
    assert result.exit_code == 2 and "cross-border 'maybe' is not yes, no or derive" in result.output
    path = tmp_path / "countries.csv"
    path.write_text("ref,title,category,asset,asset_country\nK-2,t,phishing,a.example.jp,JAPAN\n", encoding="utf-8")
    report = json.loads(_run(ws, "incidents", "import", str(path), "--json").stdout)
    assert report["rejects"] == [{"line": 2, "reason": "asset country 'JAPAN' is not a two-letter ISO country code"}]


def test_real_domains_urls_and_addresses_are_kept(ws):
    assets = ["Example.CN.", "例子.中国", "http://Login.Example.cn/a?b=1", "203.0.113.5", "2001:db8::1", "_dmarc.x.cn"]
    args = [a for asset in assets for a in ("-a", asset)]
    data = json.loads(_run(ws, "incidents", "add", "--title", "t", "-c", "phishing", *args, "--json").stdout)
    assert [a["value"] for a in data["assets"]] == [
        "example.cn",
        "例子.中国",
        "http://login.example.cn/a?b=1",
        "203.0.113.5",
        "2001:db8::1",
        "_dmarc.x.cn",
    ]


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("module", ["incidents.py", "partners.py"])
def test_the_incident_commands_import_no_database_or_query_library(module):
    assert _imports(CLI / module) & set(FORBIDDEN) == set()


def test_the_incident_commands_load_no_query_engine():
    # Only proposing needs the lake: the other commands start without Ibis, DuckDB or Arrow.
    probe = "import sys, sitrep.cli.incidents, sitrep.cli.partners; print(sorted(set(sys.modules) & {%s}))"
    names = ", ".join(repr(m) for m in FORBIDDEN[1:])
    result = subprocess.run([sys.executable, "-c", probe % names], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_each_handling_number_comes_with_the_refs_it_counts(ws):
    with session_scope(ws) as session:
        import_incidents(session, DATA / "acceptance_2025w01.csv", workspace=ws, actor="t")
    week = Week(2025, 1)
    with session_scope(ws) as session:
        numbers = handling_numbers(session, week, ws.timezone)
        stats = weekly_stats(session, week, tz=ws.timezone)
    headline = numbers.headline()
    assert list(headline) == list(INCIDENT_NUMBERS)
    # ``incidents stats`` and the report (``report.facts.incident_facts``) both read these numbers.
    assert {key: counted.value for key, counted in headline.items()} == {key: stats[key] for key in INCIDENT_NUMBERS}
    handled = set(numbers.handled.refs)
    assert list(numbers.handled.refs) == stats["incidents"]
    for key in ("handled", "cross_border", "phishing"):
        assert headline[key].value == len(headline[key].refs) and set(headline[key].refs) <= handled
    # URLs and platforms are counted distinct: at most one per ref behind them, at least one.
    for key in ("mobile_malware_urls", "mobile_malware_platforms"):
        assert headline[key].refs and headline[key].value >= 1 and set(headline[key].refs) <= handled
    assert {k: len(c.refs) for k, c in numbers.by_category.items()} == stats["by_category"]
    assert {k: c.value for k, c in numbers.by_partner_type.items()} == stats["by_partner_type"]


def test_a_nul_character_in_a_lookup_is_a_refusal_on_either_backend(ws):
    # SQLite stores and compares it; PostgreSQL refuses text holding NUL: a refusal, never a crash.
    desk = Desk.open(ws)
    with pytest.raises(IncidentError):
        service.show_incident(desk, "INC\x00-1")
    try:
        page = service.list_incidents(desk, service.IncidentQuery(search="a\x00b"))
    except IncidentError as exc:
        assert "NUL" in str(exc)
    else:
        assert page.incidents == []
