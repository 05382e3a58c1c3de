"""The HTML edition: one self-contained file (inline CSS and SVG, no external requests).

Jinja2 autoescaping is on: every string from the model is escaped.  Only two things go in unescaped,
both produced here: the stylesheet and the SVG charts drawn by matplotlib (which escapes its own text).
"""

from __future__ import annotations

import base64
import io
from functools import cache
from importlib.resources import files

import jinja2

from sitrep.report.charts import FONT_FAMILY, font_path, svg
from sitrep.report.model import Report


@cache
def environment() -> jinja2.Environment:
    """The template environment (templates ship as package data); autoescape is always on."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("sitrep.report.render", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@cache
def stylesheet() -> str:
    """The report stylesheet."""
    return files("sitrep.report.render").joinpath("templates/report.css").read_text(encoding="utf-8")


def chart_svgs(report: Report, *, embed_text: bool = False) -> dict[str, str]:
    """Every chart of the report as inline SVG, by chart key."""
    return {c.key: svg(c, embed_text=embed_text) for s in report.sections for c in s.charts}


def embedded_font_css(document: str) -> str:
    """``@font-face`` carrying the CJK font, cut down to the characters of ``document``, as a WOFF2 data
    URI: the HTML file stays self-contained and shows Chinese on machines without a CJK font (about
    90 KB for a zh edition).  Noto Sans SC is OFL-1.1, which allows embedding subsets."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["*"]
    # No fresh timestamp in the font: rendering a published week again must give identical bytes.
    font = TTFont(font_path(), lazy=True, recalcTimestamp=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(set(document))))
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f"@font-face {{ font-family: '{FONT_FAMILY}'; src: url(data:font/woff2;base64,{data}) format('woff2'); }}"


def render_html(
    report: Report, *, font_css: str = "", embed_text: bool = False, svgs: dict[str, str] | None = None
) -> str:
    """The report as an HTML document.

    ``font_css`` and ``embed_text`` are for the PDF (see ``pdf.py``); ``svgs`` reuses charts already drawn.
    """
    if svgs is None:
        svgs = chart_svgs(report, embed_text=embed_text)
    template = environment().get_template("report.html")
    return template.render(r=report, css=stylesheet(), font_css=font_css, svgs=svgs)
