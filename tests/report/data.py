"""A small real workspace for the report tests: events in the lake (Parquet) and incidents (importer).

Nine weeks (2024-W45 … 2025-W01) carry the same event counts, so 2025-W01 rates 良 (score 1.0).
2025-W01 also carries planted values the tests look for: a hostile malware family name from a CLEAR
feed, TLP:AMBER identifiers (URL, domain, IP, incident title) that must never be printed, and a family
seen only in AMBER data, whose name the default public-data policy prints (a name, not an identifier).
Incidents follow the acceptance of DESIGN.md §3.5: 67 handled, 28 cross-border, 38 phishing, 14
mobile-malware URLs at 12 app stores, partners of types cloud, registrar, app-store, branch, intl-org.
"""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import tomli_w

from sitrep.config import Workspace
from sitrep.incidents.db import session_scope
from sitrep.incidents.importer import import_incidents
from sitrep.lake.schema import ARROW_SCHEMA
from sitrep.lake.store import Lake
from sitrep.weeks import Week
from sitrep.workspace import init_workspace

WEEK = Week(2025, 1)
HOSTILE_FAMILY = "<script>alert(1)</script>"
AMBER_URL = "http://amber-secret-phish.example.org/login.php"
AMBER_DOMAIN = "amber-secret-phish.example.org"
AMBER_IP = "198.51.100.213"
AMBER_FAMILY = "amberonlyfamilyx"
AMBER_INCIDENT_TITLE = "红色机密行动AMBERCASE"
AMBER_INCIDENT_URL = "http://amber-incident-secret.example.net/payload.apk"
AMBER_INCIDENT_IP = "203.0.113.177"
RESTRICTED_STRINGS = (
    AMBER_URL,
    AMBER_DOMAIN,
    AMBER_IP,
    AMBER_INCIDENT_TITLE,
    AMBER_INCIDENT_URL,
    "amber-incident-secret",
    AMBER_INCIDENT_IP,
    "AMBER-REF-SECRET",
)
REGIONS = ("GD", "GD", "GD", "GD", "JS", "JS", "JS", "ZJ", "ZJ", "SD", "BJ", "SC")


def event(**fields: Any) -> dict[str, Any]:
    """One lake row: the given fields, every other column NULL, a content-hash event_id."""
    row = {name: None for name in ARROW_SCHEMA.names}
    row.update(fields)
    row["feed_name"] = row["feed_name"] or "test-feed"
    row["tlp"] = row["tlp"] or "CLEAR"
    digest = hashlib.sha256(repr(sorted((k, str(v)) for k, v in fields.items())).encode()).hexdigest()
    row["event_id"] = digest[:32]
    return row


def week_events(week: Week, *, planted: bool, extra_phishing: int = 0) -> list[dict[str, Any]]:
    """The same counts every week: 12 infected hosts, 4+1 GOV defaced, 2+1 GOV backdoored, 6 phishing
    pages, 10 new vulnerabilities (4 high), 5 malware-hosting domains on 4 IPs."""
    tag = str(week).lower()
    base = datetime.combine(week.monday, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    rows = []
    for i, region in enumerate(REGIONS):
        family, tlp, ip = ("mirai" if i % 3 else "gafgyt"), "AMBER", f"121.{week.number}.{i}.{7 + i}"
        if planted and i == 0:
            family, tlp = HOSTILE_FAMILY, "CLEAR"
        if planted and i == 1:
            family, ip = AMBER_FAMILY, AMBER_IP
        rows.append(
            event(
                time_source=base + timedelta(hours=i),
                classification_taxonomy="malicious-code",
                classification_type="infected-system",
                classification_identifier="infected-system",
                source_ip=ip,
                malware_name=family,
                region=region,
                country="CN",
                domestic=True,
                ip_domestic=True,
                tlp=tlp,
            )
        )
    # A CLEAR sighting of mirai makes the family name public.
    rows.append(
        event(
            time_source=base,
            classification_taxonomy="malicious-code",
            classification_type="infected-system",
            classification_identifier="infected-system",
            source_ip="8.8.4.4",
            malware_name="mirai",
            country="US",
            domestic=False,
            ip_domestic=False,
            tlp="CLEAR",
        )
    )
    for i in range(5):
        site = f"site{i}.gov.cn" if i == 0 else f"shop{i}-{tag}.com.cn"
        rows.append(
            event(
                time_source=base + timedelta(days=1, hours=i),
                classification_taxonomy="information-content-security",
                classification_type="unauthorised-information-modification",
                classification_identifier="defacement",
                site=site,
                source_url=f"http://{site}/",
                is_gov=i == 0,
                domestic=True,
            )
        )
    for i in range(3):
        site = f"oa{i}.gov.cn" if i == 0 else f"bbs{i}-{tag}.cn"
        rows.append(
            event(
                time_source=base + timedelta(days=2, hours=i),
                classification_taxonomy="intrusions",
                classification_type="system-compromise",
                classification_identifier="webshell",
                site=site,
                source_url=f"http://{site}/shell.php",
                is_gov=i == 0,
                domestic=True,
            )
        )
    for i in range(6 + extra_phishing):
        url, domain, ip, tlp = (
            f"http://icbc-{tag}-{i}.example.com/login",
            f"icbc-{tag}-{i % 3}.example.com",
            f"192.0.2.{i % 3 + 1}",
            "CLEAR",
        )
        if planted and i == 0:
            url, domain, ip, tlp = AMBER_URL, AMBER_DOMAIN, AMBER_IP, "AMBER"
        rows.append(
            event(
                time_source=base + timedelta(days=3, hours=i),
                classification_taxonomy="fraud",
                classification_type="phishing",
                classification_identifier="phishing",
                source_url=url,
                site=domain,
                site_domain=domain,
                site_suffix="com",
                source_ip=ip,
                target_domain="icbc.com.cn",
                event_description_target="icbc.com.cn",
                domestic=False,
                tlp=tlp,
            )
        )
    kinds = (
        "应用程序",
        "应用程序",
        "应用程序",
        "WEB应用",
        "WEB应用",
        "操作系统",
        "网络设备",
        "网络设备",
        "数据库",
        "智能设备",
    )
    for i, kind in enumerate(kinds):
        rows.append(
            event(
                time_source=base + timedelta(days=4, hours=i),
                classification_taxonomy="vulnerable",
                classification_type="vulnerable-system",
                classification_identifier="vulnerability",
                vulnerability_id=f"CNVD-{week.year}-{week.number:02d}{i:03d}",
                vulnerability_severity="高" if i < 4 else ("中" if i < 8 else "低"),
                vulnerability_object_type=kind,
                vulnerability_patched=i % 2 == 0,
            )
        )
    for i in range(5):
        domain = f"bad{i}-{tag}.com" if i < 3 else f"bad{i}-{tag}.cn"
        rows.append(
            event(
                time_source=base + timedelta(days=5, hours=i),
                classification_taxonomy="malicious-code",
                classification_type="malware-distribution",
                classification_identifier="malware-distribution",
                source_url=f"http://{domain}/x.exe",
                site=domain,
                site_domain=domain,
                site_suffix=domain.rsplit(".", 1)[1],
                source_ip=f"203.0.113.{i % 4 + 1}",
                ip_domestic=i % 4 == 0,
            )
        )
    return rows


def write_events(workspace: Workspace, rows: list[dict[str, Any]], name: str) -> None:
    """Commit rows to the lake as one Parquet file (what an ingest run leaves behind)."""
    lake = Lake.of(workspace)
    lake.create()
    table = pa.Table.from_pylist(rows, schema=ARROW_SCHEMA)
    pq.write_table(table, lake.events_dir / f"{name}.parquet")


def acceptance_csv(path: Path) -> Path:
    """67 incidents resolved in 2025-W01 (see the module docstring), one of them a planted AMBER case."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "ref",
            "title",
            "category",
            "reported_at",
            "resolved_at",
            "status",
            "partner",
            "partner_type",
            "partner_country",
            "asset",
            "cross_border",
            "grade",
            "tlp",
        ]
    )
    day = [f"2025-01-0{d}" if d < 10 else f"2024-12-{d}" for d in (30, 31, 1, 2, 3, 4, 5)]
    n = 0

    def add(
        category: str,
        partner: str,
        kind: str,
        country: str,
        asset: str,
        cross: bool,
        title: str | None = None,
        tlp: str = "AMBER",
        ref: str | None = None,
    ) -> None:
        nonlocal n
        n += 1
        d = day[n % 7]
        writer.writerow(
            [
                ref or f"R-{n:03d}",
                title or f"{category} {n}",
                category,
                f"{d}T09:00:00",
                f"{d}T18:00:00",
                "resolved",
                partner,
                kind,
                country,
                asset,
                "yes" if cross else "no",
                "一般",
                tlp,
            ]
        )

    for i in range(38):
        partner, kind, country = ("阿里云万网", "registrar", "CN") if i % 2 else ("APWG", "intl-org", "US")
        add(
            "phishing",
            partner,
            kind,
            country,
            f"http://phish{i}.example.com/",
            i < 20,
            tlp="CLEAR" if i == 5 else "AMBER",
        )
    for i in range(14):
        store = f"应用商店{i % 12 + 1}"
        if i == 13:
            add(
                "mobile-malware",
                store,
                "app-store",
                "CN",
                AMBER_INCIDENT_URL,
                True,
                title=AMBER_INCIDENT_TITLE,
                ref="AMBER-REF-SECRET",
            )
        else:
            add("mobile-malware", store, "app-store", "CN", f"http://apk{i}.example.cn/a.apk", i < 3)
    for i in range(10):
        add("defacement" if i % 2 else "backdoor", "广东分中心", "branch", "CN", f"site{i}.example.cn", i < 4)
    for i in range(5):
        add("malware", "阿里云", "cloud", "CN", f"{AMBER_INCIDENT_IP}" if i == 0 else f"198.51.100.{i}", False)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def build_workspace(root: Path, **sections: dict[str, Any]) -> Workspace:
    """A workspace with nine weeks of events and the 2025-W01 acceptance incidents."""
    root.mkdir(parents=True, exist_ok=True)
    config = {"organisation": {"name": "CNCERT"}, **sections}
    (root / "sitrep.toml").write_text(tomli_w.dumps(config), encoding="utf-8")
    ws = init_workspace(root)
    rows = []
    for back in range(8, 0, -1):
        rows += week_events(WEEK - back, planted=False)
    rows += week_events(WEEK, planted=True)
    write_events(ws, rows, "base")
    with session_scope(ws) as session:
        report = import_incidents(session, acceptance_csv(root / "incidents.csv"), workspace=ws, actor="test")
    assert not report.rejects, report.rejects
    return ws
