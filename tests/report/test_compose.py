"""The report's wording (DESIGN.md §3): the acceptance paragraphs verbatim, zero sentences left out,
the English edition with the same numbers."""

from __future__ import annotations

import re

from sitrep.report.compose import compose
from sitrep.report.facts import gather
from sitrep.report.facts_model import Facts
from sitrep.weeks import Week

from .data import AMBER_FAMILY, HOSTILE_FAMILY, WEEK

OVERVIEW = (
    "本周，互联网网络安全态势整体评价为良。我国互联网基础设施运行整体平稳，全国范围或省级行政区域内未发生造成重大"
    "影响的基础设施运行安全事件。针对政府、企业以及广大互联网用户的主要安全威胁来自于软件高危漏洞、恶意代码传播以及"
    "网站攻击。"
)
INCIDENTS = (
    "本周，CNCERT协调云服务商、域名注册服务机构、应用商店、各省分中心以及国际合作组织共处理网络安全事件67起，含跨境"
    "网络安全事件28起。其中，协调境内外域名注册机构、境外CERT等机构重点处理38起仿冒投诉事件。协调12个提供恶意移动"
    "应用程序下载服务的平台开展移动互联网恶意代码处理工作，共处理传播移动互联网恶意代码的恶意URL链接14个。"
)


def test_acceptance_paragraphs_and_title(facts, built, secret):
    report = compose(facts, built.settings, "zh", previous=[], secret=secret)
    assert report.title == "网络安全信息与动态周报2025年第1期（2024年12月30日-2025年1月5日）"
    assert [s.heading for s in report.sections] == [
        "本周网络安全基本态势",
        "本周网络病毒活动情况",
        "本周网站安全情况",
        "本周重要漏洞情况",
        "本周事件处理情况",
        "近期回顾",
    ]
    assert report.section("overview").paragraphs[0] == OVERVIEW
    assert report.section("incidents").paragraphs == [INCIDENTS]


def test_sections_two_to_four_follow_the_real_wording(facts, built, secret):
    report = compose(facts, built.settings, "zh", previous=[], secret=secret)
    malware = report.section("malware").paragraphs
    assert malware[0].startswith("本周境内感染网络病毒的主机数量约为12个。")
    assert "排名前三位的分别是广东、江苏和浙江。" in malware[0]
    assert malware[1] == (
        "本周，CNCERT监测发现的放马站点共涉及域名5个，涉及IP地址4个。在5个域名中，有60.0%为境外注册，且顶级域为.com的"
        "约占60.0%；在4个IP中，有约75.0%位于境外。"
    )
    assert report.section("websites").paragraphs[0] == (
        "本周CNCERT监测发现境内被篡改网站数量为5个；境内被植入后门的网站数量为3个；针对境内网站的仿冒页面数量为6个。"
    )
    assert report.section("vulns").paragraphs[0] == (
        "本周，国家信息安全漏洞共享平台（CNVD）新收录网络安全漏洞10个，信息安全漏洞威胁整体评价级别为中。"
        "其中高危漏洞4个、中危漏洞4个、低危漏洞2个。"
    )
    table = report.section("overview").table
    assert [(r.label, r.value, r.previous, r.change_text) for r in table][:2] == [
        ("境内感染网络病毒的主机数量", 12, 12, "持平"),
        ("境内被篡改网站总数", 5, 5, "持平"),
    ]
    assert [r.sub for r in table] == [False, False, True, False, True, False, False, True]


def test_english_edition_carries_the_same_numbers(facts, built, secret):
    zh = compose(facts, built.settings, "zh", previous=[], secret=secret)
    en = compose(facts, built.settings, "en", previous=[], secret=secret)
    assert en.title == "Weekly Network Security Report 2025 No. 1 (30 Dec 2024 – 5 Jan 2025)"
    assert (
        en.section("incidents")
        .paragraphs[0]
        .startswith(
            "This week CNCERT/CC, coordinating with cloud providers, domain registrars, app stores, provincial "
            "branches and international partner organisations, handled 67 network security incidents, 28 of them "
            "cross-border. Of these, 38 phishing complaints"
        )
    )
    assert "12 platforms" in en.section("incidents").paragraphs[0]
    assert [(r.value, r.previous) for r in en.section("overview").table] == [
        (r.value, r.previous) for r in zh.section("overview").table
    ]
    assert en.data == zh.data
    assert (
        en.section("overview")
        .paragraphs[0]
        .startswith("This week, the overall network security situation was rated good.")
    )


def test_sentences_whose_number_is_zero_are_left_out(facts, built, secret):
    zeroed = facts.as_dict()
    numbers = zeroed["incidents"]["numbers"]
    numbers.update(cross_border=0, phishing=0, mobile_malware_platforms=0)
    zeroed["incidents"]["partner_types"] = []
    text = compose(Facts.from_dict(zeroed), built.settings, "zh", previous=[], secret=secret)
    text = text.section("incidents").paragraphs[0]
    assert text == (
        "本周，CNCERT共处理网络安全事件67起。"
        "开展移动互联网恶意代码处理工作，共处理传播移动互联网恶意代码的恶意URL链接14个。"
    )
    numbers.update(mobile_malware_urls=0)
    ind = zeroed["metrics"]["indicators"]
    ind["backdoored_sites"]["value"] = ind["backdoored_gov_sites"]["value"] = 0
    report = compose(Facts.from_dict(zeroed), built.settings, "zh", previous=[], secret=secret)
    assert report.section("incidents").paragraphs == ["本周，CNCERT共处理网络安全事件67起。"]
    websites = report.section("websites").paragraphs
    assert websites[0] == "本周CNCERT监测发现境内被篡改网站数量为5个；针对境内网站的仿冒页面数量为6个。"
    assert "后门" not in "".join(websites)
    assert not re.search(r"(?<![0-9.])0[个起]", "".join(p for s in report.sections for p in s.paragraphs))


def test_an_empty_week_prints_no_zero_sentence(built, secret):
    empty = gather(built, Week(2023, 10))
    report = compose(empty, built.settings, "zh", previous=[], secret=secret)
    body = [p for s in report.sections[1:5] for p in s.paragraphs]
    assert set(body) == {"本周未监测到相关情况。"}
    assert report.rating is None and report.score is None
    assert report.rating_word == "数据不足"


def test_family_names_from_amber_data_by_default_and_review_links(facts, built, secret):
    report = compose(facts, built.settings, "zh", previous=[WEEK - i for i in range(1, 7)], secret=secret)
    text = report.section("malware").paragraphs[0]
    # gafgyt and the AMBER-only family are seen only in AMBER data: the default policy names them.
    assert f"mirai（7个）、gafgyt（3个）、{HOSTILE_FAMILY}（1个）和{AMBER_FAMILY}（1个）" in text
    links = report.section("review").links
    assert [link.text for link in links] == [
        "●网络安全信息与动态周报2024年第52期（12月23日-12月29日）",
        "●网络安全信息与动态周报2024年第51期（12月16日-12月22日）",
        "●网络安全信息与动态周报2024年第50期（12月9日-12月15日）",
        "●网络安全信息与动态周报2024年第49期（12月2日-12月8日）",
        "●网络安全信息与动态周报2024年第48期（11月25日-12月1日）",
    ]
    assert links[0].href == "../2024-W52/report.zh.html"
