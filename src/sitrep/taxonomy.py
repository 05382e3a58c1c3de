"""The words of the domain, defined once: RSIT classes, incident categories, partner types, TLP, the
key indicators and the rating.

Every label shown to a reader (Chinese and English) comes from here.  Taxonomy follows ENISA's
Reference Security Incident Taxonomy (RSIT); TLP follows TLP 2.0.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class EventClass:
    """An RSIT taxonomy/type pair, with the default identifier a feed uses for it."""

    taxonomy: str
    type: str
    identifier: str
    zh: str
    en: str


# The event classes the weekly indicators are built on (DESIGN.md §2 and §4).
INFECTED_SYSTEM = EventClass(
    "malicious-code", "infected-system", "infected-system", "感染网络病毒的主机", "malware-infected host"
)
MALWARE_DISTRIBUTION = EventClass(
    "malicious-code", "malware-distribution", "malware-distribution", "放马站点", "malware-hosting site"
)
DEFACEMENT = EventClass(
    "information-content-security",
    "unauthorised-information-modification",
    "defacement",
    "被篡改网站",
    "defaced website",
)
BACKDOOR = EventClass("intrusions", "system-compromise", "backdoor", "被植入后门网站", "backdoored website")
PHISHING = EventClass("fraud", "phishing", "phishing", "仿冒页面", "phishing page")
VULNERABILITY = EventClass("vulnerable", "vulnerable-system", "vulnerability", "信息安全漏洞", "vulnerability")
VULNERABLE_SERVICE = EventClass(
    "vulnerable", "vulnerable-system", "vulnerable-service", "存在漏洞的系统", "vulnerable system"
)

# The RSIT taxonomy of each classification type, as IntelMQ's taxonomy expert derives it for an event that
# names only its type (IntelMQ 3, intelmq/bots/experts/taxonomy/expert.py).  RSIT's types, plus the
# extensions IntelMQ keeps outside RSIT on purpose (blacklist, dga-domain, malware, proxy, tor: 'other').
# RSIT spells 'unauthorised-use-of-resources', IntelMQ 'unauthorized-…': both are listed.
TAXONOMY_OF_TYPE: dict[str, str] = {
    "spam": "abusive-content",
    "harmful-speech": "abusive-content",
    "violence": "abusive-content",
    "ddos": "availability",
    "dos": "availability",
    "outage": "availability",
    "sabotage": "availability",
    "misconfiguration": "availability",
    "copyright": "fraud",
    "masquerade": "fraud",
    "phishing": "fraud",
    "unauthorized-use-of-resources": "fraud",
    "unauthorised-use-of-resources": "fraud",
    "unauthorised-information-access": "information-content-security",
    "unauthorised-information-modification": "information-content-security",
    "data-loss": "information-content-security",
    "data-leak": "information-content-security",
    "scanner": "information-gathering",
    "sniffing": "information-gathering",
    "social-engineering": "information-gathering",
    "brute-force": "intrusion-attempts",
    "exploit": "intrusion-attempts",
    "ids-alert": "intrusion-attempts",
    "application-compromise": "intrusions",
    "burglary": "intrusions",
    "privileged-account-compromise": "intrusions",
    "system-compromise": "intrusions",
    "unprivileged-account-compromise": "intrusions",
    "c2-server": "malicious-code",
    "infected-system": "malicious-code",
    "malware-configuration": "malicious-code",
    "malware-distribution": "malicious-code",
    "dga-domain": "other",
    "blacklist": "other",
    "other": "other",
    "undetermined": "other",
    "malware": "other",
    "proxy": "other",
    "tor": "other",
    "test": "test",
    "ddos-amplifier": "vulnerable",
    "information-disclosure": "vulnerable",
    "potentially-unwanted-accessible": "vulnerable",
    "vulnerable-system": "vulnerable",
    "weak-crypto": "vulnerable",
}
# What IntelMQ's expert gives a type it does not list, and the type of an event that names none.
UNLISTED_TYPE_TAXONOMY = "other"
NO_TYPE = "undetermined"


def taxonomy_of(type_: str) -> str:
    """The RSIT taxonomy of a classification type (IntelMQ's derivation; ``other`` when unlisted)."""
    return TAXONOMY_OF_TYPE.get(type_.strip().lower(), UNLISTED_TYPE_TAXONOMY)


# Identifiers that mark a compromised site as backdoored (webshell) rather than otherwise compromised.
BACKDOOR_IDENTIFIERS = ("backdoor", "webshell")

# Vulnerability severity as the report prints it, highest first, and the lowest CVSS base score of each
# (the CVSS v3 qualitative bands): the one mapping of scores to severities.
SEVERITIES = ("高", "中", "低")
CVSS_FLOOR = {"高": 7.0, "中": 4.0, "低": 0.0}

# Affected-object types of the vulnerability section, in report order.
OBJECT_TYPES = ("应用程序", "WEB应用", "操作系统", "网络设备", "安全产品", "数据库", "智能设备")
OBJECT_TYPE_EN = {
    "应用程序": "application",
    "WEB应用": "web application",
    "操作系统": "operating system",
    "网络设备": "network device",
    "安全产品": "security product",
    "数据库": "database",
    "智能设备": "smart device",
}


class TLP(StrEnum):
    """Traffic Light Protocol 2.0 labels."""

    CLEAR = "CLEAR"
    GREEN = "GREEN"
    AMBER = "AMBER"
    AMBER_STRICT = "AMBER+STRICT"
    RED = "RED"

    @classmethod
    def parse(cls, value: str) -> TLP:
        """Accept TLP 1.0 spellings too (``WHITE`` is CLEAR) and a ``TLP:`` prefix."""
        text = value.strip().upper().removeprefix("TLP:").strip()
        if text == "WHITE":
            return cls.CLEAR
        return cls(text)


class IncidentCategory(StrEnum):
    """What an incident is about; each maps onto RSIT (``rsit``) and carries zh/en labels."""

    PHISHING = "phishing"
    MALWARE = "malware"
    MOBILE_MALWARE = "mobile-malware"
    DEFACEMENT = "defacement"
    BACKDOOR = "backdoor"
    VULNERABILITY = "vulnerability"
    DDOS = "ddos"
    DATA_LEAK = "data-leak"
    INFRASTRUCTURE = "infrastructure"
    OTHER = "other"

    @property
    def rsit(self) -> tuple[str, str]:
        return _CATEGORY_RSIT[self]

    @property
    def zh(self) -> str:
        return _CATEGORY_LABELS[self][0]

    @property
    def en(self) -> str:
        return _CATEGORY_LABELS[self][1]


_CATEGORY_RSIT = {
    IncidentCategory.PHISHING: ("fraud", "phishing"),
    IncidentCategory.MALWARE: ("malicious-code", "malware-distribution"),
    IncidentCategory.MOBILE_MALWARE: ("malicious-code", "malware-distribution"),
    IncidentCategory.DEFACEMENT: ("information-content-security", "unauthorised-information-modification"),
    IncidentCategory.BACKDOOR: ("intrusions", "system-compromise"),
    IncidentCategory.VULNERABILITY: ("vulnerable", "vulnerable-system"),
    IncidentCategory.DDOS: ("availability", "ddos"),
    IncidentCategory.DATA_LEAK: ("information-content-security", "unauthorised-information-access"),
    IncidentCategory.INFRASTRUCTURE: ("availability", "outage"),
    IncidentCategory.OTHER: ("other", "other"),
}

_CATEGORY_LABELS = {
    IncidentCategory.PHISHING: ("网页仿冒", "phishing"),
    IncidentCategory.MALWARE: ("恶意代码", "malware"),
    IncidentCategory.MOBILE_MALWARE: ("移动互联网恶意代码", "mobile malware"),
    IncidentCategory.DEFACEMENT: ("网页篡改", "defacement"),
    IncidentCategory.BACKDOOR: ("网站后门", "website backdoor"),
    IncidentCategory.VULNERABILITY: ("安全漏洞", "vulnerability"),
    IncidentCategory.DDOS: ("拒绝服务攻击", "DDoS"),
    IncidentCategory.DATA_LEAK: ("数据泄露", "data leak"),
    IncidentCategory.INFRASTRUCTURE: ("基础设施运行安全", "infrastructure"),
    IncidentCategory.OTHER: ("其他", "other"),
}


class PartnerType(StrEnum):
    """Who a CERT coordinates with; the order is the report's canonical order (DESIGN.md §3.5)."""

    CLOUD = "cloud"
    REGISTRAR = "registrar"
    APP_STORE = "app-store"
    BRANCH = "branch"
    INTL_ORG = "intl-org"
    FOREIGN_CERT = "foreign-cert"
    TELECOM = "telecom"
    HOSTING = "hosting"
    OTHER = "other"

    @property
    def zh(self) -> str:
        return _PARTNER_LABELS[self][0]

    @property
    def en(self) -> str:
        return _PARTNER_LABELS[self][1]


_PARTNER_LABELS = {
    PartnerType.CLOUD: ("云服务商", "cloud providers"),
    PartnerType.REGISTRAR: ("域名注册服务机构", "domain registrars"),
    PartnerType.APP_STORE: ("应用商店", "app stores"),
    PartnerType.BRANCH: ("各省分中心", "provincial branches"),
    PartnerType.INTL_ORG: ("国际合作组织", "international partner organisations"),
    PartnerType.FOREIGN_CERT: ("境外CERT", "foreign CERTs"),
    PartnerType.TELECOM: ("基础电信企业", "telecom operators"),
    PartnerType.HOSTING: ("网站托管服务商", "hosting providers"),
    PartnerType.OTHER: ("其他机构", "other organisations"),
}

PARTNER_ORDER = tuple(PartnerType)


# The eight key indicators of the weekly report, in the order of its key-indicator table:
# (key, Chinese label, English label).  Their definitions are in ``sitrep.metrics``.
INDICATORS: tuple[tuple[str, str, str], ...] = (
    ("infected_hosts", "境内感染网络病毒的主机数量", "Malware-infected hosts"),
    ("defaced_sites", "境内被篡改网站总数", "Defaced websites"),
    ("defaced_gov_sites", "其中政府网站数量", "of which government websites"),
    ("backdoored_sites", "境内被植入后门网站总数", "Backdoored websites"),
    ("backdoored_gov_sites", "其中政府网站数量", "of which government websites"),
    ("phishing_pages", "针对境内网站的仿冒页面数量", "Phishing pages targeting domestic websites"),
    # The two vulnerability indicators count first publications: see ``vulnerabilities.py``.
    ("new_vulnerabilities", "新增信息安全漏洞数量", "New vulnerabilities"),
    ("new_high_vulnerabilities", "其中高危漏洞数量", "of which high severity"),
)

INDICATOR_KEYS: tuple[str, ...] = tuple(key for key, _, _ in INDICATORS)

# The overall rating of a week (DESIGN.md §6), best first, and its English words.
RATINGS = ("优", "良", "中", "差", "危")
RATING_EN = {"优": "excellent", "良": "good", "中": "fair", "差": "poor", "危": "critical"}
