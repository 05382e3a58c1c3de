"""Assets named in free text (defanged forms understood) and the category guessed from its words."""

from __future__ import annotations

import time

import pytest

from sitrep.incidents.categorise import CATEGORY_KEYWORDS, guess_category
from sitrep.incidents.extract import find_assets, refang
from sitrep.taxonomy import IncidentCategory


def values(text: str, limit: int = 50) -> list[str]:
    return [a.value for a in find_assets([text], limit=limit).assets]


@pytest.mark.parametrize(
    ("written", "found"),
    [
        ("hxxp://evil.example.com/a", "http://evil.example.com/a"),
        ("HXXPS://evil.example.com/a", "https://evil.example.com/a"),
        ("http[:]//evil.example.com/", "http://evil.example.com/"),
        ("hxxps[://]evil.example.com/x", "https://evil.example.com/x"),
        ("http://evil[.]example[.]com/login[.]php", "http://evil.example.com/login.php"),
        ("evil(.)example(.)com", "evil.example.com"),
        ("evil[dot]example[DOT]com", "evil.example.com"),
        ("evil {.} example {.} com", "evil.example.com"),
        ("evil.example.com/path/page.html", "http://evil.example.com/path/page.html"),
        ("47.96.12[.]34", "47.96.12.34"),
        ("http://user:pw@evil.example.com:8080/x?y=1#z", "http://user:pw@evil.example.com:8080/x?y=1#z"),
        ("http://[2001:4860:4860::8888]/x", "http://[2001:4860:4860::8888]/x"),
        ("hxxp://例子.中国/路径", "http://例子.中国/"),
    ],
)
def test_defanged_forms_are_read_plainly(written, found):
    assert values(f"请处理 {written} 谢谢") == [found]


def test_refang_writes_separators_plainly():
    assert refang("hxxps[:]//a[.]b(.)c[dot]d/x") == "https://a.b.c.d/x"
    assert refang("user[@]example[.]com") == "user@example.com"


def test_sentence_punctuation_and_chinese_text_end_a_url():
    text = "访问http://evil.example.com/login进行登录。见 (http://paren.example.com/a_(b)) 和 http://end.example.com/x."
    assert values(text) == [
        "http://evil.example.com/login",
        "http://paren.example.com/a_(b)",
        "http://end.example.com/x",
    ]


def test_what_is_no_asset_is_left_out():
    text = (
        "Mail me at someone@example.com or bob[@]example[.]net. Open report.pdf, invoice.zip, readme.md, "
        "version 1.2.3.4.5, e.g. this. Private 10.0.0.1, 192.168.1.1, loopback 127.0.0.1, doc 192.0.2.1, "
        "time 10:30:00, MAC 00:1a:2b:3c:4d:5e, unknown top level host.invalid."
    )
    assert values(text) == []


def test_a_defanged_file_like_name_is_a_domain():
    assert values("invoice[.]zip and plain invoice.zip") == ["invoice.zip"]


def test_the_signature_block_is_skipped_but_the_forward_below_it_is_read():
    text = "See below.\n-- \nAlice\nwww.alice-company.example.com\n\n---------- Forwarded ----------\nhttp://fwd.example.com/x\n"
    assert values(text) == ["http://fwd.example.com/x"]


def test_duplicates_are_kept_once_in_order_and_the_rest_is_counted():
    text = " ".join(f"http://h{i % 30}.example.com/" for i in range(100))
    found = find_assets([text, "HTTP://H0.EXAMPLE.COM/ b.example.net"], limit=10)
    assert [a.value for a in found.assets] == [f"http://h{i}.example.com/" for i in range(10)]
    assert found.dropped == 21  # 20 more hosts and b.example.net; the upper-case URL is h0's again


def test_skip_decides_before_the_cap():
    found = find_assets(["a.example.com b.example.com c.example.com"], limit=2, skip=lambda a: a.value.startswith("a."))
    assert [a.value for a in found.assets] == ["b.example.com", "c.example.com"]


@pytest.mark.parametrize(
    "text",
    ["中文字符" * 250_000, "a." * 500_000, "a" * 1_000_000, "[.]" * 300_000, ":a" * 500_000, "1.2." * 250_000],
)
def test_hostile_text_costs_time_in_proportion_to_its_length(text):
    started = time.perf_counter()
    find_assets([text], limit=50)
    assert time.perf_counter() - started < 3


@pytest.mark.parametrize(
    ("subject", "body", "category"),
    [
        ("举报仿冒网站", "有人冒充银行", IncidentCategory.PHISHING),
        ("Phishing page", "a fake login for a bank", IncidentCategory.PHISHING),
        ("网站被篡改", "首页出现黑页", IncidentCategory.DEFACEMENT),
        ("Our site was defaced", "", IncidentCategory.DEFACEMENT),
        ("发现webshell", "网站被植入后门", IncidentCategory.BACKDOOR),
        ("服务器中了木马", "疑似勒索病毒", IncidentCategory.MALWARE),
        ("Botnet C2", "the ransomware talks to a c2 server", IncidentCategory.MALWARE),
        ("恶意APP", "下载地址 http://x.example.com/a.apk", IncidentCategory.MOBILE_MALWARE),
        ("DDoS attack", "a syn flood since 3am", IncidentCategory.DDOS),
        ("数据泄露", "用户信息被拖库", IncidentCategory.DATA_LEAK),
        ("漏洞报告", "存在SQL注入", IncidentCategory.VULNERABILITY),
        ("Hello", "nothing specific here", IncidentCategory.OTHER),
    ],
)
def test_the_category_is_guessed_from_english_and_chinese_words(subject, body, category):
    assert guess_category(subject, [body], IncidentCategory.OTHER).category is category


def test_the_subject_weighs_more_and_ties_go_to_the_table_order():
    guess = guess_category("Defacement", ["phishing"], IncidentCategory.OTHER)
    assert guess.category is IncidentCategory.DEFACEMENT and guess.keywords == ("defacement",)
    assert guess_category("", ["phishing defaced"], IncidentCategory.OTHER).category is IncidentCategory.PHISHING
    assert guess_category("", [""], IncidentCategory.MALWARE).keywords == ()


def test_every_keyword_is_lower_case_and_named_once():
    words = [k for _, keywords in CATEGORY_KEYWORDS for k in keywords]
    assert words == [w.lower() for w in words] and len(words) == len(set(words))
