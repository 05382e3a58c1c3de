"""The ``sitrep`` command as users run it: help of every command, exit codes, documented JSON keys."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from helpers import SAMPLES, lake_rows
from shadowserver_fixtures import file_name, report_csv
from sitrep.cli import app
from sitrep.config import Workspace
from sitrep.feeds import all_feeds
from sitrep.feeds.shadowserver import load_reports

SITREP = Path(sys.executable).with_name("sitrep")
INGEST_KEYS = {"file", "format", "read", "accepted", "duplicates", "rejected", "error"}
SINKHOLE = SAMPLES / "2025-01-01-event4_sinkhole-cncert-cn.csv"


def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the installed console script (not the Python API) the way a user does."""
    full_env = {k: v for k, v in os.environ.items() if k != "SITREP_HOME"} | {"COLUMNS": "200"} | (env or {})
    return subprocess.run(
        [str(SITREP), *args], capture_output=True, text=True, cwd=cwd, env=full_env, timeout=120, check=False
    )


def _commands() -> list[tuple[list[str], Any]]:
    found: list[tuple[list[str], Any]] = []

    def walk(command: Any, path: list[str]) -> None:
        found.append((path, command))
        if hasattr(command, "list_commands"):  # a group: its subcommands load as click asks for them
            context = typer.Context(command)
            for name in command.list_commands(context):
                walk(command.get_command(context, name), [*path, name])

    walk(typer.main.get_command(app), [])
    return found


COMMANDS = _commands()


def test_console_script_is_installed() -> None:
    assert SITREP.is_file(), "pip install -e . installs the sitrep console script"


def test_the_expected_commands_exist() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}
    expected = {
        "init",
        "ingest",
        "formats",
        "rejects",
        "metrics",
        "incidents",
        "incidents import",
        "incidents stats",
        "partners",
        "partners add",
    }
    assert expected <= names


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) or "sitrep" for p, _ in COMMANDS])
def test_help_of_every_command(path: list[str], command: Any) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200", "TERM": "dumb"})
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    for param in command.params:
        if param.param_type_name == "option" and not getattr(param, "hidden", False):
            assert param.opts[0] in result.output, f"{param.opts[0]} missing from 'sitrep {' '.join(path)} --help'"
    for name in getattr(command, "commands", {}):
        assert name in result.output


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("sitrep ")


def test_init_then_ingest_json(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    init = run("init", str(home))
    assert init.returncode == 0, init.stderr
    assert "Workspace ready" in init.stderr
    assert (home / "sitrep.toml").is_file() and (home / "lake").is_dir()

    first = run("--home", str(home), "ingest", "--json", str(SINKHOLE))
    assert first.returncode == 0, first.stderr
    [summary] = json.loads(first.stdout)
    assert set(summary) == INGEST_KEYS
    assert summary["format"] == "shadowserver-event4-sinkhole"
    assert summary["file"].endswith(SINKHOLE.name)
    assert summary["error"] is None
    assert summary["read"] == summary["accepted"] + summary["duplicates"] + summary["rejected"]
    assert summary["accepted"] > 0

    again = CliRunner().invoke(app, ["ingest", "--json", str(SINKHOLE)], env={"SITREP_HOME": str(home)})
    assert again.exit_code == 0, again.output
    [repeat] = json.loads(again.stdout)
    assert repeat["accepted"] == 0
    assert repeat["duplicates"] == summary["accepted"] + summary["duplicates"]
    assert repeat["read"] == summary["read"]


def test_ingest_loads_only_what_it_uses(workspace: Workspace, tmp_path: Path) -> None:
    """A command imports its own module only: ingesting a file starts without the incident store's
    SQLAlchemy, the metrics' Ibis or pandas (together about half a second at every start)."""
    [report] = [r for r in load_reports() if r.key == "event4_sinkhole"]
    sinkhole = tmp_path / file_name(report)
    sinkhole.write_text(report_csv(report), encoding="utf-8")
    script = (
        "import sys\n"
        "from sitrep.cli import main\n"
        f"sys.argv = ['sitrep', '--home', {str(workspace.root)!r}, 'ingest', '--json', {str(sinkhole)!r}]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exit:\n"
        "    assert not exit.code, exit.code\n"
        "print(sorted(m for m in ('sqlalchemy', 'ibis', 'pandas') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    *summary, modules = result.stdout.strip().splitlines()
    assert json.loads("".join(summary))[0]["accepted"] == 3
    assert modules == "[]"


def test_ingest_fixture_workspace_via_cwd(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workspace.root)
    monkeypatch.delenv("SITREP_HOME", raising=False)
    result = CliRunner().invoke(app, ["ingest", "--json", "-q", str(SAMPLES / "zoneh-defacements.csv")])
    assert result.exit_code == 0, result.output
    [summary] = json.loads(result.stdout)
    assert summary["format"] == "zoneh-defacements"
    assert len(lake_rows(workspace)) == summary["accepted"] > 0


def test_ingest_missing_file_fails(workspace: Workspace, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-feed.csv"
    result = CliRunner().invoke(app, ["--home", str(workspace.root), "ingest", str(missing)])
    assert result.exit_code == 1
    assert "error" in result.stderr
    assert "no such file" in result.stderr
    assert lake_rows(workspace) == []


def test_missing_workspace_is_a_clear_error(tmp_path: Path) -> None:
    result = run("--home", "/nonexistent", "metrics", cwd=tmp_path)
    assert result.returncode == 2
    assert "no workspace at /nonexistent" in result.stderr
    assert "sitrep init" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_week_is_a_clear_error(workspace: Workspace) -> None:
    result = CliRunner().invoke(app, ["--home", str(workspace.root), "metrics", "--week", "nonsense"])
    assert result.exit_code == 2
    assert "'nonsense' is not an ISO week; expected the form 2025-W01" in result.stderr
    assert "Traceback" not in result.stderr


def test_formats_json_lists_every_feed() -> None:
    result = CliRunner().invoke(app, ["formats", "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert [f["name"] for f in listed] == [f.name for f in all_feeds()]
    assert all(set(f) == {"name", "provider", "class", "summary"} and f["summary"] for f in listed)
    assert {"shadowserver-event4-sinkhole", "cnvd", "nvd-cve", "openphish", "phishtank", "intelmq"} <= {
        f["name"] for f in listed
    }


def test_unknown_format_is_refused(workspace: Workspace) -> None:
    result = CliRunner().invoke(app, ["--home", str(workspace.root), "ingest", "-f", "nope", str(SINKHOLE)])
    assert result.exit_code == 2
    assert lake_rows(workspace) == []


def test_metrics_json_of_an_empty_workspace(workspace: Workspace) -> None:
    result = CliRunner().invoke(app, ["--home", str(workspace.root), "metrics", "--week", "2025-W01", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["schema"] == "sitrep.metrics/1"
    assert data["week"] == "2025-W01" and data["previous_week"] == "2024-W52"
    assert (data["start"], data["end"]) == ("2024-12-30", "2025-01-05")
    assert len(data["indicators"]) == 8
    assert all(
        v["value"] == 0 and v["previous"] is None and v["change_pct"] is None for v in data["indicators"].values()
    )


@pytest.mark.parametrize("on_path", [True, False])
def test_printed_commands_name_the_program_as_it_can_be_run(on_path: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo's "Try:" line names ``sitrep`` only when the shell finds it; before ``.venv`` is activated
    it names the script's path, so the line works when pasted."""
    from sitrep.cli.common import program

    monkeypatch.setattr(sys, "argv", [str(SITREP), "demo"])
    monkeypatch.setenv("PATH", str(SITREP.parent) if on_path else "/usr/bin:/bin")
    name = program()
    assert (name == "sitrep") is on_path
    pasted = subprocess.run(f"{name} --version", shell=True, capture_output=True, text=True, check=False)
    assert pasted.returncode == 0 and pasted.stdout.startswith("sitrep "), pasted.stderr
