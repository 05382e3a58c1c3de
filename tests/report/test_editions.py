"""The PDF as printed (titles unbroken, pages filled, fonts embedded), the WeChat article and its phone
images, the Markdown edition's chart files, the font cut, and the same bytes on every rendering."""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from PIL import Image

from sitrep.report.charts import PHONE_DPI, PHONE_WIDTH, png
from sitrep.report.model import Report
from sitrep.report.publish import editions, render_week
from sitrep.report.render.fontcut import cut_font, harfbuzz
from sitrep.report.render.html import unbroken
from sitrep.report.render.pdf import render_pdf
from sitrep.report.render.wechat import SECTIONS, render_wechat

from .data import HOSTILE_FAMILY, WEEK

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) missing")

A4_HEIGHT = 841.89  # pt
TOP, BOTTOM = 12 / 25.4 * 72, 14 / 25.4 * 72  # the @page margins of report.css, in pt


@pytest.fixture(scope="module")
def out(built, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("editions")
    render_week(built, WEEK, out=folder)
    return folder


@pytest.fixture(scope="module")
def zh(built) -> Report:
    return editions(built, WEEK, ["zh"])[0]


def _run(*command: str) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def _with_narrative(report: Report, summary: str, highlights: list[str]) -> Report:
    overview = replace(report.section("overview"), summary=summary, highlights=highlights)
    return replace(report, sections=[overview if s.key == "overview" else s for s in report.sections])


# Titles ------------------------------------------------------------------------------------------
def test_dates_and_numbers_are_kept_whole():
    span = '<span style="white-space:nowrap">'
    assert unbroken("周报2025年第1期（2024年12月30日-2025年1月5日）") == (
        f"周报{span}2025年</span>{span}第1期</span>（{span}2024年12月30日-2025年1月5日</span>）"
    )
    assert unbroken("Report 2026 No. 48 (23 Nov – 29 Nov 2026)") == (
        f"Report {span}2026</span> {span}No. 48</span> ({span}23 Nov – 29 Nov 2026</span>)"
    )
    assert unbroken("约3.2万个，上升28.2%") == f"约{span}3.2万</span>个，上升{span}28.2%</span>"
    # Escaped like any model string.
    assert unbroken("<b>1</b>") == f"&lt;b&gt;{span}1</span>&lt;/b&gt;"


def test_a_long_pdf_title_wraps_between_dates_never_inside_one(zh):
    # Twice the title: it must wrap, at several places, on an A4 page.
    long = replace(zh, title=f"{zh.title} {zh.title}")
    text = subprocess.run(["pdftotext", "-l", "1", "-", "-"], input=render_pdf(long), capture_output=True).stdout
    lines = text.decode("utf-8").splitlines()
    title_lines = [line for line in lines if "周报" in line or "日）" in line][:6]
    assert len(title_lines) >= 2, title_lines  # it did wrap
    joined = "\n".join(lines)
    for whole in ("2024年12月30日-2025年1月5日", "2025年第1期"):
        assert joined.count(whole) >= 2, f"{whole!r} broken across lines: {title_lines}"


# Fonts and pages -----------------------------------------------------------------------------------
def test_every_font_of_the_pdfs_is_embedded(out):
    for lang in ("zh", "en"):
        rows = _run("pdffonts", str(out / f"report.{lang}.pdf")).splitlines()[2:]
        assert rows, "no font listed"
        for row in rows:
            name, emb = row.split()[0], row.split()[-5]
            assert emb == "yes", f"{name} is not embedded in the {lang} PDF"
            assert "Noto-Sans-SC" in name, f"{lang} PDF falls back to {name}"


def _content_bottoms(pdf: Path) -> list[float]:
    """Per page, how far down (pt) the lowest text of the page body reaches (chart text included)."""
    html = _run("pdftotext", "-bbox", str(pdf), "-")
    bottoms = []
    for page in re.findall(r"<page [^>]*>(.*?)</page>", html, re.DOTALL):
        ends = [float(y) for y in re.findall(r'yMax="([\d.]+)"', page)]
        bottoms.append(max(y for y in ends if y < A4_HEIGHT - BOTTOM))
    return bottoms


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_pages_are_filled_but_the_last(out, lang):
    bottoms = _content_bottoms(out / f"report.{lang}.pdf")
    assert 2 <= len(bottoms) <= 4
    body = A4_HEIGHT - TOP - BOTTOM
    for number, bottom in enumerate(bottoms[:-1], 1):
        # (Before the print styles of issue 11, page 1 ended at 0.83: a quarter of the sheet empty.)
        assert (bottom - TOP) / body > 0.85, f"page {number} of the {lang} PDF is {1 - (bottom - TOP) / body:.0%} empty"


def test_pages_stay_filled_with_a_long_narrative(zh, tmp_path):
    # A chart that does not fit goes to the next page whole: what it leaves is bounded by its height.
    summary = "本周值得关注的是钓鱼页面与被植入后门网站数量的变化，" * 6
    highlights = [f"第{i}条要点：境内感染网络病毒的主机数量较上周有所变化，请各单位关注。" for i in range(1, 6)]
    path = tmp_path / "narrative.pdf"
    path.write_bytes(render_pdf(_with_narrative(zh, summary, highlights)))
    bottoms = _content_bottoms(path)
    body = A4_HEIGHT - TOP - BOTTOM
    assert "本周要点" in _run("pdftotext", str(path), "-")
    for number, bottom in enumerate(bottoms[:-1], 1):
        assert (bottom - TOP) / body > 0.75, f"page {number} is {1 - (bottom - TOP) / body:.0%} empty"


# WeChat ------------------------------------------------------------------------------------------
def test_the_wechat_article_is_short_and_its_images_are_beside_it(out, zh):
    body = (out / "report.zh.wechat.html").read_text(encoding="utf-8")
    assert "<svg" not in body and "<use" not in body
    headings = re.findall(r"<h2 [^>]*>(.*?)</h2>", body)
    assert [re.sub("<[^>]+>", "", h) for h in headings] == [zh.section(k).heading for k in SECTIONS]
    sources = re.findall(r'<img src="([^"]+)"', body)
    assert sources == ["wechat/zh/chart-trend.png"]
    assert sorted(p.name for p in (out / "wechat" / "zh").iterdir()) == ["chart-trend.png"]
    for source in sources:
        with Image.open(out / source) as image:
            assert image.format == "PNG"
            assert image.width == round(PHONE_WIDTH * PHONE_DPI)  # 1080 px: sharp on a 3x phone
    # Shorter than the full edition by far, and without its sections 2-4.
    assert len(body) < len((out / "report.zh.html").read_text(encoding="utf-8")) / 10
    assert zh.section("malware").heading not in body


def test_the_wechat_article_escapes_and_styles_inline(zh):
    hostile = _with_narrative(zh, f"摘要{HOSTILE_FAMILY}", [f"要点{HOSTILE_FAMILY}"])
    body = render_wechat(hostile)
    assert "<script" not in body and body.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 2
    assert "<style" not in body and "class=" not in body
    assert not re.search(r"<(?:p|h1|h2|table|td|th|img|section)\b(?![^>]*style=)[^>]*>", body)


def test_phone_images_are_the_same_bytes_each_time(zh):
    chart = zh.section("overview").charts[0]
    assert png(chart) == png(chart)


# Markdown charts and the font ------------------------------------------------------------------------
def _embedded_font(svg: str) -> TTFont:
    data = re.search(r"url\(data:font/woff;base64,([A-Za-z0-9+/=]+)\)", svg)
    assert data, "no embedded font"
    return TTFont(io.BytesIO(base64.b64decode(data[1])))


def test_markdown_chart_files_carry_the_font_of_their_text(out):
    svg = (out / "charts" / "zh-regions.svg").read_text(encoding="utf-8")
    assert svg.startswith('<?xml version="1.0" encoding="utf-8"?>\n<svg')
    shown = "".join(re.findall(r"<text[^>]*>([^<]*)</text>", svg))
    assert "广东" in shown
    cmap = _embedded_font(svg).getBestCmap()
    assert {c for c in shown if ord(c) not in cmap} == set()
    assert len(cmap) < 300  # its own cut, not the edition's


@pytest.mark.parametrize("use_harfbuzz", [True, False])
def test_the_font_cut_carries_the_characters_and_is_stable(use_harfbuzz):
    if use_harfbuzz and harfbuzz() is None:
        pytest.skip("libharfbuzz-subset is not installed (apt-get install libharfbuzz-subset0)")
    chars = "网络安全周报2025年第1期 Report No. 48"
    cut = cut_font(chars, use_harfbuzz=use_harfbuzz)
    assert cut[:4] == b"wOFF" and cut == cut_font(chars, use_harfbuzz=use_harfbuzz)
    cmap = TTFont(io.BytesIO(cut)).getBestCmap()
    assert {ord(c) for c in chars} <= set(cmap)
    assert "猫" not in {chr(c) for c in cmap}
    # A cut of a cut (the Markdown charts', from the edition's) holds what was asked.
    smaller = cut_font("周报", within=cut, use_harfbuzz=use_harfbuzz)
    assert {ord("周"), ord("报")} <= set(TTFont(io.BytesIO(smaller)).getBestCmap())


def test_the_same_week_renders_to_the_same_bytes(built, out, tmp_path):
    again = tmp_path / "again"
    render_week(built, WEEK, formats=["html", "md", "wechat"], out=again)
    for name in ("report.zh.html", "report.en.html", "charts/zh-trend.svg", "wechat/en/chart-trend.png"):
        assert (again / name).read_bytes() == (out / name).read_bytes(), name


def test_weasyprint_reads_only_data_urls():
    from sitrep.report.render.pdf import _data_only_fetcher

    fetcher = _data_only_fetcher()
    for url in ("file:///etc/passwd", "http://192.0.2.1/x.png", "https://example.org/font.woff"):
        with pytest.raises(ValueError, match="loads no external resource"):
            fetcher.fetch(url)
    assert fetcher.fetch("data:text/plain;base64,aGk=") is not None
