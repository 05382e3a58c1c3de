"""The ``sitrep incidents`` and ``sitrep partners`` commands, end to end through the Typer app."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from sitrep.cli import app

from .conftest import DATA, make_workspace

runner = CliRunner()


def _run(ws, *args):
    return runner.invoke(app, ["--home", str(ws.root), *args], env={"SITREP_USER": "analyst"})


def test_acceptance_import_then_stats_json(ws):
    result = _run(ws, "incidents", "import", str(DATA / "acceptance_2025w01.csv"))
    assert result.exit_code == 1  # rows were rejected …
    assert "line 7: unknown category 'spam'" in result.output
    assert "created 72" in result.output  # … and the good ones kept
    result = _run(ws, "incidents", "stats", "--week", "2025-W01", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [
        data[k] for k in ("handled", "cross_border", "phishing", "mobile_malware_urls", "mobile_malware_platforms")
    ] == [67, 28, 38, 14, 12]


def test_add_update_resolve_show_with_audit(ws):
    assert (
        _run(
            ws,
            "partners",
            "add",
            "阿里云",
            "--type",
            "cloud",
            "--country",
            "CN",
            "--email",
            "abuse@aliyun.example.cn",
            "--asn",
            "AS37963",
        ).exit_code
        == 0
    )
    result = _run(
        ws,
        "incidents",
        "add",
        "--ref",
        "C-1",
        "--title",
        "仿冒工商银行",
        "-c",
        "phishing",
        "-a",
        "http://icbc-login.example.com/",
        "-p",
        "阿里云",
        "--reported-at",
        "2025-01-02T09:00",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "new"
    result = _run(ws, "incidents", "resolve", "C-1")
    assert result.exit_code == 2 and "cannot go from new to resolved" in result.output
    for status in ("triaged", "coordinating"):
        assert _run(ws, "incidents", "update", "C-1", "--status", status).exit_code == 0
    assert (
        _run(
            ws,
            "incidents",
            "update",
            "C-1",
            "--partner",
            "阿里云",
            "--sent",
            "2025-01-02T10:00",
            "--acknowledged",
            "now",
        ).exit_code
        == 0
    )
    result = _run(ws, "incidents", "update", "C-1", "--cross-border", "yes")
    assert result.exit_code == 2 and "needs a reason" in result.output
    assert _run(ws, "incidents", "update", "C-1", "--cross-border", "yes", "--reason", "reporter abroad").exit_code == 0
    assert _run(ws, "incidents", "resolve", "C-1", "--outcome", "taken-down").exit_code == 0
    shown = json.loads(_run(ws, "incidents", "show", "C-1", "--json").stdout)
    assert shown["status"] == "resolved" and shown["cross_border"] is True
    assert shown["requests"][0]["outcome"] == "taken-down" and shown["requests"][0]["actioned_at"]
    assert [e["new"] for e in shown["audit"] if e["field"] == "status"] == [
        "triaged",
        "coordinating",
        "resolved",
    ]
    assert {e["actor"] for e in shown["audit"]} == {"analyst"}
    listed = json.loads(_run(ws, "incidents", "list", "--status", "resolved", "--json").stdout)
    assert [i["ref"] for i in listed] == ["C-1"]
    assert _run(ws, "incidents", "show", "NOPE").exit_code == 2


def test_partners_import_and_list(ws):
    result = _run(ws, "partners", "import", str(DATA / "partners.csv"), "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["created"] == 6 and [r["line"] for r in report["rejects"]] == [7, 8]
    names = [p["name"] for p in json.loads(_run(ws, "partners", "list", "--type", "app-store", "--json").stdout)]
    assert names == ["华为应用市场"]


def test_notify_dry_run_and_propose_from_the_cli(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    _run(ws, "partners", "import", str(DATA / "partners.csv"))
    _run(
        ws,
        "incidents",
        "add",
        "--ref",
        "C-2",
        "--title",
        "t",
        "-c",
        "phishing",
        "-a",
        "http://a.example.cn/",
        "-p",
        "万网",
    )
    _run(ws, "incidents", "update", "C-2", "--status", "triaged")
    result = _run(ws, "incidents", "notify", "--dry-run", "--out", str(tmp_path / "out"), "--json")
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "out").glob("*.eml"))) == 1
    result = _run(ws, "incidents", "propose", "--week", "2025-W01", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["proposals"] == []


@pytest.mark.parametrize(
    "command",
    [
        ["incidents"],
        ["incidents", "add"],
        ["incidents", "list"],
        ["incidents", "show"],
        ["incidents", "update"],
        ["incidents", "resolve"],
        ["incidents", "import"],
        ["incidents", "propose"],
        ["incidents", "intake"],
        ["incidents", "notify"],
        ["incidents", "stats"],
        ["incidents", "assign"],
        ["incidents", "note"],
        ["incidents", "overdue"],
        ["partners"],
        ["partners", "add"],
        ["partners", "list"],
        ["partners", "import"],
        ["partners", "show"],
        ["partners", "remove"],
        ["partners", "scorecard"],
    ],
)
def test_every_command_has_help(command):
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert len(result.output.split("Options")[0].strip().splitlines()) >= 3
    # Every option says what it is for.
    options = [line for line in result.output.split("Options", 1)[-1].splitlines() if line.startswith("  -")]
    assert options and all(re.match(r"^  \S.*?\s{2,}\S", line) for line in options), options
