"""Demo incident handling: a partner directory and a realistic flow of incidents over some weeks.

Shapes follow CNCERT's weekly reports: 40–90 incidents handled a week, about 55% phishing and 40%
cross-border, mobile-malware URLs taken down through about ten app stores, defacements and backdoors
handed to provincial branches.  Everything goes through the importer and the partner API, so the demo
exercises the same validation and audit trail as real data.  Deterministic for a given seed.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sitrep.config import Workspace
from sitrep.incidents.db import session_scope
from sitrep.incidents.importer import import_rows
from sitrep.incidents.partners import PartnerSpec, upsert_partner
from sitrep.incidents.workflow import Home
from sitrep.weeks import Week

# name, type, country, e-mail, suffixes, ASNs, regions
PARTNERS: list[tuple[str, str, str, str, list[str], list[int], list[str]]] = [
    ("阿里云", "cloud", "CN", "abuse@aliyun.example.cn", ["aliyuncs.com"], [37963, 45102], []),
    ("腾讯云", "cloud", "CN", "abuse@tencentcloud.example.cn", ["myqcloud.com"], [45090, 132203], []),
    ("华为云", "cloud", "CN", "abuse@huaweicloud.example.cn", ["myhuaweicloud.com"], [136907], []),
    ("阿里云万网", "registrar", "CN", "abuse@hichina.example.cn", ["cn", "中国"], [], []),
    ("腾讯云DNSPod", "registrar", "CN", "abuse@dnspod.example.cn", ["top", "xyz"], [], []),
    ("西部数码", "registrar", "CN", "abuse@west.example.cn", ["com.cn", "net.cn"], [], []),
    ("新网", "registrar", "CN", "abuse@xinnet.example.cn", ["vip", "shop"], [], []),
    ("华为应用市场", "app-store", "CN", "appsec@huawei.example.cn", ["appgallery.huawei.com"], [], []),
    ("小米应用商店", "app-store", "CN", "security@xiaomi.example.cn", ["app.mi.com"], [], []),
    ("OPPO软件商店", "app-store", "CN", "security@oppo.example.cn", ["store.oppomobile.com"], [], []),
    ("vivo应用商店", "app-store", "CN", "security@vivo.example.cn", ["appstore.vivo.com.cn"], [], []),
    ("腾讯应用宝", "app-store", "CN", "security@yyb.example.cn", ["sj.qq.com"], [], []),
    ("360手机助手", "app-store", "CN", "security@360.example.cn", ["zhushou.360.cn"], [], []),
    ("百度手机助手", "app-store", "CN", "security@baidu.example.cn", ["shouji.baidu.com"], [], []),
    ("豌豆荚", "app-store", "CN", "security@wandoujia.example.cn", ["wandoujia.com"], [], []),
    ("魅族应用中心", "app-store", "CN", "security@meizu.example.cn", ["app.meizu.com"], [], []),
    ("联想乐商店", "app-store", "CN", "security@lenovo.example.cn", ["lenovomm.com"], [], []),
    ("广东分中心", "branch", "CN", "gd@cert.example.cn", [], [], ["GD"]),
    ("浙江分中心", "branch", "CN", "zj@cert.example.cn", [], [], ["ZJ"]),
    ("北京分中心", "branch", "CN", "bj@cert.example.cn", [], [], ["BJ"]),
    ("上海分中心", "branch", "CN", "sh@cert.example.cn", [], [], ["SH"]),
    ("江苏分中心", "branch", "CN", "js@cert.example.cn", [], [], ["JS"]),
    ("四川分中心", "branch", "CN", "sc@cert.example.cn", [], [], ["SC"]),
    ("APWG", "intl-org", "US", "reports@apwg.example.org", [], [], []),
    ("FIRST", "intl-org", "US", "first-sec@first.example.org", [], [], []),
    ("JPCERT/CC", "foreign-cert", "JP", "info@jpcert.example.jp", [], [], []),
    ("US-CERT", "foreign-cert", "US", "soc@cisa.example.gov", [], [], []),
    ("KrCERT/CC", "foreign-cert", "KR", "cert@krcert.example.kr", [], [], []),
    ("HKCERT", "foreign-cert", "HK", "hkcert@hkpc.example.hk", [], [], []),
    ("MyCERT", "foreign-cert", "MY", "mycert@cybersecurity.example.my", [], [], []),
    ("CERT-Bund", "foreign-cert", "DE", "certbund@bsi.example.de", [], [], []),
    ("中国电信", "telecom", "CN", "abuse@chinatelecom.example.cn", [], [4134, 4812], []),
    ("中国联通", "telecom", "CN", "abuse@chinaunicom.example.cn", [], [4837], []),
    ("中国移动", "telecom", "CN", "abuse@chinamobile.example.cn", [], [9808, 56040], []),
]

BRANDS = ["icbc", "ccb", "boc", "abchina", "cmbchina", "alipay", "taobao", "jd", "12306", "chinatax", "10086"]
FOREIGN_TLDS = ["com", "top", "xyz", "vip", "shop", "net", "cc"]


def _names(kind: str) -> list[str]:
    return [p[0] for p in PARTNERS if p[1] == kind]


def _local(week: Week, rnd: random.Random, tz: Any) -> datetime:
    """A random local time in the week (working hours are likelier)."""
    day = week.monday + timedelta(days=rnd.randrange(7))
    return datetime(day.year, day.month, day.day, rnd.choice(range(8, 22)), rnd.randrange(60), tzinfo=tz)


def _row(
    ref: str,
    title: str,
    category: str,
    reported: datetime,
    resolved: datetime | None,
    partners: list[str],
    assets: list[str],
    rnd: random.Random,
    **extra: str,
) -> dict[str, Any]:
    sent = reported + timedelta(minutes=rnd.randrange(20, 180))
    answered = rnd.random() < 0.85
    row = {
        "ref": ref,
        "title": title,
        "category": category,
        "reported_at": reported.isoformat(),
        "resolved_at": resolved.isoformat() if resolved else "",
        "status": "resolved" if resolved else extra.pop("status", "coordinating"),
        "partner": ";".join(partners),
        "asset": ";".join(assets),
        "grade": "一般",
        "tlp": "AMBER",
        "sent_at": sent.isoformat(),
        "acknowledged_at": (sent + timedelta(hours=rnd.uniform(0.5, 12))).isoformat() if answered else "",
        "actioned_at": (resolved - timedelta(minutes=30)).isoformat() if resolved and answered else "",
        "outcome": ("taken-down" if answered else "no-response") if resolved else "",
    }
    row.update(extra)
    return row


def _week_rows(week: Week, rnd: random.Random, tz: Any, last: bool) -> list[dict[str, Any]]:
    handled = rnd.randint(40, 90)
    stores = rnd.sample(_names("app-store"), k=rnd.randint(8, 10))
    n_mobile = len(stores) + rnd.randint(0, 3)
    n_phishing = round(handled * rnd.uniform(0.5, 0.6))
    rows: list[dict[str, Any]] = []
    foreign = _names("foreign-cert") + _names("intl-org")

    def ref() -> str:
        return f"DEMO-{week}-{len(rows) + 1:03d}"

    for _ in range(n_phishing):
        reported = _local(week, rnd, tz)
        resolved = reported + timedelta(hours=rnd.uniform(2, 40))
        brand = rnd.choice(BRANDS)
        if rnd.random() < 0.6:  # hosted abroad: a foreign CERT or an international organisation acts
            asset = f"http://{brand}-{rnd.randrange(10**5)}.example.{rnd.choice(FOREIGN_TLDS)}/login"
            partners = [rnd.choice(foreign)]
        else:
            asset = f"http://{brand}-{rnd.randrange(10**5)}.example.cn/"
            partners = [rnd.choice(_names("registrar") + _names("cloud"))]
        rows.append(
            _row(
                ref(),
                f"仿冒{brand}页面",
                "phishing",
                reported,
                resolved,
                partners,
                [asset],
                rnd,
                reporter=rnd.choice(["用户投诉", "自主监测", "APWG"]),
            )
        )
    for i in range(n_mobile):
        reported = _local(week, rnd, tz)
        store = stores[i % len(stores)]
        urls = [
            f"https://dl{rnd.randrange(10**4)}.example-apk.cn/{rnd.randrange(10**6)}.apk"
            for _ in range(1 if rnd.random() < 0.8 else 2)
        ]
        rows.append(
            _row(
                ref(),
                f"{store}恶意应用下载链接",
                "mobile-malware",
                reported,
                reported + timedelta(hours=rnd.uniform(2, 24)),
                [store],
                urls,
                rnd,
            )
        )
    others = max(handled - n_phishing - n_mobile, 0)
    for _ in range(others):
        reported = _local(week, rnd, tz)
        resolved = reported + timedelta(hours=rnd.uniform(3, 96))
        category = rnd.choices(
            ["defacement", "backdoor", "malware", "ddos", "vulnerability", "data-leak"], weights=[30, 25, 20, 8, 12, 5]
        )[0]
        if category in ("defacement", "backdoor"):
            partners = [rnd.choice(_names("branch"))]
            asset = f"www.site{rnd.randrange(10**4)}.{rnd.choice(['gov.cn', 'edu.cn', 'com.cn'])}"
            extra = {}
        elif category == "malware":
            partners = [rnd.choice(_names("cloud") + _names("telecom"))]
            asset = f"203.0.113.{rnd.randrange(1, 255)}"
            extra = {"reporter": rnd.choice(_names("foreign-cert"))} if rnd.random() < 0.6 else {}
        else:
            partners = [rnd.choice(_names("telecom") + _names("branch"))]
            asset = f"198.51.100.{rnd.randrange(1, 255)}"
            extra = {}
        rows.append(_row(ref(), f"{category} 事件", category, reported, resolved, partners, [asset], rnd, **extra))
    if last:  # the newest week still has cases in progress
        for status in ("new", "triaged", "coordinating", "coordinating"):
            reported = _local(week, rnd, tz)
            rows.append(
                _row(
                    ref(),
                    "处置中的仿冒页面",
                    "phishing",
                    reported,
                    None,
                    [rnd.choice(_names("registrar"))],
                    [f"http://pending-{rnd.randrange(10**5)}.example.cn/"],
                    rnd,
                    status=status,
                    sent_at="",
                    acknowledged_at="",
                )
            )
    return rows


def generate_incidents(workspace: Workspace, weeks: list[Week], seed: int) -> dict[str, Any]:
    """Create the demo partners and incidents for ``weeks``; return counts per week and any rejects."""
    rnd = random.Random(seed)
    tz = workspace.timezone
    ordered = sorted(weeks)
    rows: list[dict[str, Any]] = []
    for week in ordered:
        rows += _week_rows(week, rnd, tz, last=week == ordered[-1])
    with session_scope(workspace) as session:
        for name, kind, country, email, suffixes, asns, regions in PARTNERS:
            spec = PartnerSpec.build(
                name=name, type=kind, country=country, email=email, suffixes=suffixes, asns=asns, regions=regions
            )
            upsert_partner(session, spec, actor="demo", replace=False)
        report = import_rows(
            session, enumerate(rows, start=1), home=Home.of(workspace), tz=tz, actor="demo", file="demo"
        )
    return {
        "partners": len(PARTNERS),
        "incidents": report.created + report.updated + report.unchanged,
        "created": report.created,
        "rejected": [(r.line, r.reason) for r in report.rejects],
        "weeks": [str(w) for w in ordered],
    }
