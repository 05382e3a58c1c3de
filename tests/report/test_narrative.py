"""The narrative of an issue: validated plain text, stored atomically per week, printed escaped in the
overview of every format without changing a number, frozen by publishing and re-published by a refresh."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from sitrep.cli import app
from sitrep.report.archive import archive, load_issue
from sitrep.report.narrative import (
    MAX_HIGHLIGHT,
    MAX_HIGHLIGHTS,
    MAX_SUMMARY,
    NarrativeError,
    StaleNarrative,
    Text,
    clean_text,
    load_narrative,
    narrative_path,
    save_narrative,
)
from sitrep.report.publish import publish, render_week, unpublish

from .data import WEEK, build_workspace

runner = CliRunner()
HOSTILE = '"><img src=x onerror=alert(1)><script>alert(2)</script>'
SUMMARY = f"本周钓鱼页面增多{HOSTILE}，请注意防范。"
HIGHLIGHTS = (f"要点一{HOSTILE}", "- 要点二 *不是强调*")


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory):
    return build_workspace(tmp_path_factory.mktemp("narrative") / "ws")


def _run(ws, *args: str, code: int = 0):
    result = runner.invoke(app, ["--home", str(ws.root), *args])
    assert result.exit_code == code, result.output
    return result


def test_text_is_one_paragraph_of_plain_text_within_its_limits():
    zh = clean_text("zh", "第一行\n  第二行 \r\n", ["  要点 一 ", "", "\n", "要点二"])
    assert zh == Text("第一行第二行", ("要点 一", "要点二"))
    assert clean_text("en", "first line\nsecond  line", []).summary == "first line second line"
    assert clean_text("zh", f"<b>{HOSTILE}</b>", []).summary == f"<b>{HOSTILE}</b>"  # text, escaped when shown
    assert clean_text("en", "x" * MAX_SUMMARY, ["y" * MAX_HIGHLIGHT] * MAX_HIGHLIGHTS).summary == "x" * MAX_SUMMARY
    refused = [
        (("zh", "x" * (MAX_SUMMARY + 1), []), f"zh summary is {MAX_SUMMARY + 1} characters long"),
        (("en", "", ["y" * (MAX_HIGHLIGHT + 1)]), "en highlight 1 is"),
        (("en", "", ["y"] * (MAX_HIGHLIGHTS + 1)), f"{MAX_HIGHLIGHTS + 1} en highlights"),
        (("zh", "bell\x07", []), "U+0007"),
        (("zh", "", ["ok", "reversed\u202etxt"]), "zh highlight 2 contains the control character U+202E"),
        (("fr", "bonjour", []), "unknown language 'fr'"),
    ]
    for args, message in refused:
        with pytest.raises(NarrativeError, match=re.escape(message)):
            clean_text(*args)


def test_saving_one_language_keeps_the_other_and_refuses_a_stale_edit(tmp_path):
    ws = build_workspace(tmp_path / "ws")
    empty = load_narrative(ws, WEEK)
    assert empty.empty and empty.updated_at is None
    first = save_narrative(ws, WEEK, {"zh": clean_text("zh", SUMMARY, HIGHLIGHTS)}, author="alice")
    assert first.version != empty.version
    save_narrative(ws, WEEK, {"en": clean_text("en", "English summary", [])}, author="bob")
    stored = load_narrative(ws, WEEK)
    assert stored.text("zh") == Text(SUMMARY, HIGHLIGHTS) and stored.text("en").summary == "English summary"
    assert stored.updated_by == "bob"
    assert [p.name for p in narrative_path(ws, WEEK).parent.iterdir()] == [f"{WEEK}.json"]  # no work file left
    with pytest.raises(StaleNarrative, match="changed by bob"):
        save_narrative(ws, WEEK, {"zh": Text("late")}, author="alice", expected_version=first.version)
    assert load_narrative(ws, WEEK).text("zh").summary == SUMMARY
    saved = save_narrative(ws, WEEK, {"zh": Text("now")}, author="alice", expected_version=stored.version)
    assert saved.text("zh").summary == "now"


def test_a_week_that_has_not_started_and_damaged_files_are_refused_by_name(tmp_path):
    ws = build_workspace(tmp_path / "ws")
    with pytest.raises(NarrativeError, match="has not started"):
        save_narrative(ws, WEEK, {"zh": Text("x")}, author="a", now=datetime(2024, 12, 1, tzinfo=UTC))
    path = narrative_path(ws, WEEK)
    path.parent.mkdir(parents=True)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(NarrativeError, match=re.escape(str(path))):
        load_narrative(ws, WEEK)
    path.write_text(json.dumps({"schema": "sitrep.narrative/1", "week": "2025-W02", "texts": {}}), encoding="utf-8")
    with pytest.raises(NarrativeError, match="not the narrative of 2025-W01"):
        load_narrative(ws, WEEK)
    path.unlink()
    os.symlink(tmp_path / "elsewhere.json", path)
    with pytest.raises(NarrativeError, match="symbolic link"):
        save_narrative(ws, WEEK, {"zh": Text("x")}, author="a")
    assert not (tmp_path / "elsewhere.json").exists()


def _pdf_text(path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils (pdftotext) missing: cannot read the PDF's text")
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_every_format_prints_the_narrative_escaped_and_no_number_changes(ws, tmp_path):
    before = tmp_path / "before"
    render_week(ws, WEEK, langs=["zh"], formats=["json"], out=before)
    save_narrative(ws, WEEK, {"zh": clean_text("zh", SUMMARY, HIGHLIGHTS)}, author="alice")
    after = tmp_path / "after"
    render_week(ws, WEEK, langs=["zh"], out=after)

    old = json.loads((before / "report.zh.json").read_text(encoding="utf-8"))
    new = json.loads((after / "report.zh.json").read_text(encoding="utf-8"))
    for key in ("indicators", "breakdowns", "incidents", "rating", "trend"):
        assert new[key] == old[key], key
    overview = new["sections"][0]
    assert overview["key"] == "overview" and overview["summary"] == SUMMARY
    assert overview["highlights"] == list(HIGHLIGHTS)
    assert (
        overview["table"] == old["sections"][0]["table"] and overview["paragraphs"] == old["sections"][0]["paragraphs"]
    )

    for name in ("report.zh.html", "report.zh.wechat.html"):
        text = (after / name).read_text(encoding="utf-8")
        assert "<script>alert" not in text and "<img src=x" not in text
        assert "本周钓鱼页面增多&#34;&gt;&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;" in text
        assert "本周要点" in text and "- 要点二 *不是强调*" in text
        # In the overview: after its heading, before the next section's (the WeChat article's next is 5).
        following = "本周网络病毒活动情况" if name == "report.zh.html" else "本周事件处理情况"
        assert text.index("本周网络安全基本态势") < text.index("本周钓鱼页面增多") < text.index(following)
    markdown = (after / "report.zh.md").read_text(encoding="utf-8")
    assert '- 要点一"\\>\\<img src=x onerror=alert(1)\\>\\<script\\>' in markdown  # backslash-escaped: inert
    shown = MarkdownIt("commonmark").render(markdown)  # what a Markdown viewer makes of it: text, no tags
    assert "<script" not in shown and "<img src=x" not in shown and "&lt;img src=x onerror=alert(1)&gt;" in shown
    assert "- \\- 要点二 \\*不是强调\\*" in markdown  # a list marker and emphasis stay text
    pdf = _pdf_text(after / "report.zh.pdf")
    assert "本周钓鱼页面增多" in pdf and "本周要点" in pdf and "要点一" in pdf


def test_publishing_freezes_the_narrative_and_a_refresh_publishes_an_edit(tmp_path):
    ws = build_workspace(tmp_path / "ws")
    save_narrative(ws, WEEK, {"zh": clean_text("zh", "发布时的摘要", ["发布时的要点"])}, author="alice")
    assert publish(ws, WEEK).status == "published"
    issue = load_issue(ws, WEEK)
    assert issue is not None and issue.narrative["zh"] == Text("发布时的摘要", ("发布时的要点",))

    save_narrative(ws, WEEK, {"zh": clean_text("zh", "修改后的摘要", ["要点甲", "发布时的要点"])}, author="bob")
    out = tmp_path / "out"
    render_week(ws, WEEK, langs=["zh"], formats=["json"], out=out)
    printed = json.loads((out / "report.zh.json").read_text(encoding="utf-8"))["sections"][0]
    assert printed["summary"] == "发布时的摘要"  # the published issue prints what it published
    assert publish(ws, WEEK).status == "unchanged"  # without --refresh nothing is re-read

    refreshed = publish(ws, WEEK, refresh=True)
    assert refreshed.status == "refreshed" and refreshed.revision == 2 and refreshed.changes == []
    told = {c["path"]: (c["old"], c["new"]) for c in refreshed.narrative_changes}
    assert told == {
        "narrative.zh.summary": ("发布时的摘要", "修改后的摘要"),
        "narrative.zh.highlights[1]": ("发布时的要点", "要点甲"),
        "narrative.zh.highlights[2]": (None, "发布时的要点"),
    }
    issue = load_issue(ws, WEEK)
    assert issue is not None and issue.history[-1]["narrative_changes"] == refreshed.narrative_changes
    assert issue.narrative["zh"].summary == "修改后的摘要"
    assert publish(ws, WEEK, refresh=True).status == "unchanged"

    unpublish(ws, WEEK, reason="test")
    save_narrative(ws, WEEK, {"zh": Text("撤回后的草稿")}, author="bob")
    render_week(ws, WEEK, langs=["zh"], formats=["json"], out=out)
    assert json.loads((out / "report.zh.json").read_text(encoding="utf-8"))["sections"][0]["summary"] == "撤回后的草稿"


def test_a_damaged_narrative_in_an_issue_makes_it_a_stray(tmp_path):
    ws = build_workspace(tmp_path / "ws")
    path = publish(ws, WEEK, force_reason="test").path
    document = json.loads(path.read_text(encoding="utf-8"))
    document["narrative"] = {"zh": {"summary": 3, "highlights": []}}
    path.write_text(json.dumps(document), encoding="utf-8")
    found = archive(ws)
    assert found.issues == [] and "narrative is damaged" in found.strays[0].problem


def test_the_cli_shows_and_sets_one_language(ws, tmp_path):
    zh = load_narrative(ws, WEEK).text("zh")
    summary = tmp_path / "summary.txt"
    summary.write_text("Phishing rose\nsharply this week.\n", encoding="utf-8")
    result = _run(
        ws,
        "narrative",
        "set",
        "-w",
        str(WEEK),
        "--lang",
        "en",
        "--summary-file",
        str(summary),
        "--highlight",
        "First",
        "--highlight",
        "Second",
        "--actor",
        "carol",
    )
    assert "en narrative saved (32 characters, 2 highlights)" in result.stdout
    shown = json.loads(_run(ws, "narrative", "show", "-w", str(WEEK), "--json").stdout)
    assert shown["texts"]["en"] == {"summary": "Phishing rose sharply this week.", "highlights": ["First", "Second"]}
    assert shown["updated_by"] == "carol" and shown["published"] is None
    assert shown["texts"]["zh"] == zh.as_dict()  # the other language is left as it was
    _run(ws, "narrative", "set", "-w", str(WEEK), "--lang", "en", "--clear-highlights")
    assert load_narrative(ws, WEEK).text("en") == Text("Phishing rose sharply this week.")
    refused = _run(ws, "narrative", "set", "-w", str(WEEK), "--lang", "en", "--summary", "x" * 2000, code=2)
    assert "en summary is 2000 characters long" in refused.output
    assert "--lang 'de'" in _run(ws, "narrative", "set", "--lang", "de", "--summary", "x", code=2).output
    assert (
        "Usage" in _run(ws, "narrative", "--help").output
        and "--highlight" in _run(ws, "narrative", "set", "--help").output
    )
