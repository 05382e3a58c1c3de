"""The rating rule of DESIGN.md §6: bands, baseline, explanation, configuration, infrastructure floor."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sitrep.config import ConfigError, Rating, parse_settings
from sitrep.report.compose import compose
from sitrep.report.facts import gather
from sitrep.report.rating import rate
from sitrep.report.redact import workspace_secret

from .data import WEEK, build_workspace

KEYS = ("infected_hosts", "defaced_sites", "backdoored_sites", "phishing_pages", "new_high_vulnerabilities")


def _history(*weeks: dict[str, int]) -> list[dict]:
    return [{"week": f"2024-W{40 + i}", **values} for i, values in enumerate(weeks)]


def _all(n: int) -> dict[str, int]:
    return dict.fromkeys(KEYS, n)


@pytest.mark.parametrize(
    ("this", "label"), [(7, "优"), (8, "良"), (10, "良"), (11, "中"), (13, "中"), (14, "差"), (19, "差"), (20, "危")]
)
def test_default_bands(this, label):
    result = rate(_all(this), _history(_all(10), _all(10)), Rating())
    assert result.label == label
    assert result.score == pytest.approx(this / 10)


def test_baseline_is_the_median_of_the_last_weeks_and_every_ratio_is_explained():
    history = _history(_all(100), _all(2), _all(4), _all(6))
    config = Rating(baseline_weeks=3)
    result = rate({**_all(4), "phishing_pages": 8}, history, config)
    # The oldest week (100) is beyond the 3 baseline weeks: the median of 2, 4, 6 is 4.
    ratios = {r.key: r for r in result.ratios}
    assert ratios["infected_hosts"].baseline == 4.0 and ratios["infected_hosts"].ratio == 1.0
    assert ratios["phishing_pages"].ratio == 2.0
    assert ratios["infected_hosts"].baseline_weeks == ["2024-W41", "2024-W42", "2024-W43"]
    assert result.score == pytest.approx((1 + 1 + 1 + 2 + 1) / 5)
    assert result.label == "中"


def test_short_history_uses_what_exists_and_no_history_is_not_rated():
    one = rate(_all(5), _history(_all(5)), Rating())
    assert one.label == "良" and one.ratios[0].baseline_weeks == ["2024-W40"]
    none = rate(_all(5), [], Rating())
    assert none.score is None and none.label is None and none.band_label is None
    assert all(r.ratio is None and r.status == "no_baseline" for r in none.ratios)


def test_a_rise_from_a_zero_baseline_is_shown_but_not_averaged():
    result = rate({**_all(10), "defaced_sites": 3}, _history({**_all(10), "defaced_sites": 0}), Rating())
    ratios = {r.key: r.ratio for r in result.ratios}
    assert ratios["defaced_sites"] is None
    assert result.score == 1.0


def test_a_major_infrastructure_incident_makes_the_rating_at_least_fair():
    good = rate(_all(5), _history(_all(10)), Rating(), major_infrastructure=["INF-1"])
    assert good.band_label == "优" and good.label == "中" and good.floor_applied
    bad = rate(_all(30), _history(_all(10)), Rating(), major_infrastructure=["INF-1"])
    assert bad.label == "危" and not bad.floor_applied


def test_rating_is_configurable_and_validated(tmp_path):
    settings = parse_settings(
        {
            "rating": {
                "indicators": ["infected_hosts"],
                "baseline_weeks": 4,
                "bands": [{"below": 0.5, "label": "优"}, {"below": 3.0, "label": "中"}],
                "otherwise": "危",
            }
        },
        tmp_path / "sitrep.toml",
    )
    result = rate({**_all(20)}, _history(_all(10)), settings.rating)
    assert [r.key for r in result.ratios] == ["infected_hosts"]
    assert result.label == "中"
    with pytest.raises(ConfigError, match=r"rating\.indicators"):
        parse_settings({"rating": {"indicators": ["nope"]}}, tmp_path / "sitrep.toml")
    with pytest.raises(ConfigError, match="increasing"):
        parse_settings(
            {"rating": {"bands": [{"below": 2, "label": "优"}, {"below": 1, "label": "良"}]}}, tmp_path / "sitrep.toml"
        )


def test_explanation_is_in_the_report_and_its_json(facts, built, secret):
    report = compose(facts, built.settings, "zh", previous=[], secret=secret)
    notes = report.section("overview").notes
    assert notes == [
        "评价依据：5项主要指标本周数值与基线（前8周中位数）之比的平均值为1.00（感染主机1.00，被篡改网站1.00，"
        "被植入后门网站1.00，仿冒页面1.00，高危漏洞1.00），对应“良”（0.8≤评分<1.1）。"
    ]
    rating = report.data["rating"]
    assert rating["label"] == "良" and rating["score"] == 1.0
    assert {r["key"]: r["baseline"] for r in rating["ratios"]}["infected_hosts"] == 12.0
    assert rating["rule"]["bands"][0] == {"below": 0.8, "label": "优"}


def test_major_infrastructure_incident_changes_the_sentence_and_floors_the_rating(tmp_path):
    ws = build_workspace(tmp_path / "ws")
    from sitrep.incidents.db import session_scope
    from sitrep.incidents.importer import import_incidents

    path = tmp_path / "infra.csv"
    path.write_text(
        "ref,title,category,reported_at,status,grade\n"
        "INF-1,骨干网中断,infrastructure,2025-01-02T08:00:00,triaged,重大\n"
        "INF-2,小故障,infrastructure,2025-01-02T08:00:00,triaged,一般\n",
        encoding="utf-8",
    )
    with session_scope(ws) as session:
        assert not import_incidents(session, path, workspace=ws, actor="t").rejects
    facts = gather(ws, WEEK)
    assert facts.incidents.major_infrastructure == ("INF-1",)
    report = compose(facts, ws.settings, "zh", previous=[], secret=workspace_secret(ws))
    text = report.section("overview").paragraphs[0]
    assert text.startswith("本周，互联网网络安全态势整体评价为中。")
    assert "本周我国互联网发生造成重大影响的基础设施运行安全事件1起。" in text
    assert "未发生造成重大影响" not in text
    assert "评价不低于“中”" in report.section("overview").notes[-1]


def test_an_indicator_without_data_this_week_and_in_its_baseline_is_left_out_and_said_so(facts, built, secret):
    quiet = {**_all(10), "backdoored_sites": 0}
    result = rate(quiet, _history(quiet, quiet), Rating())
    statuses = {r.key: r.status for r in result.ratios}
    assert statuses["backdoored_sites"] == "no_data" and list(statuses.values()).count("rated") == 4
    assert result.score == 1.0 and [r.key for r in result.rated] == [k for k in KEYS if k != "backdoored_sites"]
    # The same in a report: the note says which indicator was left out and over how many it averaged.
    zeroed = replace(facts, rating=rate(quiet, _history(*[quiet] * 8), built.settings.rating))
    notes = compose(zeroed, built.settings, "zh", previous=[], secret=secret).section("overview").notes
    assert notes[0].startswith("评价依据：4项主要指标本周数值与基线（前8周中位数）之比的平均值为1.00")
    assert "被植入后门网站1.00" not in notes[0]
    assert notes[1] == "被植入后门网站本周与基线均无数据，不计入评分。"
    en = compose(zeroed, built.settings, "en", previous=[], secret=secret).section("overview").notes
    assert en[1] == "Left out of the score for want of data this week and in the baseline: backdoored sites."


def test_the_note_states_how_many_baseline_weeks_were_used(facts, built, secret):
    for weeks, said in ((7, "前7周中位数"), (1, "上周数值")):
        result = rate(_all(10), _history(*[_all(10)] * weeks), built.settings.rating)
        assert len(result.baseline_weeks) == weeks
        changed = replace(facts, rating=result)
        notes = compose(changed, built.settings, "zh", previous=[], secret=secret).section("overview").notes
        assert notes[0].startswith(f"评价依据：5项主要指标本周数值与基线（{said}）之比"), notes


def test_a_week_without_data_is_not_rated_good(built, secret):
    empty = gather(built, WEEK + 30)  # after the lake's history: nothing this week, real baselines
    rating = empty.rating
    assert rating.label is None and rating.score is None
    assert all(r.ratio != 1.0 for r in rating.ratios)
    assert {r.status for r in rating.ratios} == {"no_data"}
    report = compose(empty, built.settings, "zh", previous=[], secret=secret)
    overview = report.section("overview")
    assert report.rating is None and "良" not in overview.paragraphs[0]
    assert overview.paragraphs[0].startswith("本周数据不足，暂不作互联网网络安全态势整体评价。")
    assert "数据不足，本周不作评价" in overview.notes[0]
    assert report.data["rating"]["label"] is None
    # The week after the lake's last data: every indicator 0 against a real baseline is missing data,
    # not a calm week (优).
    missing = gather(built, WEEK + 1)
    assert missing.rating.label is None and missing.rating.score is None
    assert [r.ratio for r in missing.rating.ratios] == [0.0] * 5
    notes = compose(missing, built.settings, "zh", previous=[], secret=secret).section("overview").notes
    assert notes == [
        "评价依据：本周5项主要指标均为0（基线为前8周中位数），本周数据可能尚未导入，数据不足，本周不作评价。"
    ]
    calm = rate({**_all(0), "infected_hosts": 1}, _history(_all(10)), Rating())
    assert calm.label == "优" and calm.score == 0.02  # one indicator with data: a (very) calm week
