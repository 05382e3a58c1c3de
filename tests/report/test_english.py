"""The English edition as an English reader meets it, on a realistic week (the demo's feed files and
incidents, ingested through the real path): no Chinese character or punctuation in any English output
(HTML, WeChat, Markdown, PDF text, chart SVG), numbers with thousands separators and never in 万, and
every text of every chart, in both languages, inside its figure."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from sitrep.config import Workspace
from sitrep.demo.feeds import volumes, write_week
from sitrep.demo.incidents import generate_incidents
from sitrep.lake.ingest import ingest_paths
from sitrep.report import charts
from sitrep.report.model import Chart, Report, Series
from sitrep.report.publish import editions, render_week
from sitrep.weeks import Week

WEEK = Week(2025, 1)
# CJK ideographs, and the CJK and full-width punctuation of Chinese text (、。，：（）and the ideographic space).
CHINESE = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
# The one Chinese word an English page may carry: the link to the Chinese edition, named in its language.
OTHER_EDITION = re.compile(r'<a href="report\.zh\.html" hreflang="zh">中文</a>')


@pytest.fixture(scope="module")
def realistic(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """Two weeks of the demo's data at half its volume (about 16,000 infected hosts a week)."""
    from sitrep.workspace import init_workspace

    workspace = init_workspace(tmp_path_factory.mktemp("english") / "ws")
    weeks = [WEEK - 1, WEEK]
    per_week = volumes(weeks, seed=7, scale=0.5)
    files = []
    for week in weeks:
        files += write_week(workspace.root / "feeds" / str(week), week, per_week[week], seed=7)
    results = ingest_paths(workspace, files)
    assert all(r.error is None for r in results)
    generate_incidents(workspace, weeks, seed=7)
    return workspace


@pytest.fixture(scope="module")
def english(realistic: Workspace, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("english-out") / str(WEEK)
    render_week(realistic, WEEK, langs=["en"], out=out)
    return out


@pytest.fixture(scope="module")
def reports(realistic: Workspace) -> list[Report]:
    return editions(realistic, WEEK, ["zh", "en"])


class _Text(HTMLParser):
    """What an HTML page shows or says to a reader: text, comments (matplotlib writes each chart text
    as one beside its glyphs) and attribute values, but not class names, styles or the font data."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script"):
            self._skip += 1
        self.parts += [v for k, v in attrs if v and k not in ("class", "style", "d", "href", "id")]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)

    def handle_comment(self, data: str) -> None:
        self.parts.append(data)


def _html_text(document: str) -> str:
    parser = _Text()
    parser.feed(OTHER_EDITION.sub("", document, count=1))
    return " ".join(parser.parts)


def _pdf_text(path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils (pdftotext) missing: the PDF's text cannot be read")
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def _chinese(text: str) -> list[str]:
    return [text[max(m.start() - 30, 0) : m.end() + 30] for m in CHINESE.finditer(text)]


def test_english_outputs_carry_no_chinese_character_or_punctuation(english: Path):
    texts = {
        "report.en.html": _html_text((english / "report.en.html").read_text(encoding="utf-8")),
        "report.en.wechat.html": _html_text((english / "report.en.wechat.html").read_text(encoding="utf-8")),
        "report.en.md": (english / "report.en.md").read_text(encoding="utf-8"),
        "report.en.pdf": _pdf_text(english / "report.en.pdf").replace("中文", "", 1),
    }
    document = json.loads((english / "report.en.json").read_text(encoding="utf-8"))
    # The JSON's prose (its data keep each indicator's names in both languages, as data).
    prose = {k: document[k] for k in ("title", "issue", "organisation", "sections")}
    texts["report.en.json"] = json.dumps(prose, ensure_ascii=False)
    charts_found = sorted((english / "charts").glob("en-*.svg"))
    assert len(charts_found) >= 7
    for path in charts_found:
        texts[path.name] = _html_text(path.read_text(encoding="utf-8"))
    for name, text in texts.items():
        assert "万" not in text, name
        assert _chinese(text) == [], name
    # The numbers are there, with thousands separators, as the reader expects them.
    hosts = document["indicators"]["infected_hosts"]["value"]
    assert hosts >= 10000
    for name in ("report.en.html", "report.en.md", "report.en.pdf"):
        assert f"{hosts:,}" in texts[name], name
    assert f"{hosts:,}" in texts["en-trend.svg"]  # the trend panel's title


def test_english_sentences_are_english(english: Path):
    md = (english / "report.en.md").read_text(encoding="utf-8")
    assert "> Overall rating: **" in md
    assert re.search(r"\(Score \d\.\d\d\)", md)
    assert "&lt;" not in md and "&gt;" not in md and "&amp;" not in md
    assert "score \\< " in md  # the rating band, escaped for Markdown but no entity
    assert "about 1" not in md.split("Malware activity")[1][:200]  # the count is exact: no "about"
    assert "(s)" not in md
    assert not re.search(r"\b1 (hosts|incidents|domains|websites|pages|URLs|platforms|vulnerabilities)\b", md)


def test_the_markdown_reads_as_its_text_once_rendered(english: Path, reports: list[Report]):
    """The escaping leaves the words a CommonMark renderer shows exactly as the model wrote them."""
    from markdown_it import MarkdownIt

    md = (english / "report.en.md").read_text(encoding="utf-8")
    shown = " ".join(_html_text(MarkdownIt("commonmark").enable("table").render(md)).split())
    en = next(r for r in reports if r.lang == "en")
    texts = [en.title] + [t for s in en.sections for t in (*s.paragraphs, *s.notes)]
    assert any("<" in t for t in texts)  # the rating band: what entities used to stand for
    for text in texts:
        assert " ".join(text.split()) in shown


def _drawn_texts(fig) -> tuple[list, object]:
    """The text elements matplotlib actually draws (tick labels outside the view are made but not
    drawn), recorded as the Agg renderer draws the figure, with that renderer."""
    renderer = FigureCanvasAgg(fig).get_renderer()
    drawn = []
    draw_text = renderer.draw_text

    def record(gc, x, y, s, prop, angle, ismath=False, mtext=None):
        drawn.append(mtext)
        return draw_text(gc, x, y, s, prop, angle, ismath, mtext)

    renderer.draw_text = record
    fig.draw(renderer)
    return [t for t in drawn if t is not None and t.get_text().strip()], renderer


def _outside(chart: Chart) -> list[tuple[str, tuple[float, ...]]]:
    with charts.style(chart):
        fig = charts.figure(chart)
        texts, renderer = _drawn_texts(fig)
        box = fig.bbox
        assert texts, chart.key
        return [
            (t.get_text(), tuple(round(v) for v in e.extents))
            for t in texts
            if (e := t.get_window_extent(renderer)).x0 < box.x0 - 0.5
            or e.y0 < box.y0 - 0.5
            or e.x1 > box.x1 + 0.5
            or e.y1 > box.y1 + 0.5
        ]


def _scaled(chart: Chart, factor: int) -> Chart:
    series = [Series(s.name, [v * factor for v in s.values]) for s in chart.series]
    return dataclasses.replace(chart, series=series)


@pytest.mark.parametrize("factor", [1, 36], ids=["demo-scale", "cncert-scale"])
def test_every_text_of_every_chart_lies_inside_its_figure(reports: list[Report], factor: int):
    """Both languages; ``cncert-scale`` multiplies every value to the size of CNCERT's own weeks
    (about 578,000 infected hosts), whose longer English numbers must fit too."""
    drawn = 0
    for report in reports:
        for section in report.sections:
            for chart in section.charts:
                assert chart.lang == report.lang, chart.key
                assert _outside(_scaled(chart, factor)) == [], (report.lang, chart.key)
                drawn += 1
    assert drawn >= 14


def test_english_charts_write_numbers_with_separators(reports: list[Report]):
    en = next(r for r in reports if r.lang == "en")
    trend = en.section("overview").charts[0]
    svg = charts.svg(trend, embed_text=True)
    hosts = int(trend.series[0].values[-1])
    assert f"infected hosts  {hosts:,}" in svg and "万" not in svg
    zh = next(r for r in reports if r.lang == "zh").section("overview").charts[0]
    assert f"{hosts / 10000:.1f}万" in charts.svg(zh, embed_text=True)
    # The value axis of a bar chart too: ``1,500`` in English.
    regions = _scaled(en.section("malware").charts[0], 10)
    with charts.style(regions):
        texts, _ = _drawn_texts(charts.figure(regions))
    ticks = [t.get_text() for t in texts if re.fullmatch(r"[\d,]+", t.get_text())]
    assert any("," in t for t in ticks) and all(re.fullmatch(r"\d{1,3}(,\d{3})*", t) for t in ticks), ticks
