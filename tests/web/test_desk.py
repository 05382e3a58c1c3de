"""The incident desk as a browser uses it: the list's filters and pages, creating, changing, assigning,
noting, coordination requests, resolving, bulk changes; versions, CSRF, roles and escaping."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import pytest
from markupsafe import escape

from helpers import write_events
from sitrep.accounts import service as accounts
from sitrep.incidents import service
from sitrep.incidents.db import open_store
from sitrep.incidents.desk import Desk
from sitrep.report.behind import incidents_behind
from sitrep.web.desk import PAGE_SIZE
from sitrep.weeks import Week

from .conftest import HOSTILE, PASSWORD, csrf_of, login

PARTNER = f"阿里云{HOSTILE}"  # the hostile partner of conftest
REF_CELL = re.compile(r'<td class="ref"><a href="[^"]+">([^<]+)</a>')
VERSION = re.compile(r'name="version" value="([0-9a-f]+)"')


def _refs(page: str) -> list[str]:
    return [html.unescape(r) for r in REF_CELL.findall(page)]


def _desk(web) -> Desk:
    return Desk.open(web.workspace)


def _add(web, title: str, category: str = "phishing", **more) -> str:
    return service.add_incident(_desk(web), title=title, category=category, actor="test", **more)["ref"]


def _advance(web, ref: str, *statuses: str) -> None:
    for status in statuses:
        service.update_incident(_desk(web), ref, service.IncidentChanges(status=status), actor="test")


def _version(page: str) -> str:
    found = VERSION.search(page)
    assert found, "the page has no version field"
    return found.group(1)


def _no_markup(page: str) -> None:
    assert "<img src=x" not in page and "<script>alert" not in page and "Traceback" not in page


@pytest.fixture(scope="module")
def analyst(web):
    return login(web, "analyst")


def test_the_list_filters(web, analyst):
    mine = _add(web, "筛选甲", "malware", owner="analyst")
    asked = _add(web, "筛选乙", partner_names=[PARTNER])
    triaged = _add(web, "筛选丙")
    _advance(web, triaged, "triaged")

    def listed(**params) -> list[str]:
        response = analyst.get("/incidents", params={"q": "筛选", **params})
        assert response.status_code == 200, response.text
        return _refs(response.text)

    assert listed() == [triaged, asked, mine]  # newest first
    assert listed(category="phishing") == [triaged, asked]
    assert listed(owner="ANALYST") == [mine]
    assert listed(unassigned="1") == [triaged, asked]
    assert listed(status="triaged") == [triaged]
    assert listed(status=["new", "triaged"], category="phishing") == [triaged, asked]
    assert listed(partner=PARTNER) == [asked]
    closed = _add(web, "筛选丁")
    _advance(web, closed, "triaged", "coordinating", "resolved")
    assert listed(open="1") == [triaged, asked, mine]
    assert listed(resolved_in=str(web.week + 2)) == [closed]  # this week
    assert listed(resolved_in=str(web.week)) == []
    bad = analyst.get("/incidents", params={"resolved_in": "2025-W99"})
    assert bad.status_code == 400 and "2025-W99" in bad.text and "未执行" in bad.text
    unknown = analyst.get("/incidents", params={"partner": "无此单位"})
    assert unknown.status_code == 400 and "名录中没有协调对象“无此单位”" in unknown.text


def test_the_list_pages_by_cursor(web, analyst):
    made = [_add(web, f"翻页{i}", "other") for i in range(PAGE_SIZE + 3)]
    first = analyst.get("/incidents", params={"q": "翻页", "category": "other"})
    assert _refs(first.text) == made[::-1][:PAGE_SIZE]
    following = html.unescape(re.search(r'<a href="([^"]+)" rel="next"', first.text).group(1))
    assert "q=%E7%BF%BB%E9%A1%B5" in following and "category=other" in following  # the filters are kept
    second = analyst.get(following)
    assert _refs(second.text) == made[::-1][PAGE_SIZE:]
    assert 'rel="next"' not in second.text and "← 第一页" in second.text


def test_create_and_the_incident_page(web, analyst):
    form = analyst.get("/incidents/new")
    assert form.status_code == 200
    created = analyst.post(
        "/incidents",
        data={
            "csrf_token": csrf_of(form.text),
            "title": "仿冒网银页面",
            "category": "phishing",
            "tlp": "GREEN",
            "assets": "http://bank-login.example.cn/index.html\n203.0.113.7",
            "partner": PARTNER,
        },
    )
    assert created.status_code == 303
    location = created.headers["location"]
    ref = unquote(location.split("/incidents/")[1].split("?")[0])
    page = analyst.get(location).text
    assert "事件已创建" in page and "仿冒网银页面" in page and ref in page
    assert "http://bank-login.example.cn/index.html" in page and "203.0.113.7" in page
    assert escape(PARTNER) in page and "created" in page  # the request and the timeline
    assert ref in _refs(analyst.get("/incidents", params={"q": "仿冒网银"}).text)
    refused = analyst.post(
        "/incidents", data={"csrf_token": csrf_of(form.text), "title": "坏类别", "category": "spam-ish"}
    )
    assert refused.status_code == 400
    assert "spam-ish" in refused.text and 'value="坏类别"' in refused.text  # what was typed is kept


def test_transitions_offered_are_the_workflows(web, analyst):
    ref = _add(web, "流转测试")
    page = analyst.get(f"/incidents/{ref}").text
    offered = re.findall(r'<option value="(\w+)">转为', page)
    assert offered == ["triaged", "rejected"]
    token, version = csrf_of(page), _version(page)
    moved = analyst.post(f"/incidents/{ref}/edit", data={"csrf_token": token, "version": version, "status": "triaged"})
    assert moved.status_code == 303
    page = analyst.get(moved.headers["location"]).text
    assert "已保存" in page and "status: new → triaged" in page
    assert re.findall(r'<option value="(\w+)">转为', page) == ["coordinating", "rejected"]
    illegal = analyst.post(
        f"/incidents/{ref}/edit", data={"csrf_token": token, "version": _version(page), "status": "resolved"}
    )
    assert illegal.status_code == 409
    assert "不能从“已研判”转为“已处置”（可转为：协调中、已驳回）" in illegal.text


def test_a_stale_form_is_refused_and_says_so(web, analyst):
    ref = _add(web, "并发修改")
    page = analyst.get(f"/incidents/{ref}").text
    token, version = csrf_of(page), _version(page)
    other = login(web, "admin")
    first = other.post(
        f"/incidents/{ref}/assign",
        data={"csrf_token": csrf_of(other.get(f"/incidents/{ref}").text), "version": version, "owner": "admin"},
    )
    assert first.status_code == 303
    stale = analyst.post(f"/incidents/{ref}/edit", data={"csrf_token": token, "version": version, "title": "覆盖"})
    assert stale.status_code == 409
    assert f"事件 {ref} 在您打开页面后已被他人修改" in stale.text
    detail = service.show_incident(_desk(web), ref)
    assert detail["title"] == "并发修改" and detail["owner"] == "admin"
    assert _version(stale.text) == detail["version"]  # the page shows the incident as it is now


def test_notes_requests_and_resolving(web, analyst):
    ref = _add(web, "协调处置")
    _advance(web, ref, "triaged", "coordinating")
    page = analyst.get(f"/incidents/{ref}").text
    token = csrf_of(page)
    noted = analyst.post(f"/incidents/{ref}/note", data={"csrf_token": token, "note": f"已电话联系{HOSTILE}\r\n第二行"})
    assert noted.status_code == 303  # a browser sends a textarea's line breaks as CRLF
    page = analyst.get(f"/incidents/{ref}").text
    sent = analyst.post(
        f"/incidents/{ref}/request",
        data={"csrf_token": token, "version": _version(page), "partner": PARTNER, "sent": "2020-01-01"},
    )
    assert sent.status_code == 400 and "before the incident was reported" in sent.text
    sent = analyst.post(
        f"/incidents/{ref}/request",
        data={"csrf_token": token, "version": _version(page), "partner": PARTNER, "sent": "now", "acknowledged": "x"},
    )
    assert sent.status_code == 400 and escape("'x' is not an ISO 8601 time") in sent.text
    sent = analyst.post(
        f"/incidents/{ref}/request",
        data={"csrf_token": token, "version": _version(page), "partner": PARTNER, "sent": "now"},
    )
    assert sent.status_code == 303
    page = analyst.get(sent.headers["location"]).text
    assert escape(f"已电话联系{HOSTILE}\n第二行") in page
    assert "协调请求已保存" in page and "request.sent_at" in page and "request.due_at" in page  # due by the SLA
    resolved = analyst.post(f"/incidents/{ref}/resolve", data={"csrf_token": token, "outcome": "taken-down"})
    assert resolved.status_code == 303
    page = analyst.get(resolved.headers["location"]).text
    assert "事件已处置完成" in page and "已下线" in page and "事件已结，状态不可再变" in page
    _no_markup(page)


def test_overdue_requests_are_marked(web, analyst):
    page = analyst.get("/incidents/INC-HOSTILE-1").text
    row = page[page.index('<table class="requests">') : page.index("</table>", page.index('<table class="requests">'))]
    assert 'class="overdue"' in row and "已逾期" in row


def test_bulk_resolve_and_assign_report_what_was_refused(web, analyst):
    ready = [_add(web, f"批量{i}") for i in range(2)]
    for ref in ready:
        _advance(web, ref, "triaged", "coordinating")
    fresh = _add(web, "批量新建")
    token = csrf_of(analyst.get("/incidents").text)
    result = analyst.post("/incidents/bulk", data={"csrf_token": token, "action": "resolve", "ref": [*ready, fresh]})
    assert result.status_code == 200
    assert (
        "已处置 2 起" in result.text
        and "未执行 1 起" in result.text
        and "不能从“新建”转为“已处置”" in result.text  # the refusal in the user's language
        and "cannot go" not in result.text
    )
    assert [service.show_incident(_desk(web), r)["status"] for r in [*ready, fresh]] == ["resolved"] * 2 + ["new"]
    assigned = analyst.post(
        "/incidents/bulk", data={"csrf_token": token, "action": "assign", "owner": "viewer", "ref": [fresh, "NO-SUCH"]}
    )
    assert "已分配 1 起给 viewer" in assigned.text and "没有编号为 NO-SUCH 的事件" in assigned.text
    assert service.show_incident(_desk(web), fresh)["owner"] == "viewer"
    nothing = analyst.post("/incidents/bulk", data={"csrf_token": token, "action": "resolve"})
    assert nothing.status_code == 400 and "请先在列表中选择事件" in nothing.text


def test_csrf_is_required_on_the_desks_forms(web, analyst):
    ref = _add(web, "无令牌")
    page = analyst.get(f"/incidents/{ref}").text
    for path, data in [
        (f"/incidents/{ref}/edit", {"version": _version(page), "title": "被篡改"}),
        (f"/incidents/{ref}/note", {"note": "x"}),
        ("/incidents", {"title": "x", "category": "other"}),
        ("/incidents/bulk", {"action": "resolve", "ref": ref}),
    ]:
        refused = analyst.post(path, data=data)
        assert refused.status_code == 403 and "表单已过期" in refused.text
    detail = service.show_incident(_desk(web), ref)
    assert detail["title"] == "无令牌" and not detail["notes"]


def test_a_viewer_sees_the_pages_but_no_forms_and_cannot_post(web):
    viewer = login(web, "viewer")
    listing = viewer.get("/incidents", params={"q": "INC-HOSTILE"}).text
    assert "INC-HOSTILE-1" in listing and 'action="/incidents/bulk"' not in listing and "新建事件" not in listing
    page = viewer.get("/incidents/INC-HOSTILE-1")
    assert page.status_code == 200 and "处置记录" in page.text
    assert "/edit" not in page.text and 'name="version"' not in page.text
    token = csrf_of(page.text)
    for path, data in [
        ("/incidents/INC-HOSTILE-1/edit", {"version": "x", "title": "viewer"}),
        ("/incidents/INC-HOSTILE-1/note", {"note": "viewer"}),
        ("/incidents", {"title": "viewer", "category": "other"}),
        ("/incidents/bulk", {"action": "assign", "owner": "viewer", "ref": "INC-HOSTILE-1"}),
    ]:
        refused = viewer.post(path, data={"csrf_token": token, **data})
        assert refused.status_code == 403 and "edit_incidents" in refused.text
    assert viewer.get("/incidents/new").status_code == 403
    assert service.show_incident(_desk(web), "INC-HOSTILE-1")["title"] != "viewer"


def test_hostile_values_show_as_text(web, analyst):
    token = csrf_of(analyst.get("/incidents/new").text)
    created = analyst.post(
        "/incidents",
        data={
            "csrf_token": token,
            "title": f"标题{HOSTILE}",
            "category": "phishing",
            "assets": 'http://evil.example.cn/?q="><script>alert(2)</script>',
            "partner": PARTNER,
            "reporter": HOSTILE,
        },
    )
    assert created.status_code == 303
    ref = unquote(created.headers["location"].split("/incidents/")[1].split("?")[0])
    page = analyst.get(f"/incidents/{ref}").text
    listing = analyst.get("/incidents", params={"q": "标题"}).text
    for text in (page, listing):
        _no_markup(text)
    assert escape(f"标题{HOSTILE}") in page and "&lt;script&gt;alert(2)&lt;/script&gt;" in page
    typed = analyst.post("/incidents", data={"csrf_token": token, "title": HOSTILE, "category": HOSTILE})
    assert typed.status_code == 400
    _no_markup(typed.text)


def test_english_labels_and_errors(web):
    accounts.add_user(open_store(web.workspace), "desk-en", "analyst", PASSWORD, lang="en")
    browser = login(web, "desk-en")
    listing = browser.get("/incidents").text
    for label in ("Incidents", "Open only", "Resolved in week", "Next page", "Owner", "New incident"):
        assert label in listing
    assert "筛选" not in listing
    ref = _add(web, "English page")
    page = browser.get(f"/incidents/{ref}").text
    assert "Timeline" in page and "Move to Triaged" in page and "Coordination requests" in page
    token = csrf_of(page)
    illegal = browser.post(
        f"/incidents/{ref}/edit", data={"csrf_token": token, "version": _version(page), "status": "resolved"}
    )
    assert f"Incident {ref} cannot go from New to Resolved (allowed: triaged, rejected)." in illegal.text
    stale = browser.post(f"/incidents/{ref}/edit", data={"csrf_token": token, "version": "0" * 20, "title": "y"})
    assert stale.status_code == 409 and "was changed by someone else" in stale.text


# -- proposals from events --------------------------------------------------------------------------

PROPOSED_WEEK = Week(2025, 1)  # far from the published week of conftest: its numbers stay as they are
# A URL holds no space: the hostile markup of an asset is written without one.
APK = 'http://dl.example.cn/app.apk?"><img/src=x/onerror=alert(1)><script>alert(2)</script>'
SPACED = "http://dl.example.cn/two words.apk"  # no incident can hold it: the proposal is refused


@pytest.fixture(scope="module")
def lake_week(web):
    """Events of 2025-W01 that the default rules propose three incidents from: an APK URL with hostile
    markup (routed to an app store by suffix), and two domestic defacements (to the region's branch);
    and an APK URL with a space, which no incident can hold."""
    desk = _desk(web)
    service.add_partner(desk, "应用市场", "app-store", actor="test", suffixes=["example.cn"])
    service.add_partner(desk, "广东分中心", "branch", actor="test", regions=["GD"])
    at = datetime(2025, 1, 2, 8, 0, tzinfo=UTC)
    apk = {"classification_taxonomy": "malicious-code", "classification_type": "malware-distribution"}
    defaced = {
        "classification_taxonomy": "information-content-security",
        "classification_type": "unauthorised-information-modification",
        "classification_identifier": "defacement",
        "domestic": True,
        "country": "CN",
        "region": "GD",
    }
    write_events(
        web.workspace,
        [
            {**apk, "time_source": at, "source_url": APK, "tlp": "AMBER"},
            {**apk, "time_source": at + timedelta(hours=1), "source_url": APK, "tlp": "AMBER"},
            *({**defaced, "time_source": at + timedelta(minutes=i), "site": "www.a.gov.cn"} for i in range(3)),
            {**defaced, "time_source": at, "site": "www.b.gov.cn"},
            {**apk, "time_source": at, "source_url": SPACED},
        ],
        name="proposals",
    )
    return str(PROPOSED_WEEK)


def _no_asset_markup(page: str) -> None:
    _no_markup(page)
    assert "<img/src" not in page


def _proposed(page: str) -> list[str]:
    return [html.unescape(r) for r in re.findall(r'name="ref" value="(P-[^"]+)"', page)]


def test_proposals_are_previewed_proposed_and_accepted_or_rejected_in_bulk(web, analyst, lake_week):
    url = f"/incidents/proposals?week={lake_week}"
    empty = analyst.get(url)
    assert empty.status_code == 200 and f"{lake_week} 没有待研判的建议事件" in empty.text
    assert "来自事件的建议" in analyst.get("/incidents").text  # the list links here

    preview = analyst.get(f"/incidents/proposals/preview?week={lake_week}")
    assert preview.status_code == 200 and "预览：共 4 条建议（未写入）" in preview.text
    assert escape(APK) in preview.text and "应用市场" in preview.text and "branch by region GD" in preview.text
    assert "1 组事件的资产无效" in preview.text and "is not a URL (it holds a space)" in preview.text
    _no_asset_markup(preview.text)
    assert service.list_proposed(_desk(web), lake_week).proposals == []  # a dry run writes nothing

    token = csrf_of(empty.text)
    ran = analyst.post("/incidents/proposals", data={"csrf_token": token, "week": lake_week})
    assert ran.status_code == 303 and "created=3" in ran.headers["location"]
    listing = analyst.get(ran.headers["location"]).text
    assert "已生成 3 起新建议事件" in listing and "1 组事件的资产无效" in listing
    _no_asset_markup(listing)
    refs = _proposed(listing)
    assert len(refs) == 3 and all(r.startswith(f"P-{lake_week}-") for r in refs)
    by_asset = {p["assets"][0]: p for p in service.list_proposed(_desk(web), lake_week).proposals}
    apk, site_a, site_b = by_asset[APK], by_asset["www.a.gov.cn"], by_asset["www.b.gov.cn"]
    assert escape(APK) in listing and (apk["partners"], apk["events"]) == (["应用市场"], 2)
    row = listing[listing.index(site_a["ref"]) : listing.index("</tr>", listing.index(site_a["ref"]))]
    assert "广东分中心" in row and '<td class="num">3</td>' in row and "网页篡改" in row
    again = analyst.post("/incidents/proposals", data={"csrf_token": token, "week": lake_week})
    assert "created=0" in again.headers["location"]  # the refs are deterministic: nothing twice

    accepted = analyst.post(
        "/incidents/proposals/decide",
        data={"csrf_token": token, "week": lake_week, "action": "accept", "ref": [apk["ref"], site_a["ref"]]},
    )
    assert accepted.status_code == 200 and "已接受 2 起" in accepted.text
    assert _proposed(accepted.text) == [site_b["ref"]]  # what is left to decide
    assert [service.show_incident(_desk(web), r)["status"] for r in (apk["ref"], site_a["ref"])] == ["triaged"] * 2

    no_reason = analyst.post(
        "/incidents/proposals/decide",
        data={"csrf_token": token, "week": lake_week, "action": "reject", "ref": site_b["ref"], "reason": " "},
    )
    assert no_reason.status_code == 400 and "驳回须填写原因" in no_reason.text
    # A stale list: one of the selection was accepted meanwhile; it is named, the other is rejected.
    rejected = analyst.post(
        "/incidents/proposals/decide",
        data={
            "csrf_token": token,
            "week": lake_week,
            "action": "reject",
            "ref": [site_a["ref"], site_b["ref"]],
            "reason": f"误报{HOSTILE}",
        },
    )
    assert rejected.status_code == 200 and "已驳回 1 起" in rejected.text and "未执行 1 起" in rejected.text
    assert "该事件已是“已研判”：只有新建的事件可以接受或驳回" in rejected.text
    _no_asset_markup(rejected.text)
    detail = service.show_incident(_desk(web), site_b["ref"])
    assert detail["status"] == "rejected" and [n["text"] for n in detail["notes"]] == [f"误报{HOSTILE}"]
    assert service.show_incident(_desk(web), site_a["ref"])["status"] == "triaged"
    # Every one already decided: a conflict, said so, never a 500.
    late = analyst.post(
        "/incidents/proposals/decide",
        data={"csrf_token": token, "week": lake_week, "action": "accept", "ref": [apk["ref"], "P-NO-SUCH"]},
        headers={"Referer": f"{web.url}{url}&after=x"},
    )
    assert late.status_code == 409 and "未执行 2 起" in late.text and "没有编号为 P-NO-SUCH 的事件" in late.text
    # Switching the language on the answer to a form goes back to the page the form was on.
    assert f'name="next" value="{escape(url)}&amp;after=x"' in late.text
    assert analyst.get("/incidents/proposals?week=2025-W99").status_code == 400


def test_a_viewer_sees_proposals_but_cannot_propose_or_decide(web, lake_week):
    viewer = login(web, "viewer")
    page = viewer.get(f"/incidents/proposals?week={lake_week}")
    assert page.status_code == 200 and "/incidents/proposals/decide" not in page.text
    assert 'method="post" action="/incidents/proposals"' not in page.text and "预览" not in page.text
    assert viewer.get(f"/incidents/proposals/preview?week={lake_week}").status_code == 403
    token = csrf_of(page.text)
    pending = [p["ref"] for p in service.list_proposed(_desk(web), lake_week).proposals]
    for path, data in [
        ("/incidents/proposals", {"week": lake_week}),
        ("/incidents/proposals/decide", {"week": lake_week, "action": "accept", "ref": pending}),
    ]:
        refused = viewer.post(path, data={"csrf_token": token, **data})
        assert refused.status_code == 403 and "edit_incidents" in refused.text
    assert [p["ref"] for p in service.list_proposed(_desk(web), lake_week).proposals] == pending


def test_the_proposal_forms_need_their_csrf_token(web, analyst, lake_week):
    pending = [p["ref"] for p in service.list_proposed(_desk(web), lake_week).proposals]
    for path, data in [
        ("/incidents/proposals", {"week": lake_week}),
        ("/incidents/proposals/decide", {"week": lake_week, "action": "reject", "ref": pending, "reason": "x"}),
    ]:
        refused = analyst.post(path, data=data)
        assert refused.status_code == 403 and "表单已过期" in refused.text
    assert [p["ref"] for p in service.list_proposed(_desk(web), lake_week).proposals] == pending


# -- the incidents behind a number ------------------------------------------------------------------


def _behind(browser, link: str) -> list[str]:
    """The refs the incidents-behind pages list, following their next links."""
    refs: list[str] = []
    while link:
        page = browser.get(link)
        assert page.status_code == 200, page.text
        _no_markup(page.text)
        refs += _refs(page.text)
        found = re.search(r'<a href="([^"]+)" rel="next"', page.text)
        link = html.unescape(found.group(1)) if found else ""
    return refs


def test_an_incident_number_links_to_exactly_the_incidents_behind_it(web, analyst):
    published = str(web.week)
    dashboard = analyst.get("/", params={"week": published}).text
    assert f'<a href="/incidents/behind?week={published}&amp;number=handled">1</a>' in dashboard
    page = analyst.get("/incidents/behind", params={"week": published, "number": "handled"})
    assert "已发布周报冻结的 1 起事件" in page.text and escape(f"已处理{HOSTILE}") in page.text
    assert _behind(analyst, f"/incidents/behind?week={published}&number=handled") == ["INC-HOSTILE-2"]
    assert _behind(analyst, f"/incidents/behind?week={published}&number=cross_border") == []

    # The draft week: the incidents the number counts now, in the report's order.
    draft = web.week + 2
    resolved = _add(web, f"草稿周{HOSTILE}")
    _advance(web, resolved, "triaged", "coordinating", "resolved")
    stats = service.incident_stats(_desk(web), str(draft))
    assert resolved in stats["incidents"]
    for number in ("handled", "phishing"):
        value = stats[number]
        link = f'<a href="/incidents/behind?week={draft}&amp;number={number}">{value}</a>'
        assert link in analyst.get("/", params={"week": str(draft)}).text
    assert _behind(analyst, f"/incidents/behind?week={draft}&number=handled") == stats["incidents"]
    pages, after = [], None
    while True:  # the core pages a ref at a time through the same refs
        found = incidents_behind(web.workspace, draft, "handled", limit=1, after=after)
        pages += found.refs
        if not (after := found.next_after):
            break
    assert pages == stats["incidents"] and not found.frozen

    unknown = analyst.get("/incidents/behind", params={"week": published, "number": HOSTILE})
    assert unknown.status_code == 400 and "no incident number" in unknown.text
    _no_markup(unknown.text)
    stale = analyst.get("/incidents/behind", params={"week": published, "number": "handled", "after": "INC-NONE"})
    assert stale.status_code == 400 and "INC-NONE" in stale.text
    assert analyst.get("/incidents/behind", params={"week": "2025-W99", "number": "handled"}).status_code == 400
