"""The WeChat edition: an article body to paste into the WeChat editor.

The editor drops ``<style>``, ``<script>`` and classes, so every element carries its own inline
style, and the charts' SVG loses the small ``<style>`` block matplotlib puts in it (its rules are
defaults anyway).  Charts keep glyphs as paths: readers' phones need no font.
"""

from __future__ import annotations

import re

from sitrep.report.model import Report
from sitrep.report.render.html import chart_svgs, environment

NAVY = "#1f4e8c"
RED = "#c0392b"
MUTED = "#6b7785"
STYLES = {
    "body": "font-size:15px;line-height:1.8;color:#2c3e50;letter-spacing:0.5px;",
    "h1": f"font-size:20px;line-height:1.4;color:{NAVY};margin:0 0 6px;font-weight:bold;",
    "meta": f"font-size:12px;color:{MUTED};margin:0 0 16px;",
    "h2": f"font-size:17px;color:#fff;background:{NAVY};padding:4px 12px;margin:24px 0 10px;"
    f"border-left:5px solid {RED};font-weight:bold;",
    "rating": "margin:10px 0;font-size:14px;",
    "badge": f"display:inline-block;background:{NAVY};color:#fff;font-weight:bold;font-size:18px;"
    "padding:2px 12px;border-radius:4px;",
    "p": "margin:8px 0;text-indent:2em;text-align:justify;",
    "note": f"margin:6px 0;font-size:12px;color:{MUTED};",
    "highlights": f"margin:10px 0;padding:6px 12px;background:#f4f7fb;border-left:4px solid {NAVY};",
    "highlights_title": f"margin:4px 0;font-weight:bold;color:{NAVY};",
    "highlight": "margin:4px 0;",
    "table": "width:100%;border-collapse:collapse;font-size:13px;margin:10px 0;",
    "th": f"background:{NAVY};color:#fff;padding:5px 6px;text-align:right;font-weight:normal;",
    "th_left": f"background:{NAVY};color:#fff;padding:5px 6px;text-align:left;font-weight:normal;",
    "td": "border-bottom:1px solid #d5dbe3;padding:5px 6px;text-align:right;",
    "td_left": "border-bottom:1px solid #d5dbe3;padding:5px 6px;text-align:left;",
    "td_sub": "border-bottom:1px solid #d5dbe3;padding:5px 6px 5px 20px;text-align:left;color:#4a5866;",
    "up": f"color:{RED};",
    "down": "color:#2e8b57;",
    "flat": f"color:{MUTED};",
    "new": f"color:{MUTED};",
    "none": f"color:{MUTED};",
    "figure": "margin:12px 0;padding:8px;border:1px solid #d5dbe3;",
    "caption": f"margin:0 0 4px;font-size:13px;font-weight:bold;color:{NAVY};",
    "link_p": "margin:6px 0;",
    "link": f"color:{NAVY};text-decoration:none;",
}

_SVG_STYLE = re.compile(r"<style[^>]*>.*?</style>", re.DOTALL)


def render_wechat(report: Report, *, svgs: dict[str, str] | None = None) -> str:
    """The report as a WeChat article body (inline styles only); ``svgs`` reuses charts already drawn."""
    drawn = chart_svgs(report) if svgs is None else svgs
    svgs = {key: _SVG_STYLE.sub("", text) for key, text in drawn.items()}
    return environment().get_template("wechat.html").render(r=report, st=STYLES, svgs=svgs)
