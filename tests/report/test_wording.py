"""Number, date and title formatting of DESIGN.md §3, and sentence joining."""

from __future__ import annotations

import pytest

from sitrep.report import wording as w
from sitrep.weeks import Week


@pytest.mark.parametrize(
    ("n", "zh", "en"),
    [(0, "0", "0"), (9999, "9999", "9,999"), (10000, "1.0万", "10,000"), (578123, "57.8万", "578,123")],
)
def test_counts_from_ten_thousand_are_written_in_wan(n, zh, en):
    assert w.count(n, "zh") == zh
    assert w.count(n, "en") == en


def test_titles_carry_the_year_on_both_dates_only_when_the_week_crosses_a_year():
    assert w.title(Week(2025, 1), "zh") == "网络安全信息与动态周报2025年第1期（2024年12月30日-2025年1月5日）"
    assert w.title(Week(2024, 52), "zh") == "网络安全信息与动态周报2024年第52期（12月23日-12月29日）"
    assert w.title(Week(2025, 1), "en") == "Weekly Network Security Report 2025 No. 1 (30 Dec 2024 – 5 Jan 2025)"


def test_change_cells_have_an_arrow_one_decimal_and_a_dash_for_a_zero_last_week():
    assert w.change(117, 9.3, "zh") == ("↑ 上升 9.3%", "up")
    assert w.change(44, -32.3, "zh") == ("↓ 下降 32.3%", "down")
    assert w.change(5, None, "zh") == ("—", "new")
    assert w.change(0, None, "zh") == ("—", "none")
    assert w.change(5, 0.0, "en") == ("unchanged", "flat")
    assert w.change_clause(-32.3, "zh") == "较上周环比下降了32.3%"


def test_lists_join_with_dunhao_and_a_final_conjunction():
    assert w.join(["A", "B", "C"], "zh", last="以及") == "A、B以及C"
    assert w.join(["广东", "江苏", "浙江"], "zh") == "广东、江苏和浙江"
    assert w.join(["a", "b"], "en") == "a and b"
    assert w.join(["only"], "zh") == "only"
