"""The report workspace through HTTP: the weeks, a week's preview, check, narrative, publishing and
downloads; each role's rights, CSRF, hostile narrative text shown as text everywhere, and bad weeks
answered with 400/404 rather than a server error."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from report.data import WEEK, build_workspace
from sitrep.accounts import service as accounts
from sitrep.incidents.db import open_store
from sitrep.report.archive import load_issue
from sitrep.report.narrative import Text, load_narrative, save_narrative
from sitrep.report.publish import render_week
from sitrep.web.app import create_app
from sitrep.weeks import Week

from .conftest import HOSTILE, PASSWORD, ROLES, RunningDesk, client, csrf_of, login
from .serving import serve

DRAFT = WEEK - 1  # never published here: the narrative and downloads of a draft
EMPTY = WEEK + 20  # no event and no incident: the check refuses it
VERSION = re.compile(r'name="version" value="([0-9a-f]+)"')


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDesk]:
    ws = build_workspace(Path(tmp_path_factory.mktemp("reports")) / "ws")
    store = open_store(ws)
    for role in ROLES:
        accounts.add_user(store, role, role, PASSWORD)
    with serve(create_app(ws)) as url:
        yield RunningDesk(url, ws, WEEK)


def _no_markup(text: str) -> None:
    assert "<img src=x" not in text and "<script>alert" not in text and "Traceback" not in text


def _save(browser, week, **fields: str):
    page = browser.get(f"/reports/{week}").text
    data = {"csrf_token": csrf_of(page), "version": VERSION.search(page).group(1), **fields}
    return browser.post(f"/reports/{week}/narrative", data=data)


def _table(document: str) -> str:
    """The key-indicator table of a rendered edition."""
    return document[document.index("<table>") : document.index("</table>")]


def _state(desk) -> tuple[int | None, str]:
    """The revision of the week's issue and the version of its narrative."""
    issue = load_issue(desk.workspace, WEEK)
    return (issue.revision if issue else None, load_narrative(desk.workspace, WEEK).version)


def test_each_role_sees_what_it_may_do(desk):
    before = _state(desk)
    assert (
        client(desk)
        .get(f"/reports/{WEEK}", headers={"accept": "text/html"})
        .headers["location"]
        .startswith("/login?next=/reports/")
    )
    forms = {}
    for role in ("viewer", "analyst", "publisher"):
        browser = login(desk, role)
        listing = browser.get("/reports")
        assert listing.status_code == 200 and "周报工作台" in listing.text
        page = browser.get(f"/reports/{WEEK}").text
        forms[role] = tuple(
            f'action="{path}"' in page
            for path in (f"/reports/{WEEK}/narrative", f"/reports/{WEEK}/publish", "/jobs/render")
        )
    assert forms == {"viewer": (False, False, False), "analyst": (True, False, True), "publisher": (True, True, True)}

    viewer, analyst = login(desk, "viewer"), login(desk, "analyst")
    token = csrf_of(viewer.get("/reports").text)
    refused = viewer.post(f"/reports/{WEEK}/narrative", data={"csrf_token": token, "summary_zh": "x"})
    assert refused.status_code == 403 and "edit_report" in refused.text
    token = csrf_of(analyst.get("/reports").text)
    for action in ("publish", "unpublish"):
        refused = analyst.post(f"/reports/{WEEK}/{action}", data={"csrf_token": token, "reason": "x"})
        assert refused.status_code == 403 and "publish" in refused.text
    assert _state(desk) == before


def test_forms_without_the_csrf_token_change_nothing(desk):
    before = _state(desk)
    publisher = login(desk, "publisher")
    page = publisher.get(f"/reports/{WEEK}").text
    version = VERSION.search(page).group(1)
    for path, data in (
        ("narrative", {"version": version, "summary_zh": "伪造"}),
        ("publish", {"force_reason": "forged"}),
        ("unpublish", {"reason": "forged"}),
    ):
        for token in ({}, {"csrf_token": "forged"}):
            answer = publisher.post(f"/reports/{WEEK}/{path}", data={**data, **token})
            assert answer.status_code == 403 and "表单已过期" in answer.text
    assert _state(desk) == before


def test_a_hostile_narrative_is_text_on_the_page_in_the_preview_and_in_every_format(desk):
    analyst = login(desk, "analyst")
    before = analyst.get(f"/reports/{DRAFT}/report.zh.html").text
    saved = _save(
        analyst,
        DRAFT,
        summary_zh=f"摘要{HOSTILE}",
        highlights_zh=f"要点{HOSTILE}\n\n第二条",
        summary_en=f"Sum{HOSTILE}",
    )
    assert saved.status_code == 303 and saved.headers["location"] == f"/reports/{DRAFT}?done=saved"
    escaped = html.escape(HOSTILE)
    for role in ("analyst", "viewer"):
        page = login(desk, role).get(saved.headers["location"]).text
        _no_markup(page)
        assert f"摘要{escaped}" in page.replace("&#34;", "&quot;").replace("&#39;", "&#x27;")
        assert "analyst" in page  # who wrote it
    assert "叙述已保存" in analyst.get(saved.headers["location"]).text

    preview = analyst.get(f"/reports/{DRAFT}/report.zh.html")
    _no_markup(preview.text)
    assert "摘要&#34;&gt;&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in preview.text
    assert "本周要点" in preview.text and "<li>第二条</li>" in preview.text
    assert _table(preview.text) == _table(before)  # the narrative changes no number

    render_week(desk.workspace, DRAFT, langs=["zh"])
    render_week(desk.workspace, DRAFT, langs=["en"], formats=["md"])
    # A link planted where a rendered file belongs is neither listed nor served.
    (desk.workspace.reports_dir / str(DRAFT) / "report.en.pdf").symlink_to(desk.workspace.root / "sitrep.toml")
    assert analyst.get(f"/reports/{DRAFT}/files/report.en.pdf").status_code == 404
    page = analyst.get(f"/reports/{DRAFT}").text
    links = re.findall(rf'href="(/reports/{DRAFT}/files/[^"]+)"', page)
    assert len(links) == 6 and f"/reports/{DRAFT}/files/report.en.md" in links
    assert "尚未生成：" in page  # English HTML, PDF, JSON and WeChat are missing
    types = {
        "html": "text/html",
        "wechat": "text/html",
        "pdf": "application/pdf",
        "md": "text/markdown",
        "json": "application/json",
    }
    for link in links:
        got = analyst.get(link)
        name = link.rsplit("/", 1)[1]
        assert got.status_code == 200
        assert got.headers["content-type"].startswith(types[name.split(".")[2]])
        assert got.headers["content-disposition"] == f'attachment; filename="{DRAFT}-{name}"'
        assert got.headers["content-security-policy"].startswith("sandbox")
        if name.endswith(".pdf"):
            assert got.content.startswith(b"%PDF")
            if shutil.which("pdftotext"):
                pdf = subprocess.run(["pdftotext", "-", "-"], input=got.content, capture_output=True, check=True)
                assert "要点" in pdf.stdout.decode("utf-8")
        elif name.endswith(".json"):
            assert json.loads(got.text)["sections"][0]["highlights"] == [f"要点{HOSTILE}", "第二条"]
        else:
            # Markdown is checked as a CommonMark viewer shows it (its escapes are backslashes).
            _no_markup(MarkdownIt("commonmark").render(got.text) if name.endswith(".md") else got.text)
            assert "onerror=alert(1)" in got.text  # the text is there, inert


def test_publishing_from_the_browser_and_the_public_archive(desk):
    analyst, publisher, visitor = login(desk, "analyst"), login(desk, "publisher"), client(desk)
    assert _save(analyst, WEEK, summary_zh="首次发布的摘要", highlights_zh="首次要点").status_code == 303
    page = publisher.get(f"/reports/{WEEK}").text
    published = publisher.post(f"/reports/{WEEK}/publish", data={"csrf_token": csrf_of(page)})
    assert published.headers["location"] == f"/reports/{WEEK}?done=published"
    page = publisher.get(published.headers["location"]).text
    assert "已发布。" in page and "第 1 版" in page and f'href="/archive/{WEEK}/report.zh.html"' in page
    assert f'href="{WEEK}/report.zh.html"' in visitor.get("/archive/").text
    assert "首次发布的摘要" in visitor.get(f"/archive/{WEEK}/report.zh.html").text

    assert _save(analyst, WEEK, summary_zh="修改后的摘要", highlights_zh="首次要点").status_code == 303
    page = publisher.get(f"/reports/{WEEK}").text
    assert "重新发布（刷新）后才会进入" in page
    assert "首次发布的摘要" in visitor.get(f"/archive/{WEEK}/report.zh.html").text  # frozen until refreshed
    refreshed = publisher.post(f"/reports/{WEEK}/publish", data={"csrf_token": csrf_of(page)})
    assert refreshed.headers["location"] == f"/reports/{WEEK}?done=refreshed"
    page = publisher.get(refreshed.headers["location"]).text
    assert "第 2 版" in page and "0 处数字或编号变化，1 处叙述变化" in page
    assert "修改后的摘要" in visitor.get(f"/archive/{WEEK}/report.zh.html").text
    again = publisher.post(f"/reports/{WEEK}/publish", data={"csrf_token": csrf_of(page)})
    assert again.headers["location"].endswith("done=unchanged")

    no_reason = publisher.post(f"/reports/{WEEK}/unpublish", data={"csrf_token": csrf_of(page), "reason": " "})
    assert no_reason.status_code == 400 and "the reason is empty" in no_reason.text
    withdrawn = publisher.post(f"/reports/{WEEK}/unpublish", data={"csrf_token": csrf_of(page), "reason": "数字有误"})
    assert withdrawn.headers["location"].endswith("done=withdrawn")
    assert "数字有误" in visitor.get("/archive/").text
    page = publisher.get(f"/reports/{WEEK}").text
    assert "已撤回" in page and "再次发布" in page
    republished = publisher.post(f"/reports/{WEEK}/publish", data={"csrf_token": csrf_of(page)})
    assert republished.headers["location"].endswith("done=republished")
    assert load_issue(desk.workspace, WEEK).revision == 3


def test_a_refused_publication_shows_its_reasons_and_can_be_forced(desk):
    publisher = login(desk, "publisher")
    page = publisher.get(f"/reports/{EMPTY}").text
    assert "no event in the lake" in page  # the check's finding, before trying
    refused = publisher.post(f"/reports/{EMPTY}/publish", data={"csrf_token": csrf_of(page)})
    assert refused.status_code == 409
    assert "未发布：" in refused.text and f"no event in the lake and no incident handled in {EMPTY}" in refused.text
    assert "请填写理由后再次提交" in refused.text
    assert load_issue(desk.workspace, EMPTY) is None
    assert f"{EMPTY}/report.zh.html" not in client(desk).get("/archive/").text
    forced = publisher.post(
        f"/reports/{EMPTY}/publish", data={"csrf_token": csrf_of(page), "force_reason": "演练：空白周"}
    )
    assert forced.headers["location"].endswith("done=published")
    assert "强制：演练：空白周" in publisher.get(f"/reports/{EMPTY}").text
    future = publisher.post("/reports/2099-W01/publish", data={"csrf_token": csrf_of(page), "force_reason": "x"})
    assert future.status_code == 409 and "本周尚未开始，不能发布" in future.text


def test_a_stale_or_invalid_narrative_is_refused_on_the_page(desk):
    analyst = login(desk, "analyst")
    page = analyst.get(f"/reports/{DRAFT}").text
    token, version = csrf_of(page), VERSION.search(page).group(1)
    assert _save(analyst, DRAFT, summary_zh="先保存的").status_code == 303
    stale = analyst.post(
        f"/reports/{DRAFT}/narrative", data={"csrf_token": token, "version": version, "summary_zh": "后保存的"}
    )
    assert stale.status_code == 409 and "changed by analyst meanwhile" in stale.text and "后保存的" in stale.text
    too_long = _save(analyst, DRAFT, summary_en="x" * 1501)
    assert too_long.status_code == 400 and "the en summary is 1501 characters long" in too_long.text
    assert load_narrative(desk.workspace, DRAFT).text("zh").summary == "先保存的"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/reports/2025-W99", 400),
        ("/reports/not-a-week", 400),
        ("/reports/2025-w01", 404),
        ("/reports/2025-W01?lang=fr", 400),
        ("/reports?week=2025-W60", 400),
        ("/reports/2025-W99/report.zh.html", 400),
        ("/reports/2025-W01/report.fr.html", 404),
        ("/reports/2025-W01/files/sitrep.toml", 404),
        ("/reports/2025-W01/files/..%2F..%2Fsitrep.toml", 404),
        ("/reports/2025-W01/files/report.zh.docx", 404),
    ],
)
def test_bad_weeks_and_names_are_a_clear_answer_not_a_server_error(desk, path, status):
    answer = login(desk, "viewer").get(path)
    assert answer.status_code == status and "Traceback" not in answer.text
    if status == 400:
        assert "请求无效" in answer.text


def test_a_damaged_narrative_file_is_named_not_a_server_error(desk):
    week = WEEK - 3
    path = desk.workspace.reports_dir / "narrative" / f"{week}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{damaged", encoding="utf-8")
    try:
        viewer = login(desk, "viewer")
        for url in (f"/reports/{week}", f"/reports/{week}/report.zh.html"):
            answer = viewer.get(url)
            assert answer.status_code == 409 and "not a readable narrative" in answer.text
        assert "文件已损坏" in viewer.get("/reports").text
    finally:
        path.unlink()


def test_a_bad_week_in_a_form_is_refused(desk):
    publisher = login(desk, "publisher")
    token = csrf_of(publisher.get("/reports").text)
    for action in ("narrative", "publish", "unpublish"):
        answer = publisher.post(f"/reports/2025-W99/{action}", data={"csrf_token": token, "reason": "x"})
        assert answer.status_code == 400 and "2025 has ISO weeks 1 to 52" in answer.text


def test_the_preview_is_framed_by_the_desk_only_and_runs_no_script(desk):
    viewer = login(desk, "viewer")
    page = viewer.get(f"/reports/{DRAFT}?lang=en")
    assert "frame-src 'self'" in page.headers["content-security-policy"]
    assert f'<iframe class="preview" sandbox="allow-same-origin" src="/reports/{DRAFT}/report.en.html"' in page.text
    preview = viewer.get(f"/reports/{DRAFT}/report.en.html")
    policy = preview.headers["content-security-policy"]
    assert "script-src" not in policy and "default-src 'none'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'self'; sandbox allow-same-origin" in policy
    assert preview.headers["x-frame-options"] == "SAMEORIGIN" and 'lang="en"' in preview.text
    assert 'href="report.zh.html"' in preview.text  # the other language, inside the workspace


def test_the_list_shows_states_and_the_nav_and_dashboard_link_here(desk):
    old = WEEK - 5
    save_narrative(desk.workspace, old, {"en": Text("an old week")}, author="test")
    viewer = login(desk, "viewer")
    listing = viewer.get("/reports").text
    assert 'href="/reports">周报工作台</a>' in listing
    # The recent weeks up to the current one, and the weeks published or with a narrative, however old.
    current = Week.of(datetime.now(desk.workspace.timezone).date())
    rows = re.findall(r'<td><a href="/reports/([^"]+)">', listing)
    assert rows[0] == str(current) and len(rows) >= 13 and rows == sorted(rows, reverse=True)
    assert str(old) in rows and str(old - 1) not in rows
    assert viewer.get("/reports", params={"week": "2025W1"}).headers["location"] == "/reports/2025-W01"
    dashboard = viewer.get("/", params={"week": str(WEEK)}).text
    assert f'href="/reports/{WEEK}"' in dashboard
