"""Charts of the report as SVG (matplotlib), with Chinese text in Noto Sans SC from pylopdf-fonts-zh-cn,
and as PNG images for a phone (:func:`png`, the WeChat edition).

Two text modes (dependencies.md §2): ``embed_text=False`` turns glyphs into paths, so the SVG renders
anywhere with no font installed; ``embed_text=True`` keeps real ``<text>`` in ``Noto Sans SC``, for
pages and files that carry that font through ``@font-face`` (the HTML, the PDF, the Markdown edition's
chart files), which keeps them small and their chart text searchable.  Output is deterministic for
the same data.
"""

from __future__ import annotations

import html
import io
import re
from functools import cache

import matplotlib
import pylopdf_fonts_zh_cn
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator

from sitrep.report.model import Chart

FONT_FAMILY = "Noto Sans SC"
PALETTE = ("#1f4e8c", "#c0392b", "#e08e0b", "#2e8b57", "#7d3c98", "#17a2b8", "#8c564b", "#5d6d7e")
INK = "#2c3e50"
GRID = "#d5dbe3"


@cache
def font_path() -> str:
    """The Noto Sans SC file shipped by pylopdf-fonts-zh-cn, registered with matplotlib once."""
    path = str(pylopdf_fonts_zh_cn.sans_path())
    font_manager.fontManager.addfont(path)
    return path


def _style(embed_text: bool, salt: str) -> dict[str, object]:
    font_path()
    return {
        "font.family": [FONT_FAMILY, "DejaVu Sans"],
        "font.size": 9,
        "axes.unicode_minus": False,
        # Labels are data; "$" must never switch on mathtext.
        "text.parse_math": False,
        "svg.fonttype": "none" if embed_text else "path",
        "svg.hashsalt": salt,
        "axes.edgecolor": GRID,
        "axes.labelcolor": INK,
        "xtick.color": INK,
        "ytick.color": INK,
        "axes.titlesize": 10,
        "axes.titleweight": "normal",
        "axes.titlecolor": INK,
    }


def _tidy(ax: Axes, axis: str = "y") -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis=axis, color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)
    # Counts are whole numbers: no 0.5 ticks on the value axis.
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_locator(MaxNLocator(nbins=5, integer=True))


def _fmt(value: float) -> str:
    return f"{value / 10000:.1f}万" if value >= 10000 else f"{value:,.0f}"


def _trend(chart: Chart) -> Figure:
    cols = 4
    rows = (len(chart.series) + cols - 1) // cols
    fig = Figure(figsize=(9.2, 2.1 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    x = list(range(len(chart.categories)))
    for i, ax in enumerate(axes.flat):
        if i >= len(chart.series):
            ax.set_visible(False)
            continue
        series = chart.series[i]
        color = PALETTE[i % len(PALETTE)]
        ax.plot(x, series.values, color=color, linewidth=1.8, marker="o", markersize=3)
        ax.fill_between(x, series.values, color=color, alpha=0.08)
        ax.scatter([x[-1]], [series.values[-1]], color=color, s=28, zorder=3)
        ax.set_title(f"{series.name}  {_fmt(series.values[-1])}", fontsize=9, loc="left")
        ax.set_xticks([x[0], x[-1]], [chart.categories[0], chart.categories[-1]], fontsize=7.5)
        ax.tick_params(axis="y", labelsize=7.5)
        ax.set_ylim(bottom=0, top=max(max(series.values) * 1.2, 1))
        _tidy(ax)
        ax.yaxis.set_major_formatter(lambda v, _pos: _fmt(v))
    # Fixed margins: tight_layout would draw the 8 panels twice (half the cost of the chart).
    fig.subplots_adjust(left=0.045, right=0.99, top=0.9, bottom=0.1, wspace=0.32, hspace=0.6)
    return fig


def _bar(chart: Chart, horizontal: bool) -> Figure:
    values = chart.series[0].values
    labels = chart.categories
    height = max(2.2, 0.34 * len(labels) + 0.9) if horizontal else 2.8
    fig = Figure(figsize=(4.6, height))
    ax = fig.subplots()
    if horizontal:
        y = list(range(len(labels)))[::-1]
        bars = ax.barh(y, values, color=PALETTE[0], height=0.62)
        ax.set_yticks(y, labels)
        ax.set_xlim(0, max(max(values) * 1.18, 1))
        _tidy(ax, "x")
    else:
        bars = ax.bar(labels, values, color=PALETTE[: len(values)], width=0.58)
        ax.set_ylim(0, max(max(values) * 1.18, 1))
        _tidy(ax, "y")
    ax.bar_label(bars, labels=[_fmt(v) for v in values], padding=3, fontsize=8, color=INK)
    fig.tight_layout()
    return fig


def _stacked(chart: Chart) -> Figure:
    fig = Figure(figsize=(4.6, 2.4))
    ax = fig.subplots()
    y = list(range(len(chart.categories)))[::-1]
    left = [0.0] * len(chart.categories)
    for i, series in enumerate(chart.series):
        bars = ax.barh(y, series.values, left=left, color=PALETTE[i], height=0.55, label=series.name)
        ax.bar_label(
            bars,
            labels=[_fmt(v) if v else "" for v in series.values],
            label_type="center",
            color="white",
            fontsize=8,
        )
        left = [a + b for a, b in zip(left, series.values, strict=True)]
    ax.set_yticks(y, chart.categories)
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8, ncols=len(chart.series))
    ax.set_xlim(0, max(max(left) * 1.05, 1))
    _tidy(ax, "x")
    fig.tight_layout()
    return fig


def _donut(chart: Chart) -> Figure:
    values = chart.series[0].values
    # Severity order is high, medium, low: red, amber, blue.
    colors = (PALETTE[1], PALETTE[2], PALETTE[0])
    shown = [(label, v, colors[i % 3]) for i, (label, v) in enumerate(zip(chart.categories, values, strict=True)) if v]
    fig = Figure(figsize=(4.6, 2.8))
    ax = fig.subplots()
    total = sum(v for _, v, _ in shown)
    ax.pie(
        [v for _, v, _ in shown],
        labels=[f"{label} {_fmt(v)} ({v * 100 / total:.1f}%)" for label, v, _ in shown],
        colors=[c for _, _, c in shown],
        startangle=90,
        counterclock=False,
        wedgeprops={"width": 0.38, "edgecolor": "white"},
        textprops={"fontsize": 8.5, "color": INK},
    )
    ax.text(0, 0, _fmt(total), ha="center", va="center", fontsize=13, color=INK)
    ax.set_aspect("equal")
    fig.tight_layout()
    return fig


_SIZE = re.compile(r'(<svg[^>]*?) width="[^"]*" height="[^"]*"')


def _figure(chart: Chart) -> Figure:
    """The chart drawn on a figure of its kind (inside the caller's ``rc_context``)."""
    if chart.kind == "trend":
        return _trend(chart)
    if chart.kind == "stacked":
        return _stacked(chart)
    if chart.kind == "donut":
        return _donut(chart)
    return _bar(chart, horizontal=chart.kind == "barh")


def svg(chart: Chart, *, embed_text: bool = False) -> str:
    """The chart as an ``<svg>`` element (no XML prolog), scaling to its container's width."""
    with matplotlib.rc_context(_style(embed_text, chart.key)):
        return _to_svg(_figure(chart), chart)


def _to_svg(fig: Figure, chart: Chart) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    label = html.escape(chart.title, quote=True)
    return _SIZE.sub(lambda m: f'{m.group(1)} width="100%" role="img" aria-label="{label}"', text, count=1)


# Phone images (the WeChat edition) -------------------------------------------------------------
# The same figures laid out for a phone: 3.6 in wide at 300 dpi is 1080 px, shown about 380 CSS px
# wide in a 414 px article, where 9 pt text reads at about 13 px.  The trend's panels go two a row.
PHONE_WIDTH = 3.6
PHONE_DPI = 300
PHONE_COLUMNS = 2
PHONE_PANEL_HEIGHT = 1.6


def _phone_layout(fig: Figure, kind: str) -> None:
    height = fig.get_size_inches()[1]
    if kind != "trend":
        fig.set_size_inches(PHONE_WIDTH, height)
        return
    panels = [ax for ax in fig.axes if ax.get_visible()]
    for ax in fig.axes:
        if not ax.get_visible():
            ax.remove()
    rows = -(-len(panels) // PHONE_COLUMNS)
    grid = fig.add_gridspec(rows, PHONE_COLUMNS)
    for i, ax in enumerate(panels):
        ax.set_subplotspec(grid[i // PHONE_COLUMNS, i % PHONE_COLUMNS])
    fig.set_size_inches(PHONE_WIDTH, PHONE_PANEL_HEIGHT * rows)


def _titles(ax: Axes) -> list[Text]:
    """A panel's titles (matplotlib keeps a left, a centre and a right one)."""
    shown = {ax.get_title(loc) for loc in ("left", "center", "right")} - {""}
    return [t for t in ax.get_children() if isinstance(t, Text) and t.get_text() in shown]


def _wrap_titles(fig: Figure, renderer: RendererAgg) -> bool:
    """Wrap at spaces each panel title that runs past its column (English names are long for half a
    phone's width); whether any was."""
    column = fig.bbox.width / PHONE_COLUMNS
    wrapped = False
    for ax in fig.axes:
        right = column * (1 + int(ax.get_position().x0 * PHONE_COLUMNS))
        for title in _titles(ax):
            if title.get_window_extent(renderer).x1 <= right:
                continue
            first, *words = title.get_text().split()
            lines = [first]
            for word in words:
                title.set_text(f"{lines[-1]} {word}")
                if title.get_window_extent(renderer).x1 > right:
                    lines.append(word)
                else:
                    lines[-1] = f"{lines[-1]} {word}"
            title.set_text("\n".join(lines))
            wrapped = True
    return wrapped


def _to_png(fig: Figure, kind: str) -> bytes:
    canvas = FigureCanvasAgg(fig)
    _phone_layout(fig, kind)
    fig.tight_layout()
    if kind == "trend" and _wrap_titles(fig, canvas.get_renderer()):
        fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=PHONE_DPI, metadata={"Software": None})
    return buffer.getvalue()


def png(chart: Chart) -> bytes:
    """The chart as a PNG image for a phone screen (``PHONE_WIDTH`` inches at ``PHONE_DPI``, glyphs
    rasterised: the reader needs no font); the same bytes for the same data."""
    with matplotlib.rc_context(_style(False, chart.key)):
        return _to_png(_figure(chart), chart.kind)


def svg_and_png(chart: Chart) -> tuple[str, bytes]:
    """:func:`svg` with real text and :func:`png` of the chart from one drawing (a third less time
    than both: the WeChat edition's charts are also the other editions')."""
    with matplotlib.rc_context(_style(True, chart.key)):
        fig = _figure(chart)
        return _to_svg(fig, chart), _to_png(fig, chart.kind)
