"""The PDF edition: the HTML edition laid out by WeasyPrint on A4, with Noto Sans SC embedded.

The font file comes from pylopdf-fonts-zh-cn through ``@font-face``; chart text stays real text in
that font (searchable, small).  WeasyPrint may fetch nothing but that font file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sitrep.report.charts import FONT_FAMILY, font_path
from sitrep.report.model import Report
from sitrep.report.render.html import render_html


def font_face_css() -> str:
    """``@font-face`` for the CJK font, by file URL (only WeasyPrint reads it)."""
    return f"@font-face {{ font-family: '{FONT_FAMILY}'; src: url('{Path(font_path()).as_uri()}'); }}"


def _font_only_fetcher() -> Any:
    from weasyprint.urls import URLFetcher

    class FontOnly(URLFetcher):
        """Fetch the CJK font file and refuse everything else (feed data must not trigger requests)."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            if url != Path(font_path()).as_uri():
                raise ValueError(f"the report PDF loads no external resource ({url!r} refused)")
            return super().fetch(url, headers)

    return FontOnly(allowed_protocols=("file",))


def render_pdf(report: Report) -> bytes:
    """The report as PDF bytes."""
    # WeasyPrint is imported here: it takes ~0.7 s and only this format needs it.
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    document = render_html(report, font_css=font_face_css(), embed_text=True)
    fonts = FontConfiguration()
    return HTML(string=document, url_fetcher=_font_only_fetcher()).write_pdf(font_config=fonts)
