"""Number, date and title formatting of DESIGN.md §3, and sentence joining."""

from __future__ import annotations

import re

import pytest

from sitrep.report import wording as w
from sitrep.weeks import Week

# CJK ideographs and the full-width and CJK punctuation a Chinese text uses.
CHINESE = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


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
    assert w.change(117, 107, 9.3, "zh") == ("↑ 上升 9.3%", "up")
    assert w.change(44, 65, -32.3, "zh") == ("↓ 下降 32.3%", "down")
    assert w.change(5, 0, None, "zh") == ("—", "new")
    assert w.change(0, 0, None, "zh") == ("—", "none")
    assert w.change(5, 5, 0.0, "en") == ("unchanged", "flat")
    assert w.change_clause(44, -32.3, "zh") == "较上周环比下降了32.3%"
    assert w.change_clause(0, None, "en") == "none last week"


def test_no_earlier_data_is_a_dash_not_a_zero_or_a_rise():
    assert w.change(5, None, None, "zh") == ("—", "none")
    assert w.previous_count(None, "zh") == w.previous_count(None, "en") == "—"
    assert w.previous_count(0, "en") == "0" and w.previous_count(32452, "en") == "32,452"
    assert w.change_clause(None, None, "zh") == "上周无数据"
    assert w.change_clause(None, None, "en") == "no data for last week"


@pytest.mark.parametrize(
    ("n", "sentence"),
    [
        ("1", "This week 1 malware-infected host was found in China."),
        ("2", "This week 2 malware-infected hosts were found in China."),
        ("32,452", "This week 32,452 malware-infected hosts were found in China."),
    ],
)
def test_english_nouns_and_verbs_agree_with_their_number(n, sentence):
    assert w.text("en", "infected", n=n, constituency="China") == sentence


def test_english_forms_may_hold_fields_and_decimals_are_plural():
    assert w.text("en", "vuln_types", k=1, items="x") == "By affected object, the top type was: x."
    assert w.text("en", "vuln_types", k=3, items="x") == "By affected object, the top 3 were: x."
    assert (
        w.text("en", "vuln_types", k=w.ordinal_count(1, "en"), items="x") == "By affected object, the top type was: x."
    )
    assert w.text("en", "regions", k=w.ordinal_count(3, "en"), items="x") == "By region, the top three were x."
    assert (w.ordinal_count(3, "zh"), w.ordinal_count(12, "en")) == ("三", "12")
    hosts = w.text("en", "phishing_hosts", d="1", i="1", k="1.0")
    assert hosts == "the phishing pages used 1 domain and 1 IP address, about 1.0 pages per IP address"
    assert "1 infrastructure security incident with" in w.text("en", "infra_major", n=1, constituency="China")
    assert "(s)" not in " ".join(w.EN.values())


def test_every_english_template_is_english():
    """No Chinese character or punctuation in any English template, whatever the numbers; the one
    exception names the Chinese edition in its own language, as language switches do."""
    values = {name: "1" for name in ("n", "k", "d", "i", "p", "q", "r", "u", "x", "w")}
    assert w.EN["other_lang"] == "中文"
    for key, template in w.EN.items():
        if key == "other_lang":
            continue
        for number in ("1", "12"):
            filled = w.text("en", key, **{**_fields(template), **dict.fromkeys(values, number)})
            assert not CHINESE.search(filled), (key, filled)
    assert set(w.EN) == set(w.ZH)


def _fields(template: str) -> dict[str, str]:
    return {name: "x" for name in re.findall(r"{(\w+)", template)}


def test_lists_join_with_dunhao_and_a_final_conjunction():
    assert w.join(["A", "B", "C"], "zh", last="以及") == "A、B以及C"
    assert w.join(["广东", "江苏", "浙江"], "zh") == "广东、江苏和浙江"
    assert w.join(["a", "b"], "en") == "a and b"
    assert w.join(["only"], "zh") == "only"
