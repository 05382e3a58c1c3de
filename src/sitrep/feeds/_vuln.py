"""What the vulnerability feeds (CNVD, NVD) share: the affected-object type rules, defined once.

The weekly report breaks new vulnerabilities down by the object they affect (taxonomy.OBJECT_TYPES).
Neither CNVD's shared XML nor NVD carries that type, so it is derived from keywords: the rules below
are tried in order and the first match wins; text that matches none is left to the caller's fallback
(``应用程序``).  Order matters: a firewall's web console is a security product, a router's web UI is a
network device, so device and product classes come before ``WEB应用``.
"""

from __future__ import annotations

from sitrep.feeds.sql import lit

DEFAULT_OBJECT_TYPE = "应用程序"

# (object type, case-insensitive RE2 pattern).  \b is an ASCII word boundary, so it also separates
# a Latin keyword from adjacent Chinese text ("PHP开发的").
OBJECT_TYPE_RULES: tuple[tuple[str, str], ...] = (
    (
        "安全产品",
        r"防火墙|firewall|杀毒|anti-?virus|\bWAF\b|入侵检测|入侵防御|\bIDS\b|\bIPS\b|堡垒机|安全网关"
        r"|security gateway|网闸|终端安全|endpoint (protection|security)|FortiGate|FortiOS|PAN-OS",
    ),
    (
        "智能设备",
        r"摄像头|摄像机|camera|\bIP ?cam|\bNVR\b|\bDVR\b|\bIoT\b|物联网"
        r"|智能(家居|门锁|电视|音箱|手表|插座|设备)|smart ?(home|tv|lock|plug|watch|speaker)"
        r"|门禁|可视对讲|打印机|printer",
    ),
    (
        "网络设备",
        r"路由器|router|交换机|\bswitch(es)?\b|无线接入点|access point|\bmodem\b|光猫|网关设备",
    ),
    (
        "数据库",
        r"数据库|database|MySQL|MariaDB|PostgreSQL|SQL Server|MongoDB|\bRedis\b|SQLite|\bDB2\b|达梦|人大金仓",
    ),
    (
        "操作系统",
        r"操作系统|operating system|Microsoft Windows|Windows (Server|内核|kernel)|Linux ?kernel|Linux内核"
        r"|Google Android|Android (kernel|系统|Framework)|macOS|Apple iOS|iPadOS|FreeBSD|OpenBSD"
        r"|HarmonyOS|鸿蒙",
    ),
    (
        "WEB应用",
        r"\bCMS\b|内容管理系统|WordPress|Drupal|Joomla|插件|plug-?in|\bPHP\b|Web ?应用|web application|网站"
        r"|管理系统|跨站|cross-site|\bXSS\b|ThinkPHP|Discuz|DedeCMS|织梦",
    ),
)


def classify(text: str) -> str:
    """SQL: the object type the first matching rule gives ``text`` (an SQL expression), else NULL."""
    whens = " ".join(
        f"WHEN regexp_matches({text}, {lit('(?i)' + pattern)}) THEN {lit(kind)}" for kind, pattern in OBJECT_TYPE_RULES
    )
    return f"CASE {whens} END"
