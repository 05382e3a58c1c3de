"""Charts of the report as SVG (matplotlib), with Chinese text in Noto Sans SC from pylopdf-fonts-zh-cn,
and as PNG images for a phone (:func:`png`, the WeChat edition).

Two text modes (dependencies.md §2): ``embed_text=False`` turns glyphs into paths, so the SVG renders
anywhere with no font installed; ``embed_text=True`` keeps real ``<text>`` in ``Noto Sans SC``, for
pages and files that carry that font through ``@font-face`` (the HTML, the PDF, the Markdown edition's
chart files), which keeps them small and their chart text searchable.  Output is deterministic for
the same data.

Numbers are written as the edition's text writes them (:func:`sitrep.report.wording.count`: ``3.2万``
in Chinese, ``32,452`` in English), and every text element stays inside its figure: long English
panel titles of the trend are set smaller until they fit.
"""

from __future__ import annotations

import html
import io
import re
from contextlib import AbstractContextManager
from functools import cache
from typing import Literal

import matplotlib
import pylopdf_fonts_zh_cn
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator
from matplotlib.typing import RcKeyType

from sitrep.report.model import Chart
from sitrep.report.wording import count

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


def _style(embed_text: bool, salt: str) -> dict[RcKeyType, object]:
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


def _tidy(ax: Axes, lang: str, axis: Literal["x", "y"] = "y") -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis=axis, color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)
    values = ax.xaxis if axis == "x" else ax.yaxis
    # Counts are whole numbers: no 0.5 ticks on the value axis, written as the text writes counts.
    values.set_major_locator(MaxNLocator(nbins=5, integer=True))
    values.set_major_formatter(lambda v, _pos: count(v, lang))


# The smallest size a trend panel's title is set in to fit its panel (the default is 9 pt).
MIN_TITLE_SIZE = 6.5


def _fit_titles(fig: Figure, titles: list[Text], room: list[float]) -> None:
    """Set ``titles`` in one size, the largest (down to MIN_TITLE_SIZE) at which each fits its ``room``
    (in figure widths): the same size everywhere reads as one chart."""
    renderer = FigureCanvasAgg(fig).get_renderer()
    # get_fontsize is typed float | str, but it is this (the size in points).
    size = max(t.get_fontproperties().get_size_in_points() for t in titles)
    while size > MIN_TITLE_SIZE:
        widths = [t.get_window_extent(renderer).width / fig.bbox.width for t in titles]
        if all(w <= r for w, r in zip(widths, room, strict=True)):
            break
        size -= 0.5
        for t in titles:
            t.set_fontsize(size)


def _trend(chart: Chart) -> Figure:
    cols = 4
    rows = (len(chart.series) + cols - 1) // cols
    fig = Figure(figsize=(9.2, 2.1 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    x = list(range(len(chart.categories)))
    titles = []
    for i, ax in enumerate(axes.flat):
        if i >= len(chart.series):
            ax.set_visible(False)
            continue
        series = chart.series[i]
        color = PALETTE[i % len(PALETTE)]
        ax.plot(x, series.values, color=color, linewidth=1.8, marker="o", markersize=3)
        ax.fill_between(x, series.values, color=color, alpha=0.08)
        ax.scatter([x[-1]], [series.values[-1]], color=color, s=28, zorder=3)
        titles.append(ax.set_title(f"{series.name}  {count(series.values[-1], chart.lang)}", fontsize=9, loc="left"))
        ax.set_xticks([x[0], x[-1]], [chart.categories[0], chart.categories[-1]], fontsize=7.5)
        ax.tick_params(axis="y", labelsize=7.5)
        ax.set_ylim(bottom=0, top=max(max(series.values) * 1.2, 1))
        _tidy(ax, chart.lang)
    # Fixed margins: tight_layout would draw the 8 panels twice (half the cost of the chart).  The left
    # one leaves room for the widest tick label (``30,000`` in English).
    left, right, wspace = 0.06, 0.99, 0.36
    fig.subplots_adjust(left=left, right=right, top=0.9, bottom=0.1, wspace=wspace, hspace=0.6)
    # A title may run over its panel's right edge up to the next panel's title (or the figure's edge).
    width = (right - left) / (cols + wspace * (cols - 1))
    step = width * (1 + wspace)
    room = [step - 0.01 if (i % cols) < cols - 1 else width + (1 - right) - 0.005 for i in range(len(titles))]
    _fit_titles(fig, titles, room)
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
        _tidy(ax, chart.lang, "x")
    else:
        bars = ax.bar(labels, values, color=PALETTE[: len(values)], width=0.58)
        ax.set_ylim(0, max(max(values) * 1.18, 1))
        _tidy(ax, chart.lang, "y")
    ax.bar_label(bars, labels=[count(v, chart.lang) for v in values], padding=3, fontsize=8, color=INK)
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
            labels=[count(v, chart.lang) if v else "" for v in series.values],
            label_type="center",
            color="white",
            fontsize=8,
        )
        left = [a + b for a, b in zip(left, series.values, strict=True)]
    ax.set_yticks(y, chart.categories)
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8, ncols=len(chart.series))
    ax.set_xlim(0, max(max(left) * 1.05, 1))
    _tidy(ax, chart.lang, "x")
    fig.tight_layout()
    return fig


def _grouped(chart: Chart) -> Figure:
    """Horizontal bars, one group per category and one bar per series (e.g. this week beside the weeks
    before); values carry one decimal (hours), a 0 is drawn empty and unlabelled (no data)."""
    labels = chart.categories
    n = len(chart.series)
    fig = Figure(figsize=(4.6, max(2.2, 0.2 * len(labels) * n + 1.0)))
    ax = fig.subplots()
    height = 0.8 / n
    base = list(range(len(labels)))[::-1]
    for i, series in enumerate(chart.series):
        y = [b + (n - 1) / 2 * height - i * height for b in base]
        bars = ax.barh(y, series.values, height=height * 0.92, color=PALETTE[i % len(PALETTE)], label=series.name)
        ax.bar_label(bars, labels=[f"{v:.1f}" if v else "" for v in series.values], padding=3, fontsize=7.5, color=INK)
    ax.set_yticks(base, labels)
    top = max((max(s.values) for s in chart.series if s.values), default=0)
    ax.set_xlim(0, max(top * 1.2, 1))
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8, ncols=n)
    _tidy(ax, chart.lang, "x")
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
        labels=[f"{label} {count(v, chart.lang)} ({v * 100 / total:.1f}%)" for label, v, _ in shown],
        colors=[c for _, _, c in shown],
        startangle=90,
        counterclock=False,
        wedgeprops={"width": 0.38, "edgecolor": "white"},
        textprops={"fontsize": 8.5, "color": INK},
    )
    ax.text(0, 0, count(total, chart.lang), ha="center", va="center", fontsize=13, color=INK)
    ax.set_aspect("equal")
    fig.tight_layout()
    return fig


_SIZE = re.compile(r'(<svg[^>]*?) width="[^"]*" height="[^"]*"')


def style(chart: Chart, *, embed_text: bool = False) -> AbstractContextManager[None]:
    """The matplotlib settings a chart is drawn and saved in (``with style(chart): ...``)."""
    return matplotlib.rc_context(_style(embed_text, chart.key))


def figure(chart: Chart) -> Figure:
    """The chart drawn as a matplotlib figure; draw and save it inside :func:`style`, as :func:`svg` does."""
    if chart.kind == "trend":
        return _trend(chart)
    if chart.kind == "stacked":
        return _stacked(chart)
    if chart.kind == "donut":
        return _donut(chart)
    if chart.kind == "grouped":
        return _grouped(chart)
    return _bar(chart, horizontal=chart.kind == "barh")


def svg(chart: Chart, *, embed_text: bool = False) -> str:
    """The chart as an ``<svg>`` element (no XML prolog), scaling to its container's width."""
    with style(chart, embed_text=embed_text):
        return _to_svg(figure(chart), chart)


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
    with style(chart):
        return _to_png(figure(chart), chart.kind)


def svg_and_png(chart: Chart) -> tuple[str, bytes]:
    """:func:`svg` with real text and :func:`png` of the chart from one drawing (a third less time
    than both: the WeChat edition's charts are also the other editions')."""
    with style(chart, embed_text=True):
        fig = figure(chart)
        return _to_svg(fig, chart), _to_png(fig, chart.kind)
