"""The PDF edition: the HTML edition laid out by WeasyPrint on A4, with Noto Sans SC embedded.

The font is the HTML edition's cut (:func:`~sitrep.report.render.html.font_subset`), handed to
WeasyPrint as a data URI; chart text stays real text in that font (searchable, small).  The charts
go in as SVG images (data URIs) rather than inline: WeasyPrint then draws them without running the
page's stylesheet over each of their thousands of elements (half the time of the PDF).  WeasyPrint
may fetch nothing: only ``data:`` URLs, made here, are read.
"""

from __future__ import annotations

import base64
from typing import Any

from sitrep.report.model import Report
from sitrep.report.render.html import chart_svgs, document_chars, font_face_css, font_subset, render_html


def _data_only_fetcher() -> Any:
    from weasyprint.urls import URLFetcher

    class DataOnly(URLFetcher):
        """Read the data URIs of the font and the charts; refuse everything else (feed data must not
        trigger requests, nor read local files)."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            if not url.startswith("data:"):
                raise ValueError(f"the report PDF loads no external resource ({url!r} refused)")
            return super().fetch(url, headers)

    return DataOnly(allowed_protocols=("data",))


def chart_image(svg: str) -> str:
    """An inline chart (from :func:`~sitrep.report.render.html.chart_svgs`) as an ``<img>`` of itself."""
    # The inline SVG scales by its width="100%"; as an image its size comes from its viewBox.
    data = base64.b64encode(svg.replace(' width="100%"', "", 1).encode("utf-8")).decode("ascii")
    return f'<img src="data:image/svg+xml;base64,{data}" alt="">'


def render_pdf(report: Report, *, svgs: dict[str, str] | None = None, font: bytes | None = None) -> bytes:
    """The report as PDF bytes; ``svgs`` and ``font`` reuse the HTML edition's charts and font cut."""
    # WeasyPrint is imported here: it takes ~0.7 s and only this format needs it.
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    drawn = chart_svgs(report) if svgs is None else svgs
    if font is None:
        font = font_subset(document_chars(render_html(report, svgs=drawn)))
    images = {key: chart_image(text) for key, text in drawn.items()}
    document = render_html(report, font_css=font_face_css(font), svgs=images)
    return HTML(string=document, url_fetcher=_data_only_fetcher()).write_pdf(font_config=FontConfiguration())
