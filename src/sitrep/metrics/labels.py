"""The key indicators' names and report labels, in the order of the report's key-indicator table.

Kept apart from the indicators' Ibis definitions (``indicators.py``, ``vulnerabilities.py``) so that
reading ``sitrep.toml``, which names indicators, does not load Ibis.
"""

from __future__ import annotations

# (key, Chinese label, English label)
ORDER: tuple[tuple[str, str, str], ...] = (
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

KEYS: tuple[str, ...] = tuple(key for key, _, _ in ORDER)
