"""Links and numbers a reader can trust: 近期回顾 lists only issues that exist, and a week with no
earlier data shows "—" for last week and the change, never 0, in every format and in ``sitrep metrics``."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sitrep.cli import app
from sitrep.config import Workspace
from sitrep.report.publish import editions, previous_issues, publish, render_week, unpublish

from .data import WEEK, build_workspace

# The lake of the shared workspace starts with this week (data.py: nine weeks up to 2025-W01).
FIRST = WEEK - 8


def _links(ws: Workspace, lang: str, folder: Path | None) -> list[str]:
    (report,) = editions(ws, WEEK, [lang], folder=folder)
    return [link.week for link in report.section("review").links]


def test_review_lists_published_issues_and_drafts_rendered_beside_newest_first(tmp_path):
    ws = build_workspace(tmp_path / "ws")
    here = ws.reports_dir / str(WEEK)
    # Nothing published, nothing rendered: no invented weeks, and the section says so.
    (zh,) = editions(ws, WEEK, ["zh"], folder=here)
    assert zh.section("review").links == [] and zh.section("review").paragraphs == ["暂无往期。"]
    assert editions(ws, WEEK, ["en"], folder=here)[0].section("review").paragraphs == ["No earlier issues."]

    for back in (1, 3, 4, 5, 6):
        assert publish(ws, WEEK - back).status == "published"
    unpublish(ws, WEEK - 1, reason="wrong numbers")
    # Drafts in the output folder: 2 weeks back in Chinese only, and the withdrawn week (a withdrawn
    # issue renders as a draft; still not an issue to point readers to).
    render_week(ws, WEEK - 2, langs=["zh"], formats=["html"])
    render_week(ws, WEEK - 1, langs=["zh"], formats=["html"])
    (ws.reports_dir / "2024-w51").mkdir()  # not a week's folder as the links name it

    newest_five = [str(WEEK - b) for b in (2, 3, 4, 5, 6)]
    assert _links(ws, "zh", here) == newest_five
    assert _links(ws, "en", here) == [str(WEEK - b) for b in (3, 4, 5, 6)]
    # Written elsewhere, the drafts are not beside it: the published issues only.
    assert _links(ws, "zh", tmp_path / "elsewhere" / str(WEEK)) == [str(WEEK - b) for b in (3, 4, 5, 6)]
    assert _links(ws, "zh", None) == [str(WEEK - b) for b in (3, 4, 5, 6)]
    # Never a later week, and the count is a limit.
    assert previous_issues(ws, WEEK - 4, "zh", folder=here) == [WEEK - 5, WEEK - 6]
    assert previous_issues(ws, WEEK, "zh", folder=here, count=2) == [WEEK - 2, WEEK - 3]

    # The edition links them in that order; the draft's link leads to its file.
    written = render_week(ws, WEEK, langs=["zh"], formats=["md"])
    md = written[-1].read_text(encoding="utf-8")
    hrefs = re.findall(r"\]\(<(\.\./[^>]+)>\)", md)
    assert hrefs == [f"../{w}/report.zh.html" for w in newest_five]
    assert (here / hrefs[0]).resolve().is_file()


def test_with_a_public_archive_the_review_links_there_and_only_to_published_issues(tmp_path):
    ws = build_workspace(tmp_path / "ws", report={"base_url": "https://cert.example.org/weekly/"})
    publish(ws, WEEK - 3)
    render_week(ws, WEEK - 1, langs=["zh"], formats=["html"])  # a draft: not on the public archive
    (zh,) = editions(ws, WEEK, ["zh"], folder=ws.reports_dir / str(WEEK))
    links = zh.section("review").links
    assert [link.href for link in links] == [f"https://cert.example.org/weekly/{WEEK - 3}/report.zh.html"]


@pytest.fixture(scope="module")
def first_week(built: Workspace, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every format of the lake's first week, both languages."""
    out = tmp_path_factory.mktemp("first") / str(FIRST)
    render_week(built, FIRST, out=out)
    return out


def test_no_earlier_data_is_a_dash_in_every_format(built: Workspace, first_week: Path):
    zh, en = editions(built, FIRST, ["zh", "en"])
    for report in (zh, en):
        table = report.section("overview").table
        assert all(row.previous is None and row.previous_text == "—" and row.change_text == "—" for row in table)
        assert all(row.direction == "none" for row in table)
    # The GOV sentence says there is nothing to compare with, not that last week was 0.
    assert (
        "上周无数据" in zh.section("websites").paragraphs[1] and "上周为0" not in zh.section("websites").paragraphs[1]
    )
    assert "no data for last week" in en.section("websites").paragraphs[1]

    md = (first_week / "report.zh.md").read_text(encoding="utf-8")
    assert "| 境内感染网络病毒的主机数量 | 12 | — | — |" in md
    assert "| Malware-infected hosts | 12 | — | — |" in (first_week / "report.en.md").read_text(encoding="utf-8")
    # The full edition's table: indicator, this week, last week, change; the WeChat article's (short):
    # indicator, this week, change.
    for name, width in (("report.zh.html", 4), ("report.en.html", 4), ("report.zh.wechat.html", 3)):
        cells = re.findall(r"<td[^>]*>([^<]*)</td>", (first_week / name).read_text(encoding="utf-8"))
        rows = [cells[i : i + width] for i in range(0, 8 * width, width)]
        assert all(row[1].isdigit() for row in rows), name
        assert all(set(row[2:]) == {"—"} for row in rows), (name, rows)
    document = json.loads((first_week / "report.en.json").read_text(encoding="utf-8"))
    assert all(v["previous"] is None and v["change_pct"] is None for v in document["indicators"].values())
    assert all(row["previous"] is None for row in document["sections"][0]["table"])
    if shutil.which("pdftotext"):
        pdf = subprocess.run(["pdftotext", str(first_week / "report.en.pdf"), "-"], capture_output=True, text=True)
        table = pdf.stdout[pdf.stdout.index("Last week") : pdf.stdout.index("Basis")]
        assert table.count("—") == 16 and " 0\n" not in table


def test_metrics_prints_a_dash_where_there_is_no_earlier_data(built: Workspace):
    runner = CliRunner()
    first = runner.invoke(app, ["--home", str(built.root), "metrics", "--week", str(FIRST)])
    assert first.exit_code == 0, first.output
    row = next(line for line in first.output.splitlines() if "境内感染网络病毒的主机数量" in line)
    assert re.search(r"12 │\s+— │\s+—", row), row
    data = json.loads(runner.invoke(app, ["--home", str(built.root), "metrics", "--week", str(FIRST), "--json"]).output)
    assert data["indicators"]["infected_hosts"]["previous"] is None
    # The next week has earlier data: real numbers, 持平 against the same count.
    second = runner.invoke(app, ["--home", str(built.root), "metrics", "--week", str(FIRST + 1)])
    row = next(line for line in second.output.splitlines() if "境内感染网络病毒的主机数量" in line)
    assert re.search(r"12 │\s+12 │\s+持平", row), row
