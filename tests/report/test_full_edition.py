"""The full edition's content: the public-data policy on both sides (AMBER names printed, AMBER
identifiers never, RED nothing at all, a stricter setting removes AMBER names), section 4's list of
important vulnerabilities, the sectors of infected hosts, the partners' response times, the narrative
of ``sitrep publish --summary-file`` in every format, and issues frozen before any of it."""

from __future__ import annotations

import json
import re
import statistics
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sitrep.cli import app
from sitrep.config import ConfigError, PublicData, Workspace, parse_settings
from sitrep.incidents.db import session_scope
from sitrep.incidents.importer import import_incidents
from sitrep.report.compose import compose
from sitrep.report.facts import gather
from sitrep.report.facts_model import Facts
from sitrep.report.publish import diff, render_week
from sitrep.report.redact import workspace_secret

from .data import (
    AMBER_DOMAIN,
    AMBER_FAMILY,
    AMBER_INCIDENT_IP,
    AMBER_INCIDENT_URL,
    AMBER_IP,
    AMBER_URL,
    RESTRICTED_STRINGS,
    WEEK,
    build_workspace,
    event,
    write_events,
)

runner = CliRunner()

AMBER_SECTOR = "Education"
AMBER_VULN = "CNVD-2025-88001"
AMBER_VULN_TITLE = "AMBERVULN机密漏洞"
LISTED_CNVD, LISTED_CVE = "CNVD-2025-77001", "CVE-2025-77001"
NVD_ONLY = "CVE-2025-77002"
RED_PARTNER = "机密云REDPARTNER"
FORMATS = ["html", "md", "json", "wechat"]


def _at(days: float, hours: float = 0) -> datetime:
    monday = datetime.combine(WEEK.monday, datetime.min.time(), tzinfo=UTC)
    return monday + timedelta(days=days, hours=hours)


def _extra_events() -> list[dict[str, Any]]:
    """Three AMBER infected hosts in a sector; the week's important vulnerabilities: a CNVD record and
    its NVD twin, an NVD-only CVE, and a CNVD record marked AMBER (counted, never listed)."""
    rows = [
        event(
            time_source=_at(1, i),
            classification_taxonomy="malicious-code",
            classification_type="infected-system",
            classification_identifier="infected-system",
            source_ip=f"121.9.9.{i + 1}",
            malware_name="mirai",
            region="GD",
            country="CN",
            domestic=True,
            ip_domestic=True,
            extra=json.dumps({"src_sector": AMBER_SECTOR, "src_naics": "611310"}),
            tlp="AMBER",
        )
        for i in range(3)
    ]
    vuln = {
        "classification_taxonomy": "vulnerable",
        "classification_type": "vulnerable-system",
        "classification_identifier": "vulnerability",
    }
    rows += [
        event(
            time_source=_at(2),
            **vuln,
            vulnerability_id=LISTED_CNVD,
            vulnerability_cve=LISTED_CVE,
            vulnerability_severity="高",
            vulnerability_object_type="WEB应用",
            vulnerability_patched=True,
            extra=json.dumps({"title": "ThinkPHP远程代码执行漏洞", "products/product": "ThinkPHP 5.0.23"}),
        ),
        event(
            time_source=_at(2, 3),
            **vuln,
            vulnerability_id=LISTED_CVE,
            vulnerability_cve=LISTED_CVE,
            vulnerability_score=9.8,
            vulnerability_severity="高",
            vulnerability_object_type="应用程序",
            extra=json.dumps({"description": "A remote code execution flaw in ThinkPHP " + "lets attackers " * 20}),
        ),
        event(
            time_source=_at(3),
            **vuln,
            vulnerability_id=NVD_ONLY,
            vulnerability_cve=NVD_ONLY,
            vulnerability_score=7.5,
            vulnerability_severity="高",
            vulnerability_object_type="操作系统",
            extra=json.dumps({"description": "Kernel privilege escalation."}),
        ),
        event(
            time_source=_at(3, 2),
            **vuln,
            vulnerability_id=AMBER_VULN,
            vulnerability_severity="高",
            vulnerability_score=9.9,
            vulnerability_object_type="数据库",
            extra=json.dumps({"title": AMBER_VULN_TITLE, "products/product": "AMBERPRODUCT"}),
            tlp="AMBER",
        ),
    ]
    return rows


def _requests_csv(path: Path) -> Path:
    """Coordination requests acted on: this week (cloud 2 h and 4 h, registrar 10 h), the week before
    (cloud 8 h), and a RED case acted on in 1 h that counts nowhere."""
    header = (
        "ref,title,category,reported_at,resolved_at,status,partner,partner_type,asset,tlp,sent_at,actioned_at,outcome"
    )
    rows = []
    cases = [
        ("SPEED-1", "阿里云", "cloud", _at(1), 2, "AMBER"),
        ("SPEED-2", "阿里云", "cloud", _at(2), 4, "AMBER"),
        ("SPEED-3", "新网", "registrar", _at(3), 10, "CLEAR"),
        ("SPEED-0", "阿里云", "cloud", _at(-5), 8, "AMBER"),
        ("SPEED-RED", RED_PARTNER, "cloud", _at(2), 1, "RED"),
    ]
    for ref, partner, kind, sent, hours, tlp in cases:
        done = sent + timedelta(hours=hours)
        rows.append(
            f"{ref},协调,phishing,{sent.isoformat()},{done.isoformat()},resolved,{partner},{kind},"
            f"http://{ref.lower()}.example.com/,{tlp},{sent.isoformat()},{done.isoformat()},taken-down"
        )
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _workspace(root: Path, **sections: dict[str, Any]) -> Workspace:
    ws = build_workspace(root, **sections)
    write_events(ws, _extra_events(), "full-edition")
    with session_scope(ws) as session:
        assert not import_incidents(session, _requests_csv(root / "requests.csv"), workspace=ws, actor="t").rejects
    return ws


def _outputs(ws: Workspace, out: Path) -> dict[str, str]:
    """Every public file of the week as text: the formats of both languages and the charts."""
    render_week(ws, WEEK, formats=FORMATS, out=out)
    # The WeChat chart images are left out: their charts' text is in the charts' SVG files.
    return {
        str(p.relative_to(out)): p.read_text(encoding="utf-8")
        for p in out.rglob("*")
        if p.is_file() and p.suffix != ".png"
    }


@pytest.fixture(scope="module")
def full(tmp_path_factory) -> tuple[Workspace, Facts, dict[str, str]]:
    tmp = tmp_path_factory.mktemp("full")
    ws = _workspace(tmp / "ws")
    return ws, gather(ws, WEEK), _outputs(ws, tmp / "out")


@pytest.fixture(scope="module")
def strict(tmp_path_factory) -> tuple[Workspace, Facts, dict[str, str]]:
    tmp = tmp_path_factory.mktemp("strict")
    ws = _workspace(tmp / "ws", public={"names": "GREEN"})
    return ws, gather(ws, WEEK), _outputs(ws, tmp / "out")


def _plain(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r"<svg.*?</svg>", "", html, flags=re.S)))


# The policy ---------------------------------------------------------------------------------------


def test_the_default_policy_and_what_a_setting_may_not_loosen():
    policy = PublicData()
    assert policy.labels("counts") == ("CLEAR", "GREEN", "AMBER")
    assert policy.labels("names") == ("CLEAR", "GREEN", "AMBER")
    assert policy.labels("identifiers") == ("CLEAR", "GREEN")
    assert PublicData(counts="amber+strict", names="tlp:green").labels("names") == ("CLEAR", "GREEN")
    path = Path("sitrep.toml")
    for bad, message in (
        ({"counts": "RED"}, "public.counts: 'RED': use one of CLEAR, GREEN, AMBER, AMBER+STRICT"),
        ({"identifiers": "AMBER"}, "public.identifiers: 'AMBER': use one of CLEAR, GREEN"),
        ({"counts": "GREEN"}, "names (AMBER) may not be looser than counts (GREEN)"),
        ({"names": "CLEAR"}, "identifiers (GREEN) may not be looser than names (CLEAR)"),
        ({"names": "purple"}, "public.names: 'purple'"),
    ):
        with pytest.raises(ConfigError, match=re.escape(message)):
            parse_settings({"public": bad}, path)


def test_amber_family_and_sector_names_appear_in_both_editions(full):
    _, facts, texts = full
    for lang, sector in (("zh", "教育"), ("en", AMBER_SECTOR)):
        text = _plain(texts[f"report.{lang}.html"])
        assert AMBER_FAMILY in text and "gafgyt" in text
        assert sector in text
        assert f"{AMBER_FAMILY}" in texts[f"report.{lang}.md"]
    assert AMBER_SECTOR in facts.public_sectors
    data = json.loads(texts["report.en.json"])
    assert data["breakdowns"]["sectors"] == [{"name": AMBER_SECTOR, "hosts": 3}]
    assert AMBER_FAMILY in [f["name"] for f in data["breakdowns"]["malware_families"]]


def test_no_amber_identifier_in_any_public_output_nor_the_frozen_issue(full, tmp_path):
    ws, _, texts = full
    home = ["--home", str(ws.root)]
    assert runner.invoke(app, [*home, "publish", "--week", str(WEEK)]).exit_code == 0
    assert runner.invoke(app, [*home, "site", "-o", str(tmp_path / "site")]).exit_code == 0
    site = {
        str(p): p.read_text(encoding="utf-8")
        for p in (tmp_path / "site").rglob("*")
        if p.is_file() and p.suffix not in (".pdf", ".png")
    }
    assert any(name.endswith("report.en.json") for name in site)
    details = (*RESTRICTED_STRINGS, AMBER_VULN, AMBER_VULN_TITLE, "AMBERPRODUCT", RED_PARTNER, "SPEED-RED")
    for name, text in {**texts, **site}.items():
        for detail in details:
            assert detail not in text, f"{detail!r} leaked into {name}"
    # The frozen issue is the workspace's own record (it keeps incident refs), yet it holds no AMBER
    # address, URL, domain or vulnerability entry either.
    frozen = (ws.reports_dir / "published" / f"{WEEK}.json").read_text(encoding="utf-8")
    for detail in (
        AMBER_URL,
        AMBER_DOMAIN,
        AMBER_IP,
        AMBER_INCIDENT_URL,
        AMBER_INCIDENT_IP,
        AMBER_VULN,
        "AMBERPRODUCT",
    ):
        assert detail not in frozen, f"{detail!r} is in the frozen issue"
    # The AMBER vulnerability is still counted: 4 high ones a week, plus the three added this week.
    data = json.loads(texts["report.zh.json"])
    assert data["indicators"]["new_high_vulnerabilities"]["value"] == 4 + 3


def test_red_data_feeds_no_number(full):
    _, facts, _ = full
    speed = facts.incidents.partner_response
    assert speed is not None
    # The RED request (1 h) is not among this week's three.
    assert (speed.taken_down, speed.median_hours) == (3, 4.0)
    assert "SPEED-RED" not in facts.incidents.handled.refs


def test_a_stricter_names_setting_removes_amber_names(strict):
    _, facts, texts = strict
    assert AMBER_FAMILY not in facts.public_families and "gafgyt" not in facts.public_families
    assert facts.public_sectors == ()
    assert facts.public_regions == ("GD",)  # the one region of a CLEAR infected host
    for lang in ("zh", "en"):
        text = _plain(texts[f"report.{lang}.html"])
        assert AMBER_FAMILY not in text and "gafgyt" not in text and AMBER_SECTOR not in text
        assert ("其他未公开家族" if lang == "zh" else "other undisclosed families") in text
        assert ("江苏" if lang == "zh" else "Jiangsu") not in text
    data = json.loads(texts["report.en.json"])
    assert AMBER_FAMILY not in json.dumps(data, ensure_ascii=False)
    assert data["breakdowns"]["sectors"] == []
    assert [r["code"] for r in data["breakdowns"]["regions"]] == ["GD"]
    # Counts are the same as under the default policy.
    assert data["indicators"]["infected_hosts"]["value"] == 12 + 3


# Section 4 ----------------------------------------------------------------------------------------


def test_the_vulnerability_list_names_the_important_ones_from_public_records(full):
    _, facts, texts = full
    listed = facts.vulnerability_list
    assert listed is not None
    assert [v.key for v in listed[:2]] == [LISTED_CVE, NVD_ONLY]
    first, nvd_only = listed[0], listed[1]
    assert (first.cnvd, first.cve, first.name, first.product) == (
        LISTED_CNVD,
        LISTED_CVE,
        "ThinkPHP远程代码执行漏洞",
        "ThinkPHP 5.0.23",
    )
    assert (first.score, first.patched, first.object_type) == (9.8, True, "WEB应用")
    assert (nvd_only.cnvd, nvd_only.name, nvd_only.product) == (None, "Kernel privilege escalation.", None)
    # The English edition names a vulnerability by NVD's English description where there is one.
    assert first.name_en is not None and first.name_en.startswith("A remote code execution flaw in ThinkPHP")
    assert first.name_en.endswith("…") and len(first.name_en) <= 121
    # The four high ones of the shared data carry no score: listed after, by key.
    assert len(listed) == 2 + 4 and all(v.key != AMBER_VULN for v in listed)
    html = texts["report.zh.html"]
    assert "CNVD编号" in html and "ThinkPHP 5.0.23" in html and "已发布" in html
    md = texts["report.en.md"]
    assert "| Vulnerability | CNVD ID | CVE ID | Affected product | CVSS | Vendor patch |" in md
    assert f"| {first.name_en} | CNVD-2025-77001 | CVE-2025-77001 | ThinkPHP 5.0.23 | 9.8 | available |" in md
    assert (
        "| ThinkPHP远程代码执行漏洞 | CNVD-2025-77001 | CVE-2025-77001 | ThinkPHP 5.0.23 | 9.8 | 已发布 |"
        in (texts["report.zh.md"])
    )
    data = json.loads(texts["report.en.json"])
    assert data["vulnerability_list"][0]["cnvd"] == LISTED_CNVD


# Section 5: partner response ----------------------------------------------------------------------


def test_partner_response_by_type_this_week_against_the_weeks_before(full):
    ws, facts, texts = full
    speed = facts.incidents.partner_response
    assert speed is not None
    by_type = {t.type: t for t in speed.by_type}
    assert list(by_type) == ["cloud", "registrar"]
    assert (by_type["cloud"].taken_down, by_type["cloud"].median_hours) == (2, statistics.median([2, 4]))
    assert (by_type["cloud"].previous_taken_down, by_type["cloud"].previous_median_hours) == (1, 8.0)
    assert (by_type["registrar"].median_hours, by_type["registrar"].previous_median_hours) == (10.0, None)
    assert speed.previous_weeks == ws.settings.rating.baseline_weeks
    zh = compose(facts, ws.settings, "zh", previous=[], secret=workspace_secret(ws))
    incidents = zh.section("incidents")
    assert "从发出请求到完成处置的时间中位数为4.0小时（前8周为8.0小时）" in "".join(incidents.paragraphs)
    [chart] = [c for c in incidents.charts if c.key == "partner_response"]
    assert chart.kind == "grouped" and chart.categories == ["云服务商", "域名注册服务机构"]
    assert [list(s.values) for s in chart.series] == [[3.0, 10.0], [8.0, 0.0]]
    assert "the median time from request to takedown was 4.0 hours (8.0 hours over the previous 8 weeks)" in (
        _plain(texts["report.en.html"])
    )
    assert "charts/en-partner_response.svg" in texts and "charts/zh-sectors.svg" in texts
    assert json.loads(texts["report.zh.json"])["partner_response"]["by_type"][0]["type"] == "cloud"


# Older issues -------------------------------------------------------------------------------------


def test_an_issue_frozen_before_the_full_edition_reads_and_renders_without_it(full):
    ws, facts, _ = full
    stored = facts.as_dict()
    for key in ("public_regions", "sectors", "public_sectors", "vulnerability_list"):
        del stored[key]
    del stored["incidents"]["partner_response"]
    old = Facts.from_dict(stored)
    assert old.vulnerability_list is None and old.incidents.partner_response is None
    report = compose(old, ws.settings, "en", previous=[], secret=workspace_secret(ws))
    assert report.section("vulns").tables == []
    assert "sectors" not in [c.key for c in report.section("malware").charts]
    assert "partner_response" not in [c.key for c in report.section("incidents").charts]
    assert "Guangdong" in " ".join(report.section("malware").paragraphs)  # every region, as before
    assert "vulnerability_list" not in report.data and "sectors" not in report.data["breakdowns"]
    # Re-publishing over it reports the new parts as added numbers and ID lists.
    changes = {c["path"]: c for c in diff(stored, facts.as_dict())}
    assert changes[f"vulnerability_list[{LISTED_CVE}].score"] == {
        "path": f"vulnerability_list[{LISTED_CVE}].score",
        "old": None,
        "new": 9.8,
    }
    assert changes["public_sectors"]["added"] == [AMBER_SECTOR]
    assert "incidents.partner_response.median_hours" in changes


# publish --summary-file ---------------------------------------------------------------------------

SUMMARY = """\
[zh]
summary = \"\"\"本周感染主机数量与上周持平，
放马站点仍以境外为主。\"\"\"
highlights = ["mirai 仍是感染主机最多的家族", "<b>not markup</b>"]

[en]
summary = "Infected hosts held steady; malware hosting stays mostly abroad."
highlights = ["mirai remains the largest family"]
"""


def test_publish_with_a_summary_file_renders_it_in_every_format(tmp_path):
    ws = build_workspace(tmp_path / "ws")
    path = tmp_path / "summary.toml"
    path.write_text(SUMMARY, encoding="utf-8")
    home = ["--home", str(ws.root)]
    result = runner.invoke(app, [*home, "publish", "--week", str(WEEK), "--summary-file", str(path)])
    assert result.exit_code == 0, result.output
    issue = json.loads((ws.reports_dir / "published" / f"{WEEK}.json").read_text(encoding="utf-8"))
    assert issue["narrative"]["zh"]["summary"] == "本周感染主机数量与上周持平，放马站点仍以境外为主。"
    assert issue["narrative"]["en"]["highlights"] == ["mirai remains the largest family"]
    out = tmp_path / "out"
    written = render_week(ws, WEEK, formats=FORMATS, out=out)
    texts = {p.name: p.read_text(encoding="utf-8") for p in written if p.suffix != ".png"}
    for name in ("report.zh.html", "report.zh.md", "report.zh.wechat.html", "report.zh.json"):
        assert "放马站点仍以境外为主" in texts[name], name
    for name in ("report.zh.html", "report.zh.md", "report.zh.wechat.html"):
        assert "<b>not markup</b>" not in texts[name], name
    assert "&lt;b&gt;not markup&lt;/b&gt;" in texts["report.zh.html"]
    for name in ("report.en.html", "report.en.md", "report.en.wechat.html", "report.en.json"):
        assert "malware hosting stays mostly abroad" in texts[name], name
    # A published week takes a new narrative only as a refresh; a bad file is refused naming the key.
    path.write_text('[en]\nsummary = "Revised."\n', encoding="utf-8")
    again = runner.invoke(app, [*home, "publish", "--week", str(WEEK), "--summary-file", str(path)])
    assert again.exit_code == 2 and "already published: add --refresh" in again.output
    refreshed = runner.invoke(app, [*home, "publish", "--week", str(WEEK), "--summary-file", str(path), "--refresh"])
    assert refreshed.exit_code == 0, refreshed.output
    assert "narrative.en.summary: changed" in refreshed.output
    for bad, message in (
        ('[fr]\nsummary = "x"\n', "unknown language table 'fr'"),
        ("[en]\nsummary = 3\n", "en.summary must be a string"),
        ('[en]\nsummry = "x"\n', "unknown key en.summry"),
        ("[en\n", "not valid TOML"),
        ("", "no narrative in it"),
    ):
        path.write_text(bad, encoding="utf-8")
        failed = runner.invoke(app, [*home, "publish", "--week", str(WEEK), "--summary-file", str(path), "--refresh"])
        assert failed.exit_code == 2 and message in failed.output, (bad, failed.output)
