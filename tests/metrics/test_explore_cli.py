"""``sitrep events`` as a user runs it: pages, the next-page cursor, exports, and one clear error line
(exit 2, no traceback) for each bad input."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from helpers import write_events
from sitrep.cli import app

WEEK = "2025-W01"
MID = datetime(2025, 1, 2, 8, 0, tzinfo=UTC)


def event(ip, **more):
    row = {"time_source": MID, "source_ip": ip, "domestic": True}
    row.update(classification_taxonomy="malicious-code", classification_type="infected-system", **more)
    return row


runner = CliRunner()


@pytest.fixture
def ws(workspace):
    write_events(
        workspace,
        [
            event("10.1.2.3"),
            event("10.1.9.9", source_url="http://x.example.gov.cn/=HYPERLINK(1)", site="x.example.gov.cn"),
            event("192.0.2.1", source_url="http://[bold]red[/bold].example.com/", site="[bold]red[/bold].example.com"),
        ],
    )
    return workspace


def run(ws, *args: str):
    return runner.invoke(app, ["--home", str(ws.root), "events", *args])


def test_search_prints_one_line_per_event_and_the_cursor(ws):
    result = run(ws, "search", "--week", WEEK, "--ip", "10.1.0.0/16", "--limit", "1")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("time (UTC)") and len(lines) == 2
    assert "10.1." in lines[1] and MID.strftime("%Y-%m-%d") in lines[1]
    assert "More: add --after " in result.stderr
    cursor = result.stderr.split("--after ")[1].split()[0]
    second = run(ws, "search", "--week", WEEK, "--ip", "10.1.0.0/16", "--limit", "1", "--after", cursor, "--json")
    page = json.loads(second.stdout)
    # Both events have the same time: the later event_id comes first, so the second page is the other.
    assert "10.1.9.9" in lines[1] and [e["source_ip"] for e in page["events"]] == ["10.1.2.3"]
    assert page["next_cursor"] is None and set(page) == {"start", "end", "limit", "events", "next_cursor", "behind"}
    assert page["events"][0]["tlp"] == "CLEAR"


def test_feed_values_are_printed_as_text(ws):
    result = run(ws, "search", "--week", WEEK, "--domain", "example.com")
    assert "http://[bold]red[/bold].example.com/" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", "--ip", "10.0.0.0/33", "--week", WEEK], "IP '10.0.0.0/33' is not an IP address"),
        (["search", "--ip", "999.1.1.1", "--week", WEEK], "IP '999.1.1.1' is not an IP address"),
        (["search", "--week", "2025-W77"], "2025 has ISO weeks 1 to 52, not 77"),
        (["search", "--start", "2025-01-01"], "has a start but no end"),
        (["search", "--start", "2024-01-01", "--end", "2025-01-01"], "at most 31 days ([explorer] max_days"),
        (["search", "--week", WEEK, "--after", "nonsense"], "cursor 'nonsense' is not one this search returned"),
        (["behind", "hosts", "--week", WEEK], "no number 'hosts'"),
        (["behind", "infected_hosts", "--week", "W1"], "'W1' is not an ISO week"),
        (["export", "--week", WEEK, "--format", "xls", "-o", "x.xls"], "export format 'xls'"),
    ],
)
def test_bad_input_is_one_error_line(ws, args, message):
    result = run(ws, *args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("error: ") and message in errors[0], errors


def test_behind_and_export(ws, tmp_path):
    result = run(ws, "behind", "infected_hosts", "--week", WEEK, "--json")
    assert result.exit_code == 0, result.output
    page = json.loads(result.stdout)
    assert page["behind"] == {"week": WEEK, "number": "infected_hosts", "frozen": False, "events": 3}
    path = tmp_path / "gov.csv"
    result = run(ws, "export", "--week", WEEK, "--domain", "gov.cn", "--format", "csv", "-o", str(path))
    assert result.exit_code == 0, result.output
    assert f"Wrote 1 event to {path} (csv)" in result.stderr.replace("\n", "")
    with open(path, newline="", encoding="utf-8") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["source_url"] == "http://x.example.gov.cn/=HYPERLINK(1)" and row["source_ip"] == "10.1.9.9"
