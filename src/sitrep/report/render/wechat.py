"""The WeChat edition: a short article body to paste into the WeChat editor, its charts as PNG images.

Like the CNCERT article, it carries the week's situation (rating, summary, key indicators and their
trend, the one chart), the incidents handled and the recent issues; the full edition has the rest.  The editor drops
``<style>``, ``<script>`` and classes, so every element carries its own inline style.  The charts are
PNG files drawn for a phone (:func:`sitrep.report.charts.png`), written beside the article under
``wechat/<lang>/`` and referenced relatively: the duty officer uploads them with the text.
"""

from __future__ import annotations

from sitrep.report.model import Chart, Report
from sitrep.report.render.html import environment

# The sections the article carries, and those whose charts it shows (as CNCERT's article has images in
# its first section only; drawing a phone image costs ~0.1-0.4 s).
SECTIONS = ("overview", "incidents", "review")
CHART_SECTIONS = ("overview",)

NAVY = "#1f4e8c"
RED = "#c0392b"
MUTED = "#6b7785"
STYLES = {
    "body": "font-size:15px;line-height:1.75;color:#2c3e50;max-width:100%;box-sizing:border-box;"
    "overflow-wrap:break-word;",
    "h1": f"font-size:20px;line-height:1.4;color:{NAVY};margin:0 0 6px;font-weight:bold;",
    "meta": f"font-size:12px;color:{MUTED};margin:0 0 16px;",
    "h2": f"font-size:17px;line-height:1.5;color:#fff;background:{NAVY};padding:4px 12px;margin:24px 0 10px;"
    f"border-left:5px solid {RED};font-weight:bold;",
    "rating": "margin:10px 0;font-size:14px;",
    "badge": f"display:inline-block;background:{NAVY};color:#fff;font-weight:bold;font-size:18px;"
    "padding:2px 12px;border-radius:4px;",
    "p": "margin:8px 0;",  # English: ragged right (justified, a phone line of English gapes)
    "p_zh": "margin:8px 0;text-indent:2em;text-align:justify;",
    "note": f"margin:6px 0;font-size:12px;line-height:1.6;color:{MUTED};",
    "highlights": f"margin:10px 0;padding:6px 12px;background:#f4f7fb;border-left:4px solid {NAVY};",
    "highlights_title": f"margin:4px 0;font-weight:bold;color:{NAVY};",
    "highlight": "margin:4px 0;",
    "table": "width:100%;border-collapse:collapse;font-size:13px;line-height:1.5;margin:10px 0;",
    "th": f"background:{NAVY};color:#fff;padding:5px 4px;text-align:right;font-weight:normal;white-space:nowrap;",
    "th_left": f"background:{NAVY};color:#fff;padding:5px 4px;text-align:left;font-weight:normal;",
    "td": "border-bottom:1px solid #d5dbe3;padding:5px 4px;text-align:right;white-space:nowrap;",
    "td_left": "border-bottom:1px solid #d5dbe3;padding:5px 4px;text-align:left;",
    "td_sub": "border-bottom:1px solid #d5dbe3;padding:5px 4px 5px 14px;text-align:left;color:#4a5866;",
    "up": f"color:{RED};",
    "down": "color:#2e8b57;",
    "flat": f"color:{MUTED};",
    "new": f"color:{MUTED};",
    "none": f"color:{MUTED};",
    "figure": "margin:14px 0;",
    "caption": f"margin:0 0 4px;font-size:14px;font-weight:bold;color:{NAVY};text-align:center;",
    "image": "display:block;width:100%;height:auto;margin:0;",
    "link_p": "margin:6px 0;font-size:14px;",
    "link": f"color:{NAVY};text-decoration:none;",
}


def charts(report: Report) -> list[Chart]:
    """The charts the article shows, in order."""
    return [c for s in report.sections if s.key in CHART_SECTIONS for c in s.charts]


def image_path(report: Report, key: str) -> str:
    """Where the article expects the chart ``key``, relative to it: ``wechat/<lang>/chart-<key>.png``."""
    return f"wechat/{report.lang}/chart-{key}.png"


def render_wechat(report: Report) -> str:
    """The report as a WeChat article body (inline styles only); its images are :func:`charts`, at
    :func:`image_path`."""
    sections = [s for s in report.sections if s.key in SECTIONS]
    images = {c.key: image_path(report, c.key) for c in charts(report)}
    template = environment().get_template("wechat.html")
    return template.render(r=report, sections=sections, st=STYLES, images=images)
