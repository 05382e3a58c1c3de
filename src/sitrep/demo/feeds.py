"""Synthetic but realistic feed files, written in the real formats, for ``sitrep demo``.

Every file goes through the same ingest path as real data.  Volumes follow a slow trend with weekly noise
so the indicators, their week-over-week changes and the rating move like a real constituency's.  The
same seed and weeks always give the same files.
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

import pyarrow.compute as pc
import pyarrow.parquet as pq

from sitrep.enrich import geo
from sitrep.enrich.regions import BY_CODE
from sitrep.feeds.shadowserver import load_reports
from sitrep.weeks import Week

FAMILIES = (
    ("mirai", 30),
    ("gamarue", 14),
    ("ramnit", 12),
    ("conficker", 10),
    ("sality", 9),
    ("xmrig", 8),
    ("necurs", 6),
    ("emotet", 5),
    ("qakbot", 4),
    ("zeus", 2),
)
REGION_WEIGHTS = (
    ("GD", 16),
    ("JS", 9),
    ("ZJ", 8),
    ("SD", 8),
    ("HA", 7),
    ("HB", 5),
    ("SC", 5),
    ("BJ", 5),
    ("HE", 4),
    ("FJ", 4),
    ("HN", 4),
    ("LN", 3),
    ("SH", 3),
    ("AH", 3),
    ("SN", 2),
    ("JX", 2),
    ("GX", 2),
    ("CQ", 2),
    ("YN", 1),
    ("SX", 1),
    ("JL", 1),
    ("HL", 1),
    ("NM", 1),
    ("TJ", 1),
)
CN_WORDS = (
    "jyj",
    "rsj",
    "wjw",
    "zwfw",
    "czj",
    "sthjj",
    "nync",
    "swj",
    "gaj",
    "mzj",
    "jtj",
    "kjj",
    "whly",
    "sjj",
)
CITIES = (
    "bj",
    "sh",
    "gz",
    "sz",
    "hz",
    "nj",
    "wh",
    "cd",
    "xa",
    "cs",
    "zz",
    "jn",
    "fz",
    "hf",
    "nc",
    "km",
    "sy",
)
BRANDS = (
    ("www.icbc.com.cn", "中国工商银行"),
    ("www.ccb.com", "中国建设银行"),
    ("www.boc.cn", "中国银行"),
    ("www.alipay.com", "支付宝"),
    ("www.taobao.com", "淘宝"),
    ("www.12306.cn", "12306"),
    ("www.chinatax.gov.cn", "国家税务总局"),
    ("www.10086.cn", "中国移动"),
    ("www.jd.com", "京东"),
)
FOREIGN_BRANDS = ("PayPal", "Microsoft", "Apple", "Netflix", "DHL")
TLDS = (("com", 55), ("top", 10), ("net", 8), ("xyz", 6), ("cn", 8), ("com.cn", 5), ("cc", 4), ("org", 4))
VULN_PRODUCTS = (
    ("WordPress plugin {x}", "WEB应用", "跨站脚本漏洞"),
    ("ThinkPHP {x}", "WEB应用", "远程代码执行漏洞"),
    ("Microsoft Windows {x}", "操作系统", "权限提升漏洞"),
    ("Linux kernel {x}", "操作系统", "拒绝服务漏洞"),
    ("TP-LINK {x} 路由器", "网络设备", "命令注入漏洞"),
    ("Cisco IOS XE {x}", "网络设备", "身份验证绕过漏洞"),
    ("Fortinet FortiOS {x}", "安全产品", "缓冲区溢出漏洞"),
    ("Sangfor 防火墙 {x}", "安全产品", "越权访问漏洞"),
    ("MySQL Server {x}", "数据库", "拒绝服务漏洞"),
    ("Oracle Database {x}", "数据库", "信息泄露漏洞"),
    ("Hikvision 摄像头 {x}", "智能设备", "命令执行漏洞"),
    ("Adobe Acrobat Reader {x}", "应用程序", "内存破坏漏洞"),
    ("Google Chrome {x}", "应用程序", "释放后重用漏洞"),
    ("Apache Tomcat {x}", "应用程序", "信息泄露漏洞"),
)
# How NVD's English descriptions name the kinds of VULN_PRODUCTS.
VULN_KINDS_EN = {
    "跨站脚本漏洞": "A cross-site scripting vulnerability",
    "远程代码执行漏洞": "A remote code execution vulnerability",
    "权限提升漏洞": "A privilege escalation vulnerability",
    "拒绝服务漏洞": "A denial of service vulnerability",
    "命令注入漏洞": "A command injection vulnerability",
    "身份验证绕过漏洞": "An authentication bypass vulnerability",
    "缓冲区溢出漏洞": "A buffer overflow vulnerability",
    "越权访问漏洞": "An improper access control vulnerability",
    "信息泄露漏洞": "An information disclosure vulnerability",
    "命令执行漏洞": "A command execution vulnerability",
    "内存破坏漏洞": "A memory corruption vulnerability",
    "释放后重用漏洞": "A use-after-free vulnerability",
}


# Shadowserver's NAICS code and sector of a host (filled for most rows, not all), with weights.
SECTORS = (
    (517311, "Communications, Service Provider, and Hosting Service", 40),
    (611310, "Education", 15),
    (336111, "Manufacturing", 10),
    (921190, "Government", 8),
    (622110, "Healthcare", 6),
    (452210, "Retail", 6),
    (522110, "Banking, Finance, and Insurance", 5),
)


@dataclass(frozen=True)
class Volume:
    """How much of each kind of event one week has."""

    infected: int
    defaced: int
    backdoored: int
    phishing: int
    malware_urls: int
    vulnerabilities: int


def volumes(weeks: Sequence[Week], seed: int, scale: float = 1.0) -> dict[Week, Volume]:
    """A gently trending, noisy volume per week (deterministic in ``seed``)."""
    rng = random.Random(seed)
    found = {}
    for i, week in enumerate(weeks):
        trend = 1.0 + 0.03 * i

        def noisy(base: float, spread: float = 0.25, trend: float = trend) -> int:
            return max(1, int(base * scale * trend * rng.uniform(1 - spread, 1 + spread)))

        found[week] = Volume(
            infected=noisy(24000, 0.2),
            defaced=noisy(220),
            backdoored=noisy(160),
            phishing=noisy(700),
            malware_urls=noisy(260),
            vulnerabilities=noisy(320, 0.2),
        )
    return found


class _Addresses:
    """Real-looking addresses: domestic ones drawn from the IP database's ranges of each province."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        table = pq.read_table(geo.ip_database().path)
        self.by_region: dict[str, list[tuple[int, int]]] = {}
        cn = table.filter(pc.equal(table["cc"], "CN"))
        for start, end, region in zip(
            cn["start_int"].to_pylist(), cn["end_int"].to_pylist(), cn["region"].to_pylist(), strict=True
        ):
            if region and end - start >= 255:
                self.by_region.setdefault(region, []).append((start, end))
        self.regions = [r for r, _ in REGION_WEIGHTS if r in self.by_region]
        self.weights = [w for r, w in REGION_WEIGHTS if r in self.by_region]

    def domestic(self, region: str | None = None) -> tuple[str, str]:
        region = region or self.rng.choices(self.regions, self.weights)[0]
        start, end = self.rng.choice(self.by_region[region])
        return _dotted(self.rng.randint(start + 1, end - 1)), region

    def foreign(self) -> str:
        first = self.rng.choice((23, 45, 52, 64, 104, 139, 172, 185, 198, 203))
        return f"{first}.{self.rng.randrange(256)}.{self.rng.randrange(256)}.{self.rng.randrange(1, 255)}"


# Shadowserver's published column order of the reports the demo writes.
_COLUMNS = {r.key: r.columns for r in load_reports() if r.key in ("event4_sinkhole", "compromised_website")}


def _dotted(value: int) -> str:
    return ".".join(str(value >> shift & 255) for shift in (24, 16, 8, 0))


def _csv(rows: list[dict], columns: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer,
        fieldnames=list(columns),
        quoting=csv.QUOTE_NONNUMERIC,
        lineterminator="\n",
        extrasaction="ignore",
    )
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c, "") for c in columns})
    return buffer.getvalue()


def _moment(rng: random.Random, week: Week) -> datetime:
    """A UTC time inside the week (as Asia/Shanghai sees it: the week starts 16:00 UTC on Sunday)."""
    start = datetime.combine(week.monday, datetime.min.time(), tzinfo=UTC) - timedelta(hours=8)
    return start + timedelta(seconds=rng.randrange(7 * 86400))


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _site(rng: random.Random, gov: bool) -> str:
    if gov:
        return f"www.{rng.choice(CN_WORDS)}.{rng.choice(CITIES)}.gov.cn"
    stem = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(4, 9)))
    return f"www.{stem}.{rng.choice(('com.cn', 'cn', 'com', 'net.cn', 'org.cn'))}"


def write_week(folder: Path, week: Week, volume: Volume, seed: int) -> list[Path]:
    """Write one week of feed files into ``folder``; return their paths."""
    rng = random.Random(f"{seed}-{week}")
    addresses = _Addresses(rng)
    folder.mkdir(parents=True, exist_ok=True)
    day = week.monday.isoformat()
    writers = (
        (f"{day}-event4_sinkhole-demo-cn.csv", _sinkhole),
        (f"{day}-compromised_website-demo-cn.csv", _compromised),
        (f"openphish-premium-{day}.jsonl", _phishing),
        (f"urlhaus-{day}.csv", _urlhaus),
        (f"cnvd-{day}.xml", _cnvd),
        (f"nvd-cves-{day}.json", _nvd),
    )
    paths = []
    for name, writer in writers:
        path = folder / name
        path.write_text(writer(rng, week, volume, addresses), encoding="utf-8")
        paths.append(path)
    return paths


def _sinkhole(rng: random.Random, week: Week, volume: Volume, addresses: _Addresses) -> str:
    families = [f for f, _ in FAMILIES]
    weights = [w for _, w in FAMILIES]
    rows = []
    for _ in range(volume.infected):
        ip, region = addresses.domestic()
        family = rng.choices(families, weights)[0]
        # Shadowserver fills src_region for most rows; the rest are left to the IP database.
        shadow_region = BY_CODE[region].en.upper() if rng.random() < 0.8 else ""
        naics: int | str  # blank when there is no NAICS record
        naics, sector = rng.choices([(n, s) for n, s, _ in SECTORS], [w for _, _, w in SECTORS])[0]
        if rng.random() < 0.3:  # no NAICS record for the address
            naics, sector = "", ""
        for _hit in range(rng.choice((1, 1, 2, 3))):
            rows.append(
                {
                    "timestamp": _stamp(_moment(rng, week)),
                    "protocol": "tcp",
                    "src_ip": ip,
                    "src_port": rng.randrange(1024, 65535),
                    "src_asn": rng.choice((4134, 4837, 9808, 4538, 56046)),
                    "src_geo": "CN",
                    "src_region": shadow_region,
                    "src_naics": naics,
                    "src_sector": sector,
                    "dst_ip": addresses.foreign(),
                    "dst_port": 80,
                    "dst_geo": "US",
                    "public_source": "CNCERT",
                    "infection": family,
                    "family": family,
                    "application": "http",
                }
            )
    for _ in range(volume.infected // 20):  # foreign hosts the report must not count
        rows.append(
            {
                "timestamp": _stamp(_moment(rng, week)),
                "protocol": "tcp",
                "src_ip": addresses.foreign(),
                "src_geo": "US",
                "dst_ip": addresses.foreign(),
                "infection": "mirai",
                "family": "mirai",
            }
        )
    rows.sort(key=lambda r: str(r["timestamp"]))
    return _csv(rows, _COLUMNS["event4_sinkhole"])


def _compromised(rng: random.Random, week: Week, volume: Volume, addresses: _Addresses) -> str:
    rows = []
    for kind, count, gov_share in (
        ("defacement", volume.defaced, 0.05),
        ("webshell", volume.backdoored, 0.06),
    ):
        for _ in range(count):
            ip, region = addresses.domestic()
            host = _site(rng, rng.random() < gov_share)
            for _hit in range(rng.choice((1, 1, 2))):
                rows.append(
                    {
                        "timestamp": _stamp(_moment(rng, week)),
                        "ip": ip,
                        "port": 80,
                        "tag": kind,
                        "application": "http",
                        "geo": "CN",
                        "region": BY_CODE[region].en.upper(),
                        "url": "/index.html" if kind == "defacement" else f"/upload/{rng.randrange(99)}.php",
                        "http_host": host,
                        "category": "defacement" if kind == "defacement" else "backdoor",
                        "server": rng.choice(("nginx/1.18.0", "Apache/2.4.6", "Microsoft-IIS/8.5")),
                    }
                )
    rows.sort(key=lambda r: str(r["timestamp"]))
    return _csv(rows, _COLUMNS["compromised_website"])


def _phishing(rng: random.Random, week: Week, volume: Volume, addresses: _Addresses) -> str:
    """OpenPhish's premium feed (JSON lines): the imitated brand, the page's host, IP, AS and country."""
    records = []
    hosts: list[tuple[str, str, str, str]] = []
    for _ in range(max(1, volume.phishing // 6)):
        stem = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(5, 10)))
        tld = rng.choices([t for t, _ in TLDS], [w for _, w in TLDS])[0]
        domestic = rng.random() < 0.2
        ip = addresses.domestic()[0] if domestic else addresses.foreign()
        hosts.append((f"{stem}.{tld}", tld, ip, "CN" if domestic else rng.choice(("US", "HK", "SG", "JP"))))

    def page(url: str, host: str, tld: str, ip: str, cc: str, brand: str) -> dict:
        return {
            "url": url,
            "host": host,
            "ip": ip,
            "asn": f"AS{rng.choice((4134, 4837, 13335, 16509, 45102))}",
            "country_code": cc,
            "brand": brand,
            "isotime": _moment(rng, week).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "sector": "Financial",
            "tld": tld,
            "page_language": "ZH",
        }

    for _ in range(volume.phishing):
        host, tld, ip, cc = rng.choice(hosts)
        path = rng.choice(("login", "verify", "account", "refund", "update"))
        url = f"https://{host}/{path}/{rng.randrange(10**6)}.html"
        records.append(page(url, host, tld, ip, cc, rng.choice(BRANDS)[1]))
    for _ in range(volume.phishing // 5):  # pages imitating foreign brands: not counted
        host, tld, ip, cc = rng.choice(hosts)
        url = f"https://{host}/signin/{rng.randrange(10**6)}"
        records.append(page(url, host, tld, ip, cc, rng.choice(FOREIGN_BRANDS)))
    records.sort(key=lambda r: r["isotime"])
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def _urlhaus(rng: random.Random, week: Week, volume: Volume, addresses: _Addresses) -> str:
    lines = [
        "################################################################",
        "# abuse.ch URLhaus Database Dump (CSV - recent URLs only)      #",
        f"# Last updated: {week.sunday.isoformat()} 23:59:59 (UTC)                      #",
        "################################################################",
        "#",
        "# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter",
    ]
    domains = []
    for _ in range(max(1, volume.malware_urls // 3)):
        stem = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(5, 10)))
        domains.append(f"{stem}.{rng.choices([t for t, _ in TLDS], [w for _, w in TLDS])[0]}")
    rows = []
    for _ in range(volume.malware_urls):
        moment = _moment(rng, week)
        if rng.random() < 0.45:
            ip = addresses.domestic()[0] if rng.random() < 0.35 else addresses.foreign()
            url, tags = f"http://{ip}:{rng.randrange(1024, 60000)}/i", "32-bit,elf,mips,Mozi"
        elif rng.random() < 0.15:
            url, tags = f"https://{rng.choice(domains)}/app/update_{rng.randrange(999)}.apk", "apk,SpyNote"
        else:
            url, tags = f"http://{rng.choice(domains)}/files/{rng.randrange(10**5)}.exe", "exe,AgentTesla"
        rows.append((moment, url, tags))
    rows.sort()
    for n, (moment, url, tags) in enumerate(rows):
        uid = 3_000_000 + int(moment.timestamp()) % 1_000_000 * 10 + n % 10
        lines.append(
            f'"{uid}","{_stamp(moment)}","{url}","online","{_stamp(moment)}","malware_download","{tags}",'
            f'"https://urlhaus.abuse.ch/url/{uid}/","demo_reporter"'
        )
    return "\n".join(lines) + "\n"


def _vulnerability_rng(week: Week, volume: Volume) -> random.Random:
    """CNVD and NVD files of a week describe the same vulnerabilities: both draw from this."""
    return random.Random(f"vulnerabilities-{week}-{volume.vulnerabilities}")


def _vulnerabilities(rng: random.Random, week: Week, volume: Volume) -> list[dict]:
    found = []
    for n in range(volume.vulnerabilities):
        product, object_type, kind = rng.choice(VULN_PRODUCTS)
        version = f"{rng.randint(1, 12)}.{rng.randint(0, 9)}"
        severity = rng.choices(("高", "中", "低"), (38, 52, 10))[0]
        score = {"高": rng.uniform(7.0, 9.8), "中": rng.uniform(4.0, 6.9), "低": rng.uniform(1.0, 3.9)}[severity]
        number = f"CNVD-{week.year}-{week.number * 1000 + n:05d}"
        cve = f"CVE-{week.year}-{week.number * 1000 + n + 20000}" if rng.random() < 0.6 else None
        found.append(
            {
                "number": number,
                "cve": cve,
                "title": product.format(x=version) + kind,
                "product": product.format(x=version),
                "description_en": f"{VULN_KINDS_EN[kind]} in {product.format(x=version)}.",
                "severity": severity,
                "score": round(score, 1),
                "type": object_type,
                "patched": rng.random() < 0.85,
                "open": week.monday + timedelta(days=rng.randrange(7)),
            }
        )
    return found


def _cnvd(rng: random.Random, week: Week, volume: Volume, addresses: _Addresses) -> str:
    parts = ['<?xml version="1.0" encoding="UTF-8"?>', "<vulnerabilitys>"]
    for v in _vulnerabilities(_vulnerability_rng(week, volume), week, volume):
        cves = f"<cves><cve><cveNumber>{v['cve']}</cveNumber></cve></cves>" if v["cve"] else "<cves/>"
        formal = (
            "厂商已发布了漏洞修复程序，请及时关注更新。" if v["patched"] else "目前厂商暂未发布修复措施解决此安全问题。"
        )
        parts.append(
            f"<vulnerability><number>{v['number']}</number>{cves}<title>{escape(v['title'])}</title>"
            f"<serverity>{v['severity']}</serverity><products><product>{escape(v['product'])}</product></products>"
            f"<isEvent>通用软硬件漏洞</isEvent><submitTime>{v['open'] - timedelta(days=3)}</submitTime>"
            f"<openTime>{v['open']}</openTime><discovererName/><referenceLink/><formalWay>{formal}</formalWay>"
            f"<description>{escape(v['title'])}。攻击者可利用该漏洞影响系统安全。</description>"
            "<patchName/><patchDescription/></vulnerability>"
        )
    parts.append("</vulnerabilitys>")
    return "\n".join(parts) + "\n"


def _nvd(rng: random.Random, week: Week, volume: Volume, addresses: _Addresses) -> str:
    vulns = [v for v in _vulnerabilities(_vulnerability_rng(week, volume), week, volume) if v["cve"]]
    records = []
    for v in vulns[: len(vulns) // 2]:
        published = datetime.combine(v["open"], datetime.min.time()) + timedelta(hours=rng.randrange(24))
        part = {"操作系统": "o", "网络设备": "h", "智能设备": "h"}.get(v["type"], "a")
        records.append(
            {
                "cve": {
                    "id": v["cve"],
                    "published": published.strftime("%Y-%m-%dT%H:%M:%S.000"),
                    "vulnStatus": "Analyzed",
                    "descriptions": [{"lang": "en", "value": v["description_en"]}],
                    "metrics": {
                        "cvssMetricV31": [
                            {
                                "source": "nvd@nist.gov",
                                "type": "Primary",
                                "cvssData": {"version": "3.1", "baseScore": v["score"]},
                            }
                        ]
                    },
                    "configurations": [
                        {"nodes": [{"cpeMatch": [{"vulnerable": True, "criteria": f"cpe:2.3:{part}:demo:product:*"}]}]}
                    ],
                    "references": [{"url": "https://example.org/advisory", "tags": ["Patch"] if v["patched"] else []}],
                }
            }
        )
    document = {
        "resultsPerPage": len(records),
        "startIndex": 0,
        "totalResults": len(records),
        "format": "NVD_CVE",
        "version": "2.0",
        "timestamp": f"{week.sunday}T23:59:59.000",
        "vulnerabilities": records,
    }
    return json.dumps(document, ensure_ascii=False, indent=1)
