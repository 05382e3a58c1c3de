"""Real files in every format from the shared workspace: escaping, self-containment, WeChat rules,
the JSON schema with the IDs behind each number, and no TLP:AMBER/RED detail anywhere."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from sitrep.report.publish import render_week
from sitrep.report.redact import restricted_id

from .data import AMBER_FAMILY, HOSTILE_FAMILY, RESTRICTED_STRINGS, WEEK

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) missing")


@pytest.fixture(scope="module")
def rendered(built, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("rendered")
    # Last week's draft rendered beside: 近期回顾 links it, the only earlier issue that exists.
    render_week(built, WEEK - 1, formats=["html"], out=root / str(WEEK - 1))
    files = render_week(built, WEEK, out=root / str(WEEK))
    return {p.name: p for p in files}


def _text(path: Path) -> str:
    if path.suffix == ".png":
        return ""  # a WeChat chart image: its chart's text is checked in the chart's SVG
    if path.suffix == ".pdf":
        # Lines wrap anywhere in Chinese text: compare without whitespace.
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
        return re.sub(r"\s+", "", text)
    return path.read_text(encoding="utf-8")


def test_every_format_of_both_languages_is_written(rendered):
    for lang in ("zh", "en"):
        for suffix in ("html", "pdf", "md", "json", "wechat.html"):
            assert f"report.{lang}.{suffix}" in rendered
    assert "zh-trend.svg" in rendered
    assert rendered["report.zh.pdf"].read_bytes().startswith(b"%PDF")


def test_no_tlp_amber_or_red_detail_in_any_format(rendered):
    checked = 0
    for name, path in rendered.items():
        text = _text(path)
        for secret in RESTRICTED_STRINGS:
            assert secret not in text, f"{secret!r} leaked into {name}"
        checked += 1
    assert checked >= 20
    # The numbers still count the restricted data: 6 phishing pages include the AMBER one.
    data = json.loads(rendered["report.zh.json"].read_text(encoding="utf-8"))
    assert data["indicators"]["phishing_pages"]["value"] == 6
    assert data["incidents"]["handled"]["value"] == 67
    assert any(i.startswith("restricted-") for i in data["incidents"]["handled"]["incidents"])


def test_pdf_has_legible_chinese_text_and_embedded_font(rendered):
    text = _text(rendered["report.zh.pdf"])
    assert "网络安全信息与动态周报2025年第1期" in text
    assert "共处理网络安全事件67起" in text
    assert "境内感染网络病毒的主机地区分布" in text
    assert "广东" in text and "被篡改政府网站" in text  # chart labels stay text (svg.fonttype none)
    fonts = subprocess.run(["pdffonts", str(rendered["report.zh.pdf"])], capture_output=True, text=True).stdout
    assert "Noto-Sans-SC" in fonts


def test_hostile_feed_data_is_escaped(rendered):
    # (The WeChat article has no section 2; test_wechat.py checks its escaping.)
    for name in ("report.zh.html", "report.en.html"):
        html = rendered[name].read_text(encoding="utf-8")
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert HOSTILE_FAMILY not in html
        assert "<script" not in html
    md = rendered["report.zh.md"].read_text(encoding="utf-8")
    assert "\\<script\\>alert(1)\\</script\\>" in md  # backslash-escaped, no entity
    shown = MarkdownIt("commonmark").render(md)
    assert "<script" not in shown and "&lt;script&gt;alert(1)&lt;/script&gt;" in shown
    data = json.loads(rendered["report.zh.json"].read_text(encoding="utf-8"))
    assert HOSTILE_FAMILY in [f["name"] for f in data["breakdowns"]["malware_families"]]
    # A family name from AMBER data is an aggregate's name, which the default policy prints.
    assert AMBER_FAMILY in [f["name"] for f in data["breakdowns"]["malware_families"]]


def test_html_is_self_contained(rendered):
    html = rendered["report.zh.html"].read_text(encoding="utf-8")
    assert "<style>" in html and html.count("<svg") == 8
    external = re.findall(r"""(?:src|href)\s*=\s*["']?(https?:|//)""", html)
    assert external == []
    assert not re.search(r"<(?:link|img|script|iframe)\b", html)
    style = html.split("</style>")[0].split("<style>")[1]
    # The only url() is the embedded font, as a data URI.
    assert re.findall(r"url\((?!data:font/woff;base64,)", style) == []
    assert "@font-face" in style
    assert 'href="../2024-W52/report.zh.html"' in html
    assert '<meta name="viewport"' in html and "@media print" in html


def test_wechat_article_uses_inline_styles_only(rendered):
    body = rendered["report.zh.wechat.html"].read_text(encoding="utf-8")
    assert "<style" not in body and "<script" not in body and "class=" not in body
    assert not re.search(r"<(?:p|h1|h2|table|td|th)\b(?![^>]*style=)[^>]*>", body)
    assert body.count('style="') > 50
    assert "本周，CNCERT协调云服务商" in body


def test_markdown_edition(rendered):
    md = rendered["report.zh.md"].read_text(encoding="utf-8")
    assert md.startswith("# 网络安全信息与动态周报2025年第1期（2024年12月30日-2025年1月5日）\n")
    assert "| 境内感染网络病毒的主机数量 | 12 | 12 | 持平 |" in md
    assert "![主要指标近8周走势](charts/zh-trend.svg)" in md
    assert "[●网络安全信息与动态周报2024年第52期（12月23日-12月29日）](<../2024-W52/report.zh.html>)" in md


def test_json_schema_has_every_number_with_its_ids(rendered, facts, secret):
    data = json.loads(rendered["report.en.json"].read_text(encoding="utf-8"))
    assert data["schema"] == "sitrep.report/2" and data["week"] == "2025-W01" and data["tlp"] == "CLEAR"
    assert set(data["indicators"]) == {
        "infected_hosts",
        "defaced_sites",
        "defaced_gov_sites",
        "backdoored_sites",
        "backdoored_gov_sites",
        "phishing_pages",
        "new_vulnerabilities",
        "new_high_vulnerabilities",
    }
    assert data["indicators"]["infected_hosts"]["value"] == 12
    # CLEAR events keep their IDs; the AMBER ones are counted, with one keyed digest of their set.
    behind = facts.evidence["infected_hosts"]
    public = [i for i in behind if i in facts.public_events]
    hidden = sorted(i for i in behind if i not in facts.public_events)
    infected = data["evidence"]["infected_hosts"]
    assert len(public) == 1 and infected["events"] == public
    assert infected["restricted_events"] == {"count": 11, "digest": restricted_id(secret, "events", "\n".join(hidden))}
    assert not any(i in json.dumps(data) for i in hidden)
    assert set(data["evidence"]) == {*data["indicators"], "malware_hosting"}
    high = data["evidence"]["new_high_vulnerabilities"]
    assert len(high["events"]) + high["restricted_events"]["count"] == 4
    inc = data["incidents"]
    assert [
        inc[k]["value"]
        for k in ("handled", "cross_border", "phishing", "mobile_malware_urls", "mobile_malware_platforms")
    ] == [67, 28, 38, 14, 12]
    assert len(inc["handled"]["incidents"]) == 67 and len(inc["cross_border"]["incidents"]) == 28
    assert "R-006" in inc["phishing"]["incidents"]  # the one TLP:CLEAR incident keeps its ref
    assert inc["by_category"]["mobile-malware"]["value"] == 14
    assert data["rating"]["label"] == "良" and len(data["rating"]["ratios"]) == 5
    assert len(data["trend"]) == 8 and data["trend"][-1]["week"] == "2025-W01"
    hosting = data["evidence"]["malware_hosting"]
    assert len(hosting["events"]) + hosting["restricted_events"]["count"] == 5
    assert data["breakdown_evidence"]["regions"] == ["infected_hosts"]
    assert [s["key"] for s in data["sections"]] == ["overview", "malware", "websites", "vulns", "incidents", "review"]
