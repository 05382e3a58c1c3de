"""The charts' axes: categories where the categories are, counts on the value axis."""

from __future__ import annotations

import pytest

from sitrep.report import charts
from sitrep.report.model import Chart, Series


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_grouped_chart_keeps_its_categories_and_counts_along_the_value_axis(lang: str) -> None:
    chart = Chart(
        "response",
        "median hours",
        "grouped",
        ["云服务商", "域名注册服务机构"],
        [Series("this week", [3.5, 12.0]), Series("last 8 weeks", [30000.0, 0.0])],
        lang=lang,
    )
    with charts.style(chart):
        fig = charts.figure(chart)
        fig.canvas.draw()
        (ax,) = fig.axes
        categories = [t.get_text() for t in ax.get_yticklabels()]
        values = [t.get_text() for t in ax.get_xticklabels()]
    assert categories == chart.categories
    assert all(float(v).is_integer() for v in ax.get_xticks())
    # Written as the edition writes counts: 1.6万 in Chinese, 16,000 in English.
    assert ("1.6万" if lang == "zh" else "16,000") in values
    assert ax.xaxis.get_gridlines()[0].get_visible() and not ax.yaxis.get_gridlines()[0].get_visible()
