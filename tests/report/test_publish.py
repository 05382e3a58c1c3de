"""Publishing freezes an issue; ``--refresh`` re-computes and records; the archive site and its feed."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sitrep.cli import app
from sitrep.incidents.db import session_scope
from sitrep.incidents.importer import import_incidents
from sitrep.report.archive import load_issue

from .data import WEEK, build_workspace, week_events, write_events

runner = CliRunner()
ATOM = "{http://www.w3.org/2005/Atom}"


def _run(ws, *args: str):
    result = runner.invoke(app, ["--home", str(ws.root), *args])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def ws(tmp_path):
    return build_workspace(tmp_path / "ws")


def _later_changes(ws, tmp_path: Path) -> None:
    """What happens after publication: two more phishing pages ingested, one more incident resolved."""
    extra = [r for r in week_events(WEEK, planted=False, extra_phishing=2) if r["classification_type"] == "phishing"]
    write_events(ws, extra[-2:], "later")
    path = tmp_path / "late.csv"
    path.write_text(
        "ref,title,category,reported_at,resolved_at,status,partner,partner_type,asset,tlp\n"
        "LATE-1,迟到事件,phishing,2025-01-03T09:00,2025-01-03T10:00,resolved,阿里云万网,registrar,"
        "http://late.example.com/,CLEAR\n",
        encoding="utf-8",
    )
    with session_scope(ws) as session:
        assert not import_incidents(session, path, workspace=ws, actor="t").rejects


def test_publish_freezes_numbers_and_refresh_records_the_change(ws, tmp_path):
    result = _run(ws, "publish", "--week", "2025-W01", "--json")
    assert json.loads(result.stdout)["status"] == "published"
    first = tmp_path / "first"
    _run(ws, "report", "--week", "2025-W01", "--lang", "zh", "--format", "json,html", "-o", str(first))

    _later_changes(ws, tmp_path)
    again = tmp_path / "again"
    _run(ws, "report", "--week", "2025-W01", "--lang", "zh", "--format", "json,html", "-o", str(again))
    for name in ("report.zh.json", "report.zh.html"):
        assert (again / name).read_bytes() == (first / name).read_bytes()
    frozen = json.loads((again / "report.zh.json").read_text(encoding="utf-8"))
    assert frozen["indicators"]["phishing_pages"]["value"] == 6 and frozen["revision"] == 1

    unchanged = json.loads(_run(ws, "publish", "--week", "2025-W01", "--json").stdout)
    assert unchanged["status"] == "unchanged" and unchanged["revision"] == 1

    refreshed = json.loads(_run(ws, "publish", "--week", "2025-W01", "--refresh", "--json").stdout)
    assert refreshed["status"] == "refreshed" and refreshed["revision"] == 2
    changes = {c["path"]: c for c in refreshed["changes"]}
    assert (
        changes["metrics.indicators.phishing_pages.value"]["old"],
        changes["metrics.indicators.phishing_pages.value"]["new"],
    ) == (6, 8)
    assert (changes["incidents.numbers.handled"]["old"], changes["incidents.numbers.handled"]["new"]) == (67, 68)
    assert changes["incidents.evidence.handled"]["added"] == ["LATE-1"]
    assert len(changes["evidence.phishing_pages"]["added"]) == 2

    issue = load_issue(ws, WEEK)
    assert [h["action"] for h in issue.history] == ["published", "refreshed"]
    assert issue.history[1]["changes"] == refreshed["changes"]
    out = tmp_path / "refreshed"
    _run(ws, "report", "--week", "2025-W01", "--lang", "en", "--format", "json", "-o", str(out))
    data = json.loads((out / "report.en.json").read_text(encoding="utf-8"))
    assert data["indicators"]["phishing_pages"]["value"] == 8 and data["revision"] == 2


def test_report_defaults_and_bad_options(ws):
    result = runner.invoke(app, ["--home", str(ws.root), "report", "--week", "2025-W01", "--format", "docx"])
    assert result.exit_code == 2 and "--format" in result.output
    result = runner.invoke(app, ["--home", str(ws.root), "report", "--week", "2025-W01", "--lang", "fr"])
    assert result.exit_code == 2
    _run(ws, "report", "--week", "2025-W01", "--format", "md")
    folder = ws.reports_dir / "2025-W01"
    assert sorted(p.name for p in folder.glob("report.*")) == ["report.en.md", "report.zh.md"]


def test_site_index_feed_and_recent_issues(ws, tmp_path):
    weeks = [WEEK - i for i in range(5, -1, -1)]  # 2024-W48 … 2025-W01
    for week in weeks:
        _run(ws, "publish", "--week", str(week))
    site = tmp_path / "site"
    _run(ws, "site", "-o", str(site))

    index = (site / "index.html").read_text(encoding="utf-8")
    for week in weeks:
        assert f'href="{week}/report.zh.html"' in index
        assert (site / str(week) / "report.en.html").is_file()
    assert index.index("2025年第1期") < index.index("2024年第52期")  # newest first
    assert (site / "index.en.html").is_file()

    feed = ET.parse(site / "feed.xml").getroot()
    assert feed.tag == f"{ATOM}feed"
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 6
    assert entries[0].find(f"{ATOM}title").text == "网络安全信息与动态周报2025年第1期（2024年12月30日-2025年1月5日）"
    assert all(e.find(f"{ATOM}id").text and e.find(f"{ATOM}updated").text for e in entries)

    page = (site / "2025-W01" / "report.zh.html").read_text(encoding="utf-8")
    review = page[page.index('id="review"') :]
    links = [f"../{w}/report.zh.html" for w in (WEEK - 1, WEEK - 2, WEEK - 3, WEEK - 4, WEEK - 5)]
    positions = [review.index(f'href="{link}"') for link in links]
    assert positions == sorted(positions)
    assert review.count("<li>") == 5
    # (Its dates and numbers are in spans that keep them on one line.)
    assert "●网络安全信息与动态周报2024年第52期（12月23日-12月29日）" in re.sub(r"<[^>]+>", "", review)
    for link in links:
        assert (site / "2025-W01" / link).resolve().is_file()
