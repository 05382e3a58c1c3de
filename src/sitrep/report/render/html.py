"""The HTML edition: one self-contained file (inline CSS and SVG, the font embedded, no external requests).

Jinja2 autoescaping is on: every string from the model is escaped.  Only three things go in unescaped,
all produced here: the stylesheet, the embedded font and the SVG charts drawn by matplotlib (which
escapes its own text).  Chart text stays real text in the embedded font, so the HTML and the PDF
share one drawing of each chart (:func:`chart_svgs`) and one cut of the font (:func:`font_subset`).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Collection
from functools import cache, lru_cache
from importlib.resources import files

import jinja2
from markupsafe import Markup, escape

from sitrep.report.charts import FONT_FAMILY, png, svg, svg_and_png
from sitrep.report.model import Report

# What a line must never break inside: a date or a date range (2025年1月5日, 12月30日-1月5日,
# 23 Nov – 29 Nov 2026), an issue number (第48期, No. 48) and a number with its unit (3.2万, 28.2%,
# 1,234).  The titles wrap around these, never through them (see :func:`unbroken`).
_DATE = r"(?:\d{4}年)?\d{1,2}月\d{1,2}日|\d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)(?: \d{4})?"
_UNIT = rf"(?:{_DATE})(?:\s*[-–]\s*(?:{_DATE}))?|第\d+期|No\. \d+|\d{{4}}年|\d[\d,.]*(?:万|亿|%)?"
_UNBROKEN = re.compile(_UNIT)
NOWRAP = "white-space:nowrap"


@cache
def environment() -> jinja2.Environment:
    """The template environment (templates ship as package data); autoescape is always on."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("sitrep.report.render", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["unbroken"] = unbroken
    return env


def unbroken(text: str) -> Markup:
    """``text`` escaped, its dates and numbers in ``white-space:nowrap`` spans: a title may wrap
    before or after ``11月23日``, never between ``11`` and ``月``.  (An inline style, not a class:
    the WeChat editor keeps only inline styles.)"""
    out, end = [], 0
    for match in _UNBROKEN.finditer(text):
        out += [escape(text[end : match.start()]), Markup(f'<span style="{NOWRAP}">'), escape(match[0])]
        out.append(Markup("</span>"))
        end = match.end()
    out.append(escape(text[end:]))
    return Markup("").join(out)


@cache
def stylesheet() -> str:
    """The report stylesheet."""
    return files("sitrep.report.render").joinpath("templates/report.css").read_text(encoding="utf-8")


def chart_svgs(report: Report) -> dict[str, str]:
    """Every chart of the report as inline SVG, by chart key, its text set in the report's font (the
    HTML embeds it, the PDF too)."""
    return draw_charts(report)[0]


def draw_charts(
    report: Report, *, svgs: bool = True, phone: Collection[str] = ()
) -> tuple[dict[str, str], dict[str, bytes]]:
    """The report's charts drawn once each: as SVG (:func:`chart_svgs`) when ``svgs``, and as phone
    PNG images (:func:`~sitrep.report.charts.png`) those whose key is in ``phone``."""
    drawn: dict[str, str] = {}
    images: dict[str, bytes] = {}
    for chart in (c for s in report.sections for c in s.charts):
        if svgs and chart.key in phone:
            drawn[chart.key], images[chart.key] = svg_and_png(chart)
        elif svgs:
            drawn[chart.key] = svg(chart, embed_text=True)
        elif chart.key in phone:
            images[chart.key] = png(chart)
    return drawn, images


@lru_cache(maxsize=8)
def font_subset(chars: str, within: bytes | None = None) -> bytes:
    """The CJK font cut down to ``chars``, as WOFF (about 60 KB for a zh edition; the whole font is
    8 MB).  Noto Sans SC is OFL-1.1, which allows embedding subsets.  Kept for the last few sets of
    characters: an edition rendered again (the desk, the archive) reuses its cut.  ``within``: an
    earlier cut holding all of ``chars`` (see :func:`~sitrep.report.render.fontcut.cut_font`)."""
    from sitrep.report.render.fontcut import cut_font

    return cut_font(chars, within=within)


def document_chars(document: str) -> str:
    """The characters a document shows (each once, sorted): what its font must carry."""
    return "".join(sorted(set(document)))


def font_face_css(font: bytes) -> str:
    """``@font-face`` carrying ``font`` (WOFF) as a data URI."""
    data = base64.b64encode(font).decode("ascii")
    return f"@font-face {{ font-family: '{FONT_FAMILY}'; src: url(data:font/woff;base64,{data}) format('woff'); }}"


def embedded_font_css(document: str) -> str:
    """``@font-face`` carrying the CJK font cut down to the characters of ``document``: the HTML file
    stays self-contained and shows Chinese on machines without a CJK font."""
    return font_face_css(font_subset(document_chars(document)))


def standalone_svg(svg: str, font: bytes) -> str:
    """A chart of :func:`chart_svgs` as an SVG file of its own (the Markdown edition's), carrying
    ``font`` cut down to its own text: an SVG shown as an image loads nothing from outside."""
    face = font_face_css(font_subset(document_chars(svg), font))
    opening = svg.index(">") + 1
    return f'<?xml version="1.0" encoding="utf-8"?>\n{svg[:opening]}<style>{face}</style>{svg[opening:]}\n'


def render_html(report: Report, *, font_css: str = "", svgs: dict[str, str] | None = None) -> str:
    """The report as an HTML document.

    ``font_css`` brings the font (:func:`embedded_font_css`, or the desk's own file); ``svgs`` reuses
    charts already drawn (:func:`chart_svgs`), or gives them another form (the PDF's images).
    """
    if svgs is None:
        svgs = chart_svgs(report)
    template = environment().get_template("report.html")
    return template.render(r=report, css=stylesheet(), font_css=font_css, svgs=svgs)
