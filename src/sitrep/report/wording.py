# ruff: noqa: E501 -- each template stays on one line so it can be compared with the seed verbatim.
"""Every word of the report, defined once, in Chinese (the real report's wording, DESIGN.md §3) and English.

Templates are ``str.format`` strings; :mod:`sitrep.report.compose` fills them with values already
formatted by the helpers below (so both editions print the same numbers).  Values are plain text:
renderers escape them.  English templates agree with their numbers through a format spec of two
forms: ``{n:host was|hosts were}`` prints the first form when ``n`` is printed ``1`` (or ``one``), else the second
(``1.0`` is plural, as English has it); forms may hold fields (``{k:the top type was|the top {k} were}``).
"""

from __future__ import annotations

import string
from datetime import date
from typing import Any

from sitrep.report.model import Direction
from sitrep.taxonomy import RATING_EN
from sitrep.weeks import Week

LANGS = ("zh", "en")

# What a week without a rating (not enough data) is called where a rating word stands.
NO_RATING = {"zh": "数据不足", "en": "not rated"}
THREAT_LEVEL_EN = {"高": "high", "中": "medium", "低": "low"}
ZH_NUMERALS = "零一二三四五六七八九十"
# English spells out the small numbers of "the top three" as prose does.
EN_NUMERALS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")

ZH: dict[str, str] = {
    "title": "网络安全信息与动态周报{year}年第{number}期（{dates}）",
    "site_title": "网络安全信息与动态周报",
    "issue": "{year}年第{number}期",
    "tlp": "TLP:CLEAR 可公开",
    "published": "发布",
    "draft": "草稿（未发布）",
    "generated": "生成时间",
    "rating_label": "整体评价",
    "score_label": "评分",
    "h_overview": "本周网络安全基本态势",
    "h_malware": "本周网络病毒活动情况",
    "h_websites": "本周网站安全情况",
    "h_vulns": "本周重要漏洞情况",
    "h_incidents": "本周事件处理情况",
    "h_review": "近期回顾",
    "rating": "本周，互联网网络安全态势整体评价为{rating}。",
    "infra_ok": "{constituency}互联网基础设施运行整体平稳，全国范围或省级行政区域内未发生造成重大影响的基础设施运行安全事件。",
    "infra_major": "本周{constituency}互联网发生造成重大影响的基础设施运行安全事件{n}起。",
    "threats": "针对政府、企业以及广大互联网用户的主要安全威胁来自于软件高危漏洞、恶意代码传播以及网站攻击。",
    "rating_none": "本周数据不足，暂不作互联网网络安全态势整体评价。",
    "basis": "评价依据：{k}项主要指标本周数值与基线（{baseline}）之比的平均值为{score}（{ratios}），对应“{band}”（{range}）。",
    "basis_weeks": "前{w}周中位数",
    "basis_week": "上周数值",
    "basis_ratio": "{label}{ratio}",
    "basis_new": "{label}基线为0",
    "basis_left_out": "{labels}本周与基线均无数据，不计入评分。",
    "basis_none": "评价依据：尚无往周数据作为基线，数据不足，本周不作评价。",
    "basis_empty": "评价依据：本周{k}项主要指标均为0（基线为{baseline}），本周数据可能尚未导入，数据不足，本周不作评价。",
    "basis_insufficient": "评价依据：没有可与基线（{baseline}）相比的主要指标{ratios}，数据不足，本周不作评价。",
    "basis_insufficient_rises": "（{items}）",
    "floor": "本周发生重大基础设施运行安全事件，评价不低于“{floor}”。",
    "band_range_lower": "评分<{hi}",
    "band_range": "{lo}≤评分<{hi}",
    "band_range_upper": "评分≥{lo}",
    "col_indicator": "指标",
    "col_value": "本周数量",
    "col_previous": "上周数量",
    "col_change": "环比",
    "up": "上升",
    "down": "下降",
    "flat": "持平",
    "infected": "本周境内感染网络病毒的主机数量约为{n}个。",
    "families": "其中，感染主机数量较多的恶意程序家族为{items}。",
    "family_item": "{name}（{n}个）",
    "family_hidden": "其他未公开家族",
    "regions": "境内感染网络病毒的主机按地区分布，排名前{k}位的分别是{items}。",
    "regions_one": "境内感染网络病毒的主机主要分布在{items}。",
    "hosting_both": "本周，{org}监测发现的放马站点共涉及域名{d}个，涉及IP地址{i}个。在{d}个域名中，有{p}为境外注册，且顶级域为.com的约占{q}；在{i}个IP中，有约{r}位于境外。",
    "hosting_domains": "本周，{org}监测发现的放马站点共涉及域名{d}个。在{d}个域名中，有{p}为境外注册，且顶级域为.com的约占{q}。",
    "hosting_ips": "本周，{org}监测发现的放马站点共涉及IP地址{i}个。在{i}个IP中，有约{r}位于境外。",
    "sites_lead": "本周{org}监测发现{clauses}。",
    "sites_defaced": "境内被篡改网站数量为{n}个",
    "sites_backdoored": "境内被植入后门的网站数量为{n}个",
    "sites_phishing": "针对境内网站的仿冒页面数量为{n}个",
    "gov_lead": "本周{clauses}。",
    "gov_defaced": "境内被篡改政府网站（GOV类）数量为{n}个（约占境内{pct}），{change}",
    "gov_backdoored": "境内被植入后门的政府网站（GOV类）数量为{n}个（约占境内{pct}），{change}",
    "phishing_hosts": "针对境内网站的仿冒页面涉及域名{d}个，IP地址{i}个，平均每个IP地址承载了约{k}个仿冒页面",
    "change_up": "较上周环比上升了{x}",
    "change_down": "较上周环比下降了{x}",
    "change_flat": "与上周持平",
    "change_new": "上周为0",
    "change_unknown": "上周无数据",
    "clause_sep": "；",
    "vulns": "本周，{db}新收录网络安全漏洞{n}个，信息安全漏洞威胁整体评价级别为{level}。",
    "vuln_severities": "其中{items}。",
    "sev_high": "高危漏洞{n}个",
    "sev_medium": "中危漏洞{n}个",
    "sev_low": "低危漏洞{n}个",
    "vuln_types": "从漏洞所影响的对象类型来看，排名前{k}位的是：{items}。",
    "vuln_type_item": "{type}漏洞（{n}个，占{pct}）",
    "vuln_patched": "本周新收录的漏洞中，已有厂商补丁的漏洞{n}个（占{pct}）。",
    "inc_handled": "本周，{org}{partners}共处理网络安全事件{n}起{cross}。",
    "inc_partners": "协调{items}",
    "inc_cross": "，含跨境网络安全事件{n}起",
    "inc_phishing": "其中，协调境内外域名注册机构、境外CERT等机构重点处理{n}起仿冒投诉事件。",
    "inc_mobile": "协调{p}个提供恶意移动应用程序下载服务的平台开展移动互联网恶意代码处理工作，共处理传播移动互联网恶意代码的恶意URL链接{u}个。",
    "inc_mobile_no_platform": "开展移动互联网恶意代码处理工作，共处理传播移动互联网恶意代码的恶意URL链接{u}个。",
    "nothing": "本周未监测到相关情况。",
    "review_none": "暂无往期。",
    "chart_trend": "主要指标近{n}周走势",
    "chart_regions": "境内感染网络病毒的主机地区分布",
    "chart_hosting": "放马站点境内外分布",
    "chart_phishing": "针对境内网站的仿冒页面承载情况",
    "chart_severity": "新增漏洞危害级别分布",
    "chart_types": "新增漏洞影响对象类型分布",
    "chart_categories": "本周处理事件类别分布",
    "chart_partners": "本周协调机构类型分布（事件数）",
    "domestic": "境内",
    "foreign": "境外",
    "domains": "域名",
    "ips": "IP地址",
    "pages": "仿冒页面",
    "hosts": "主机数",
    "count": "数量",
    "incidents_unit": "事件数",
    "index": "往期周报",
    "index_intro": "{org}每周发布的网络安全信息与动态周报。",
    "other_lang": "English",
    "feed": "Atom 订阅",
    "rating_rule": "评价规则",
    "evidence_note": "各项数字对应的事件与事件单编号见 JSON 版本。",
    "highlights": "本周要点",
    "withdrawn": "已撤回",
    "withdrawn_title": "{title}（已撤回）",
    "withdrawn_notice": "本期周报已于{date}撤回。撤回原因：{reason}",
    "rating_line": "{label}：{rating}（{score}）",
    # The archive (report/site.py): an issue's summary in the index and the feeds.
    "entry_summary": "{rating_label}：{rating}。{numbers}。",
    "entry_number": "{label}{value}（{change}）",
    "entry_number_new": "{label}{value}",
    "entry_sep": "；",
}

EN: dict[str, str] = {
    "title": "Weekly Network Security Report {year} No. {number} ({dates})",
    "site_title": "Weekly Network Security Report",
    "issue": "{year} No. {number}",
    "tlp": "TLP:CLEAR public",
    "published": "Published",
    "draft": "Draft (not published)",
    "generated": "Generated",
    "rating_label": "Overall rating",
    "score_label": "Score",
    "h_overview": "Network security situation this week",
    "h_malware": "Malware activity",
    "h_websites": "Website security",
    "h_vulns": "Important vulnerabilities",
    "h_incidents": "Incident handling",
    "h_review": "Recent issues",
    "rating": "This week, the overall network security situation was rated {rating}.",
    "infra_ok": "{constituency}'s Internet infrastructure ran smoothly overall; no infrastructure security incident with major impact occurred nationwide or in any provincial-level region.",
    "infra_major": "This week {n} infrastructure security {n:incident|incidents} with major impact occurred on {constituency}'s Internet.",
    "threats": "The main threats to government, businesses and Internet users came from high-risk software vulnerabilities, malware propagation and website attacks.",
    "rating_none": "This week there is not enough data to rate the overall network security situation.",
    "basis": "Basis: the mean ratio to the baseline ({baseline}) over {k} of the key indicators is {score} ({ratios}), which falls in “{band}” ({range}).",
    "basis_weeks": "median of the previous {w} weeks",
    "basis_week": "last week's value",
    "basis_ratio": "{label} {ratio}",
    "basis_new": "{label} up from a zero baseline",
    "basis_left_out": "Left out of the score for want of data this week and in the baseline: {labels}.",
    "basis_none": "Basis: no earlier weeks to use as a baseline yet: not enough data, so the week is not rated.",
    "basis_empty": "Basis: the {k} key {k:indicator is|indicators are all} 0 this week (baseline: {baseline}), so its data may not have been ingested yet: not enough data, so the week is not rated.",
    "basis_insufficient": "Basis: no key indicator can be compared with its baseline ({baseline}){ratios}: not enough data, so the week is not rated.",
    "basis_insufficient_rises": " ({items})",
    "floor": "A major infrastructure incident occurred this week, so the rating is at least “{floor}”.",
    "band_range_lower": "score < {hi}",
    "band_range": "{lo} ≤ score < {hi}",
    "band_range_upper": "score ≥ {lo}",
    "col_indicator": "Indicator",
    "col_value": "This week",
    "col_previous": "Last week",
    "col_change": "Change",
    "up": "up",
    "down": "down",
    "flat": "unchanged",
    "infected": "This week {n} malware-infected {n:host was|hosts were} found in {constituency}.",
    "families": "The malware families with the most infected hosts were {items}.",
    "family_item": "{name} ({n})",
    "family_hidden": "other undisclosed families",
    "regions": "By region, the top {k} were {items}.",
    "regions_one": "By region, the infected hosts were mainly in {items}.",
    "hosting_both": "This week {org} found malware-hosting sites on {d} {d:domain|domains} and {i} IP {i:address|addresses}. Of the {d} {d:domain|domains}, {p} {d:was|were} registered abroad and about {q} {d:was|were} under .com; of the {i} {i:IP|IPs}, about {r} {i:was|were} located abroad.",
    "hosting_domains": "This week {org} found malware-hosting sites on {d} {d:domain|domains}. Of the {d} {d:domain|domains}, {p} {d:was|were} registered abroad and about {q} {d:was|were} under .com.",
    "hosting_ips": "This week {org} found malware-hosting sites on {i} IP {i:address|addresses}. Of the {i} {i:IP|IPs}, about {r} {i:was|were} located abroad.",
    "sites_lead": "This week {org} found {clauses}.",
    "sites_defaced": "{n} defaced {n:website|websites} in {constituency}",
    "sites_backdoored": "{n} backdoored {n:website|websites} in {constituency}",
    "sites_phishing": "{n} phishing {n:page|pages} targeting websites in {constituency}",
    "gov_lead": "This week {clauses}.",
    "gov_defaced": "{n} defaced government (GOV) {n:website was|websites were} found (about {pct} of all defaced), {change}",
    "gov_backdoored": "{n} backdoored government (GOV) {n:website was|websites were} found (about {pct} of all backdoored), {change}",
    "phishing_hosts": "the phishing pages used {d} {d:domain|domains} and {i} IP {i:address|addresses}, about {k} {k:page|pages} per IP address",
    "change_up": "up {x} on last week",
    "change_down": "down {x} on last week",
    "change_flat": "unchanged from last week",
    "change_new": "none last week",
    "change_unknown": "no data for last week",
    "clause_sep": "; ",
    "vulns": "This week the {db} recorded {n} new {n:vulnerability|vulnerabilities}; the overall vulnerability threat level is {level}.",
    "vuln_severities": "By severity: {items}.",
    "sev_high": "{n} high",
    "sev_medium": "{n} medium",
    "sev_low": "{n} low",
    "vuln_types": "By affected object, {k:the top type was|the top {k} were}: {items}.",
    "vuln_type_item": "{type} ({n}, {pct})",
    "vuln_patched": "Of the new vulnerabilities, {n} ({pct}) {n:has|have} a vendor patch.",
    "inc_handled": "This week {org}{partners} handled {n} network security {n:incident|incidents}{cross}.",
    "inc_partners": ", coordinating with {items},",
    "inc_cross": ", {n} of them cross-border",
    "inc_phishing": "Of these, {n} phishing {n:complaint was|complaints were} handled with domain registrars at home and abroad, foreign CERTs and other organisations.",
    "inc_mobile": "Working with {p} {p:platform that served|platforms that served} malicious mobile apps, {org} took action against {u} malicious {u:URL|URLs} spreading mobile malware.",
    "inc_mobile_no_platform": "{org} took action against {u} malicious {u:URL|URLs} spreading mobile malware.",
    "nothing": "Nothing to report this week.",
    "review_none": "No earlier issues.",
    "chart_trend": "Key indicators, last {n} weeks",
    "chart_regions": "Infected hosts by region",
    "chart_hosting": "Malware-hosting sites, domestic and foreign",
    "chart_phishing": "Phishing pages targeting domestic websites",
    "chart_severity": "New vulnerabilities by severity",
    "chart_types": "New vulnerabilities by affected object",
    "chart_categories": "Incidents handled, by category",
    "chart_partners": "Partners coordinated with, by type (incidents)",
    "domestic": "domestic",
    "foreign": "foreign",
    "domains": "domains",
    "ips": "IP addresses",
    "pages": "pages",
    "hosts": "hosts",
    "count": "count",
    "incidents_unit": "incidents",
    "index": "Past issues",
    "index_intro": "The weekly network security report published by {org}.",
    "other_lang": "中文",
    "feed": "Atom feed",
    "rating_rule": "Rating rule",
    "evidence_note": "The JSON edition lists the events and incidents behind every number.",
    "highlights": "Highlights of the week",
    "withdrawn": "withdrawn",
    "withdrawn_title": "{title} (withdrawn)",
    "withdrawn_notice": "This issue was withdrawn on {date}. Reason: {reason}",
    "rating_line": "{label}: {rating} ({score})",
    # The archive (report/site.py): an issue's summary in the index and the feeds.
    "entry_summary": "{rating_label}: {rating}. {numbers}.",
    "entry_number": "{label} {value} ({change})",
    "entry_number_new": "{label} {value}",
    "entry_sep": "; ",
}

# Short indicator names for charts and the rating explanation (the table uses the full labels).
SHORT = {
    "zh": {
        "infected_hosts": "感染主机",
        "defaced_sites": "被篡改网站",
        "defaced_gov_sites": "被篡改政府网站",
        "backdoored_sites": "被植入后门网站",
        "backdoored_gov_sites": "被植入后门政府网站",
        "phishing_pages": "仿冒页面",
        "new_vulnerabilities": "新增漏洞",
        "new_high_vulnerabilities": "高危漏洞",
    },
    "en": {
        "infected_hosts": "infected hosts",
        "defaced_sites": "defaced sites",
        "defaced_gov_sites": "defaced GOV sites",
        "backdoored_sites": "backdoored sites",
        "backdoored_gov_sites": "backdoored GOV sites",
        "phishing_pages": "phishing pages",
        "new_vulnerabilities": "new vulnerabilities",
        "new_high_vulnerabilities": "high-severity vulnerabilities",
    },
}

SEVERITY_LABELS = {"zh": ("高危", "中危", "低危"), "en": ("high", "medium", "low")}

# --- The full edition's content: sectors (section 2), the vulnerability list (section 4), partner response (section 5).
ZH.update(
    {
        "sectors": "按数据源标明的行业看，境内感染网络病毒的主机较多的行业是{items}。",
        "sector_item": "{name}（{n}个）",
        "chart_sectors": "境内感染网络病毒的主机行业分布",
        "vuln_list": "本周重要漏洞（高危漏洞中CVSS评分最高的{k}个）如下表。",
        "vuln_list_title": "本周重要漏洞",
        "col_vuln_name": "漏洞名称",
        "col_cnvd": "CNVD编号",
        "col_cve": "CVE编号",
        "col_product": "影响产品",
        "col_score": "CVSS评分",
        "col_patch": "厂商补丁",
        "patch_yes": "已发布",
        "patch_no": "暂无",
        "response": "本周，合作机构完成处置的协调请求{n}个，从发出请求到完成处置的时间中位数为{h}小时（前{w}周为{p}小时）。",
        "response_no_previous": "本周，合作机构完成处置的协调请求{n}个，从发出请求到完成处置的时间中位数为{h}小时。",
        "chart_response": "合作机构处置时间中位数（小时）",
        "this_week": "本周",
        "previous_weeks": "前{w}周",
    }
)
EN.update(
    {
        "sectors": "By the sector their feeds give, the sectors with the most infected domestic hosts were {items}.",
        "sector_item": "{name} ({n})",
        "chart_sectors": "Infected hosts by sector",
        "vuln_list": "The week's important vulnerabilities (the {k} highest-scored of the high-severity ones) are listed below.",
        "vuln_list_title": "Important vulnerabilities of the week",
        "col_vuln_name": "Vulnerability",
        "col_cnvd": "CNVD ID",
        "col_cve": "CVE ID",
        "col_product": "Affected product",
        "col_score": "CVSS",
        "col_patch": "Vendor patch",
        "patch_yes": "available",
        "patch_no": "none yet",
        "response": "This week partners acted on {n} coordination requests; the median time from request to takedown was {h} hours ({p} hours over the previous {w} weeks).",
        "response_no_previous": "This week partners acted on {n} coordination requests; the median time from request to takedown was {h} hours.",
        "chart_response": "Partners' median time to take down (hours)",
        "this_week": "this week",
        "previous_weeks": "previous {w} weeks",
    }
)
# Shadowserver's sectors in Chinese; a sector not listed is printed as the feed wrote it.
SECTOR_ZH = {
    "Communications, Service Provider, and Hosting Service": "通信、网络服务与托管",
    "Education": "教育",
    "Government": "政府",
    "Healthcare": "医疗卫生",
    "Manufacturing": "制造业",
    "Retail": "零售",
    "Banking, Finance, and Insurance": "银行、金融与保险",
    "Energy": "能源",
    "Transportation": "交通运输",
    "Agriculture": "农业",
    "Construction": "建筑业",
    "Utilities": "公用事业",
}


def sector_name(name: str, lang: str) -> str:
    """A sector as the report prints it: Chinese where known in the Chinese edition."""
    return SECTOR_ZH.get(name, name) if lang == "zh" else name


def hours(value: float) -> str:
    """A median time in hours, one decimal."""
    return f"{value:.1f}"


_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class _Forms(string.Formatter):
    """``str.format`` with the two-form spec of the English templates (``{n:host|hosts}``)."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if "|" in format_spec:
            one, other = format_spec.split("|", 1)
            return one if str(value) in ("1", "one") else other
        return super().format_field(value, format_spec)


_FORMS = _Forms()


def text(lang: str, key: str, **values: object) -> str:
    """The template ``key`` of ``lang`` filled with ``values`` (English forms agreeing with their numbers)."""
    return _FORMS.format((ZH if lang == "zh" else EN)[key], **values)


def count(n: float, lang: str) -> str:
    """A count as printed (rounded to a whole number): ``57.8万`` from 10,000 up in Chinese; ``578,123``
    with thousands separators in English, never in 万.  Charts label their values and axes with it."""
    if lang == "zh":
        return f"{n / 10000:.1f}万" if n >= 10000 else f"{n:.0f}"
    return f"{n:,.0f}"


def pct(value: float | None) -> str:
    """A percentage to one decimal (``—`` when undefined)."""
    return "—" if value is None else f"{value:.1f}%"


def ordinal_count(k: int, lang: str) -> str:
    """``三`` for 3 in Chinese (前三位), ``three`` in English (the top three), up to ten; digits above."""
    if 0 <= k <= 10:
        return ZH_NUMERALS[k] if lang == "zh" else EN_NUMERALS[k]
    return str(k)


def join(items: list[str], lang: str, *, last: str | None = None) -> str:
    """``A、B和C`` (or with ``以及``) in Chinese; ``A, B and C`` in English."""
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    if lang == "zh":
        return "、".join(items[:-1]) + (last or "和") + items[-1]
    return ", ".join(items[:-1]) + " and " + items[-1]


def rating_word(label: str | None, lang: str) -> str:
    """优/良/中/差/危, or its English word; ``None`` (not enough data to rate the week) is 数据不足."""
    if label is None:
        return NO_RATING[lang]
    return label if lang == "zh" else RATING_EN[label]


def _zh_date(day: date, with_year: bool) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if with_year else f"{day.month}月{day.day}日"


def _en_date(day: date, with_year: bool) -> str:
    return f"{day.day} {_MONTHS_EN[day.month - 1]}" + (f" {day.year}" if with_year else "")


def dates(week: Week, lang: str) -> str:
    """``12月23日-12月29日``; both dates carry their year when the week crosses a year boundary."""
    crosses = week.monday.year != week.sunday.year
    if lang == "zh":
        return f"{_zh_date(week.monday, crosses)}-{_zh_date(week.sunday, crosses)}"
    return f"{_en_date(week.monday, crosses)} – {_en_date(week.sunday, True)}"


def title(week: Week, lang: str) -> str:
    """The issue's full title, e.g. ``网络安全信息与动态周报2025年第1期（2024年12月30日-2025年1月5日）``."""
    return text(lang, "title", year=week.year, number=week.number, dates=dates(week, lang))


def change(value: int, previous: int | None, change_pct: float | None, lang: str) -> tuple[str, Direction]:
    """A change against last week (``change_pct`` as ``metrics.weekly.change_pct`` gives it) as the
    indicator table shows it — ``↑ 上升 9.4%``, ``↓ 下降 32.3%``, ``持平``, or ``—`` when last week was 0
    or there is no earlier data (``previous`` None) — with its direction.  The report's table and
    ``sitrep metrics`` both print this."""
    if previous is None:
        return "—", "none"
    if change_pct is None:
        return ("—", "new") if value else ("—", "none")
    if change_pct > 0:
        return f"↑ {text(lang, 'up')} {change_pct:.1f}%", "up"
    if change_pct < 0:
        return f"↓ {text(lang, 'down')} {-change_pct:.1f}%", "down"
    return text(lang, "flat"), "flat"


def previous_count(previous: int | None, lang: str) -> str:
    """Last week's value as the indicator table prints it: ``—`` when there is no earlier data."""
    return "—" if previous is None else count(previous, lang)


def change_clause(previous: int | None, change_pct: float | None, lang: str) -> str:
    """The same change for sentences: ``较上周环比上升了9.4%`` and its siblings (``上周无数据`` when there
    is no earlier data)."""
    if previous is None:
        return text(lang, "change_unknown")
    if change_pct is None:
        return text(lang, "change_new")
    if change_pct > 0:
        return text(lang, "change_up", x=pct(change_pct))
    if change_pct < 0:
        return text(lang, "change_down", x=pct(-change_pct))
    return text(lang, "change_flat")
