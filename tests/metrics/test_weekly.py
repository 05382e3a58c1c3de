"""Indicator definitions on a hand-computed lake, with Asia/Shanghai week boundaries."""

import json
from datetime import UTC, datetime

import pytest

from helpers import write_events
from sitrep.metrics.model import WeekMetrics
from sitrep.metrics.weekly import change_pct, compute, evidence
from sitrep.results import ResultError
from sitrep.weeks import Week

W01 = Week(2025, 1)
# 2025-W01 in Asia/Shanghai is [2024-12-29T16:00Z, 2025-01-05T16:00Z).
FIRST = datetime(2024, 12, 29, 16, 0, 0, tzinfo=UTC)
JUST_BEFORE = datetime(2024, 12, 29, 15, 59, 59, tzinfo=UTC)
LAST = datetime(2025, 1, 5, 15, 59, 59, tzinfo=UTC)
JUST_AFTER = datetime(2025, 1, 5, 16, 0, 0, tzinfo=UTC)
MID = datetime(2025, 1, 2, 8, 0, tzinfo=UTC)
PREV = datetime(2024, 12, 25, 8, 0, tzinfo=UTC)


def infected(ip, t, domestic=True, family="mirai", region="GD"):
    return {
        "time_source": t,
        "classification_taxonomy": "malicious-code",
        "classification_type": "infected-system",
        "source_ip": ip,
        "domestic": domestic,
        "ip_domestic": domestic,
        "malware_name": family,
        "region": region if domestic else None,
        "country": "CN" if domestic else "US",
    }


def site_event(kind, site, t, *, gov=False, domestic=True, identifier=None):
    taxonomy, type_, ident = {
        "defacement": ("information-content-security", "unauthorised-information-modification", "defacement"),
        "backdoor": ("intrusions", "system-compromise", "backdoor"),
    }[kind]
    return {
        "time_source": t,
        "classification_taxonomy": taxonomy,
        "classification_type": type_,
        "classification_identifier": identifier or ident,
        "site": site,
        "source_fqdn": site,
        "is_gov": gov,
        "domestic": domestic,
    }


def phish(url, t, *, target=None, target_domain=None, domestic=False, ip="203.0.113.9", domain=None):
    host = url.split("/")[2]
    return {
        "time_source": t,
        "classification_taxonomy": "fraud",
        "classification_type": "phishing",
        "classification_identifier": "phishing",
        "source_url": url,
        "site": host,
        "site_domain": domain or host,
        "site_suffix": host.rsplit(".", 1)[-1],
        "event_description_target": target,
        "target_domain": target_domain,
        "domestic": domestic,
        "source_ip": ip,
    }


def vuln(vid, t, *, cve=None, severity=None, score=None, object_type="应用程序", patched=False):
    return {
        "time_source": t,
        "classification_taxonomy": "vulnerable",
        "classification_type": "vulnerable-system",
        "classification_identifier": "vulnerability",
        "vulnerability_id": vid,
        "vulnerability_cve": cve,
        "vulnerability_severity": severity,
        "vulnerability_score": score,
        "vulnerability_object_type": object_type,
        "vulnerability_patched": patched,
    }


@pytest.fixture
def lake(workspace):
    write_events(
        workspace,
        [
            # Infected hosts: A twice, B, C at the two edges of the week, D foreign, E just outside.
            infected("1.1.1.1", MID),
            infected("1.1.1.1", MID, family="andromeda"),
            infected("2.2.2.2", FIRST),
            infected("3.3.3.3", LAST, region="BJ"),
            infected("8.8.8.8", MID, domestic=False),
            infected("4.4.4.4", JUST_BEFORE),
            infected("5.5.5.5", JUST_AFTER),
            # Previous week: 4.4.4.4 (just before) and 6.6.6.6.
            infected("6.6.6.6", PREV),
            # Defaced: two domestic sites, one GOV; a foreign one does not count.
            site_event("defacement", "www.x.gov.cn", MID, gov=True),
            site_event("defacement", "shop.example.cn", MID),
            site_event("defacement", "www.x.gov.cn", LAST, gov=True),
            site_event("defacement", "foreign.com", MID, domestic=False),
            # Backdoored: a webshell on a GOV site and a backdoor; last week one backdoor.
            site_event("backdoor", "a.gov.cn", MID, gov=True, identifier="webshell"),
            site_event("backdoor", "b.com.cn", MID),
            site_event("backdoor", "c.com.cn", PREV),
            # Phishing: protected brand, protected site, domestic-hosted unknown target, foreign target (no).
            phish("http://icbc-login.top/a", MID, target="ICBC"),
            phish("http://icbc-login.top/a", LAST, target="ICBC"),
            phish("http://secure-update.xyz/b", MID, target="icbc.com.cn", target_domain="icbc.com.cn"),
            phish("http://pay.example.cn/c", MID, domestic=True, ip="220.181.1.1"),
            phish("http://paypal-verify.com/d", MID, target="PayPal"),
            # Vulnerabilities: CNVD + NVD for CVE-A count once (high); CNVD-2 medium; CVE-B high by score;
            # CVE-C was first published last week, so it is not new this week.
            vuln("CNVD-2025-00001", MID, cve="CVE-2025-0001", severity="高", patched=True),
            vuln("CVE-2025-0001", LAST, cve="CVE-2025-0001", score=9.8, object_type=None),
            vuln("CNVD-2025-00002", FIRST, severity="中", object_type="WEB应用"),
            vuln("CVE-2025-0002", MID, cve="CVE-2025-0002", score=7.5, object_type="操作系统"),
            vuln("CVE-2024-9999", PREV, cve="CVE-2024-9999", score=5.0),
            vuln("CNVD-2025-00003", MID, cve="CVE-2024-9999", severity="中"),
        ],
    )
    return workspace


def test_key_indicators_match_hand_counts(lake):
    data = compute(lake, W01)
    values = {k: (v.value, v.previous) for k, v in data.indicators.items()}
    assert values == {
        "infected_hosts": (3, 2),
        "defaced_sites": (2, 0),
        "defaced_gov_sites": (1, 0),
        "backdoored_sites": (2, 1),
        "backdoored_gov_sites": (1, 0),
        "phishing_pages": (3, 0),
        "new_vulnerabilities": (3, 1),
        "new_high_vulnerabilities": (2, 0),
    }
    assert (data.week, data.start, data.end) == ("2025-W01", "2024-12-30", "2025-01-05")


def test_change_is_null_when_last_week_was_zero(lake):
    data = compute(lake, W01).indicators
    assert data["defaced_sites"].change_pct is None
    assert data["infected_hosts"].change_pct == 50.0
    assert data["backdoored_sites"].change_pct == 100.0


def test_no_earlier_data_is_none_not_zero(lake):
    """Last week's values are unknown (None) only when the lake holds nothing before the week; a week
    after the data's start with an empty last week has real zeros."""
    first = compute(lake, W01 - 1).indicators  # the lake's first week (PREV)
    assert all(v.previous is None and v.change_pct is None for v in first.values())
    assert first["infected_hosts"].value == 2
    assert compute(lake, W01).indicators["infected_hosts"].previous == 2
    later = compute(lake, W01 + 3).indicators  # last week (2025-W03) had nothing, but data came before
    assert all(v.previous == 0 and v.value == 0 for v in later.values())
    assert compute(lake, W01 - 1).as_dict()["indicators"]["infected_hosts"]["previous"] is None


def test_change_pct_rounds_to_one_decimal():
    assert change_pct(35, 32) == 9.4
    assert change_pct(21, 31) == -32.3
    assert change_pct(5, 0) is None


def test_breakdowns(lake):
    b = compute(lake, W01).as_dict()["breakdowns"]
    assert b["malware_families"] == [{"name": "mirai", "hosts": 3}, {"name": "andromeda", "hosts": 1}]
    assert [(r["code"], r["zh"], r["hosts"]) for r in b["regions"]] == [("GD", "广东", 2), ("BJ", "北京", 1)]
    assert b["websites"] == {"defaced_gov_pct": 50.0, "backdoored_gov_pct": 50.0}
    assert b["phishing"] == {"pages": 3, "domains": 3, "ips": 2, "pages_per_ip": 1.5}
    v = b["vulnerabilities"]
    assert (v["total"], v["high"], v["medium"], v["low"], v["patched"]) == (3, 2, 1, 0, 1)
    types = {t["type"]: t["count"] for t in v["by_object_type"]}
    assert (types["应用程序"], types["WEB应用"], types["操作系统"]) == (1, 1, 1)


def test_evidence_lists_the_events_behind_each_number(lake):
    ids = evidence(lake, W01)
    assert len(ids["infected_hosts"]) == 4  # 1.1.1.1 twice, 2.2.2.2, 3.3.3.3
    assert len(ids["phishing_pages"]) == 4
    # CNVD-1 and NVD CVE-A (one vulnerability, two records), CNVD-2, CVE-B; not CNVD-3 (CVE-C is old).
    assert len(ids["new_vulnerabilities"]) == 4
    assert len(ids["new_high_vulnerabilities"]) == 3


def test_empty_lake_gives_zeros(workspace):
    data = compute(workspace, W01)
    assert all(v.value == 0 and v.previous is None and v.change_pct is None for v in data.indicators.values())


def test_the_json_form_reads_back_and_refuses_a_renamed_field(lake):
    data = compute(lake, W01)
    plain = data.as_dict()
    assert WeekMetrics.from_dict(json.loads(json.dumps(plain))) == data
    assert list(plain) == ["schema", "week", "start", "end", "timezone", "previous_week", "indicators", "breakdowns"]
    assert list(plain["indicators"]["infected_hosts"]) == ["value", "previous", "change_pct", "zh", "en"]
    renamed = json.loads(json.dumps(plain))
    renamed["breakdowns"]["phishing"]["urls"] = renamed["breakdowns"]["phishing"].pop("pages")
    with pytest.raises(ResultError, match=r"breakdowns\.phishing\.(pages|urls)"):
        WeekMetrics.from_dict(renamed)
