"""The Markdown edition: text, the indicator table, chart images (SVG files beside it) and links.

Markdown passes raw HTML through, so model strings are made inert: Markdown punctuation and the
characters that would start raw HTML or an entity (``<``, ``>``, ``&``) are backslash-escaped, which
CommonMark allows for any ASCII punctuation.  No HTML entity is written, so the file also reads right
as plain text (``score < 1.4``, not ``&lt;``).
"""

from __future__ import annotations

import re

from sitrep.report import wording as w
from sitrep.report.model import Report

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#!~<>&])")
# How a 其中… row of the indicator table is indented (GFM trims plain spaces from cells).
SUB_INDENT = "\u2003"
# What would start a list or a thematic break at the beginning of a line of text (``- a``, ``+ a``,
# ``---``, ``1. a``, ``1) a``): an analyst's narrative may begin so.
_BLOCK_START = re.compile(r"^([-+])|^(\d{1,9})([.)])(?=\s|$)")


def escape(text: str) -> str:
    """Plain text made inert in Markdown (no markup, links, tables, raw HTML or entities)."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def escape_block(text: str) -> str:
    """Plain text made inert as a whole block too: it stays one paragraph (or one list item)."""
    return _BLOCK_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", escape(text))


def chart_file(report: Report, key: str) -> str:
    """Where the Markdown edition expects a chart: ``charts/<lang>-<key>.svg`` beside it."""
    return f"charts/{report.lang}-{key}.svg"


def render_markdown(report: Report) -> str:
    """The report as Markdown (CommonMark with GFM tables)."""
    lines = [f"# {escape(report.title)}", ""]
    meta = [escape(report.organisation), escape(report.issue), escape(report.labels["tlp"])]
    if report.published_at:
        meta.append(f"{escape(report.labels['published'])} {escape(report.published_at)}")
    else:
        meta.append(escape(report.labels["draft"]))
    lines += [" · ".join(meta), ""]
    for s in report.sections:
        lines += [f"## {s.number:02d} {escape(s.heading)}", ""]
        if s.key == "overview":
            score = "—" if report.score is None else f"{report.score:.2f}"
            line = w.text(
                report.lang,
                "rating_line",
                label=escape(report.labels["rating_label"]),
                rating=f"**{escape(report.rating_word)}**",
                score=f"{escape(report.labels['score_label'])} {score}",
            )
            lines += [f"> {line}", ""]
        for paragraph in s.paragraphs:
            lines += [escape_block(paragraph), ""]
        if s.summary:
            lines += [escape_block(s.summary), ""]
        if s.highlights:
            lines += [f"**{escape(report.labels['highlights'])}**", ""]
            lines += [f"- {escape_block(h)}" for h in s.highlights] + [""]
        if s.table:
            head = [report.labels[k] for k in ("col_indicator", "col_value", "col_previous", "col_change")]
            lines.append("| " + " | ".join(escape(h) for h in head) + " |")
            lines.append("|---|---:|---:|---:|")
            for row in s.table:
                label = (SUB_INDENT if row.sub else "") + row.label
                cells = (label, row.value_text, row.previous_text, row.change_text)
                lines.append("| " + " | ".join(escape(c) for c in cells) + " |")
            lines.append("")
        for note in s.notes:
            lines += [f"*{escape(note)}*", ""]
        for table in s.tables:  # section tables of the full edition (section 4's vulnerability list)
            lines += [f"**{escape(table.title)}**", ""]
            lines.append("| " + " | ".join(escape(c) for c in table.columns) + " |")
            lines.append("|" + "|".join("---:" if n else "---" for n in table.numeric) + "|")
            lines += ["| " + " | ".join(escape(c) for c in row) + " |" for row in table.rows]
            lines.append("")
        for chart in s.charts:
            lines += [f"![{escape(chart.title)}]({chart_file(report, chart.key)})", ""]
        for link in s.links:
            lines += [f"[{escape(link.text)}](<{link.href}>)", ""]
    lines.append(escape(report.labels["evidence_note"]))
    return "\n".join(lines) + "\n"
