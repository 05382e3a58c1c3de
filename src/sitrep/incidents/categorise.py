"""The category of a complaint guessed from its words: one table of keywords, in English and Chinese.

Each category's keywords are counted in the subject (twice: a reporter names the problem there) and
the body, case-insensitively; the category with the most hits wins, a tie goes to the category
listed first, and a mail with no hit gets the configured default (``[incidents.complaints]
default_category``, ``other``).  The guess is a proposal: the analyst corrects it at triage.
"""

from __future__ import annotations

from dataclasses import dataclass

from sitrep.taxonomy import IncidentCategory

SUBJECT_WEIGHT = 2

# Most specific first: a mail about a malicious APK also says 病毒, a defacement report may say 后门.
CATEGORY_KEYWORDS: tuple[tuple[IncidentCategory, tuple[str, ...]], ...] = (
    (
        IncidentCategory.MOBILE_MALWARE,
        (
            "移动恶意",
            "恶意app",
            "恶意应用",
            "手机病毒",
            "恶意安卓",
            ".apk",
            "mobile malware",
            "android malware",
            "malicious app",
            "malicious apk",
        ),
    ),
    (
        IncidentCategory.PHISHING,
        (
            "仿冒",
            "钓鱼",
            "假冒",
            "冒充",
            "诈骗网站",
            "虚假网站",
            "phishing",
            "fake login",
            "fake website",
            "impersonat",
            "credential harvest",
            "spoofed site",
        ),
    ),
    (
        IncidentCategory.DEFACEMENT,
        ("篡改", "黑页", "挂黑", "被黑", "defaced", "defacement"),
    ),
    (
        IncidentCategory.BACKDOOR,
        ("后门", "webshell", "web shell", "一句话木马", "backdoor", "back door"),
    ),
    (
        IncidentCategory.MALWARE,
        (
            "木马",
            "病毒",
            "恶意代码",
            "恶意软件",
            "勒索",
            "挖矿",
            "僵尸网络",
            "放马",
            "肉鸡",
            "malware",
            "trojan",
            "ransomware",
            "botnet",
            "virus",
            "command and control",
            "c2 server",
            "cryptominer",
            "infected host",
        ),
    ),
    (
        IncidentCategory.DDOS,
        ("拒绝服务", "ddos", "流量攻击", "dos attack", "denial of service", "syn flood", "udp flood"),
    ),
    (
        IncidentCategory.DATA_LEAK,
        ("泄露", "拖库", "脱库", "data leak", "data breach", "leaked", "exposed database"),
    ),
    (
        IncidentCategory.VULNERABILITY,
        (
            "漏洞",
            "弱口令",
            "未授权访问",
            "sql注入",
            "vulnerability",
            "vulnerable",
            "cve-",
            "exploit",
            "sql injection",
            "remote code execution",
            "unauthorized access",
        ),
    ),
    (
        IncidentCategory.INFRASTRUCTURE,
        ("断网", "网络中断", "域名解析异常", "dns hijack", "bgp hijack", "outage"),
    ),
)


@dataclass(frozen=True)
class Guess:
    """A guessed category and the keywords that decided it (none: the default was taken)."""

    category: IncidentCategory
    keywords: tuple[str, ...]


def guess_category(subject: str, texts: list[str], default: IncidentCategory) -> Guess:
    """The category of a mail with ``subject`` and body ``texts`` (see the module docstring)."""
    title = subject.lower()
    body = "\n".join(texts).lower()
    best: Guess | None = None
    best_score = 0
    for category, keywords in CATEGORY_KEYWORDS:
        hits = {k: SUBJECT_WEIGHT * title.count(k) + body.count(k) for k in keywords}
        score = sum(hits.values())
        if score > best_score:
            best_score = score
            best = Guess(category, tuple(k for k, n in hits.items() if n))
    return best or Guess(default, ())
