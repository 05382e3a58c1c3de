"""The web desk through HTTP as a browser uses it: login, sessions, CSRF, roles, headers, escaping."""

from __future__ import annotations

import re

import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute

from sitrep.accounts.roles import Action
from sitrep.web.app import ROUTERS
from sitrep.web.auth import check_routes, route_action
from sitrep.web.security import document_csp

from .conftest import HOSTILE, PASSWORD, client, csrf_of, login

HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


def _no_hostile_markup(text: str) -> None:
    assert "<img src=x" not in text and "<script>alert" not in text
    assert "Traceback" not in text


def test_logged_out_users_are_sent_to_login_and_back(web):
    browser = client(web)
    response = browser.get("/?week=2025-W01", headers={"accept": "text/html"})
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/%3Fweek%3D2025-W01"
    login_page = browser.get(response.headers["location"])
    assert 'name="next" value="/?week=2025-W01"' in login_page.text
    assert browser.get("/", headers={"accept": "application/json"}).status_code == 401


def test_login_dashboard_logout(web):
    browser = login(web, "Viewer")
    cookie = next(c for c in browser.cookies.jar if c.name == "sitrep_session")
    assert cookie.has_nonstandard_attr("HttpOnly") and not cookie.secure
    page = browser.get("/")
    assert page.status_code == 200
    assert f"{web.week + 1} 态势总览" in page.text  # the last complete week
    assert "viewer" in page.text and "未结事件" in page.text
    token = csrf_of(page.text)
    assert browser.post("/logout", data={"csrf_token": token}).status_code == 303
    assert browser.get("/").status_code == 303  # the session ended with the logout …
    stale = client(web)
    stale.cookies.set("sitrep_session", cookie.value)
    assert stale.get("/").status_code == 303  # … for every copy of the cookie


def test_a_wrong_password_or_unknown_user_is_refused_alike(web):
    browser = client(web)
    token = csrf_of(browser.get("/login").text)
    wrong = browser.post("/login", data={"name": "viewer", "password": "nope nope nope", "csrf_token": token})
    unknown = browser.post("/login", data={"name": "nobody", "password": "nope nope nope", "csrf_token": token})
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "用户名或密码错误" in response.text
        assert "sitrep_session" not in response.headers.get("set-cookie", "")


def test_the_login_is_rate_limited_per_user(web):
    browser = client(web)
    token = csrf_of(browser.get("/login").text)
    statuses = [
        browser.post(
            "/login", data={"name": "publisher", "password": "wrong password", "csrf_token": token}
        ).status_code
        for _ in range(6)
    ]
    assert statuses == [401] * 5 + [429]
    limited = browser.post("/login", data={"name": "publisher", "password": PASSWORD, "csrf_token": token})
    assert limited.status_code == 429  # even the right password waits: nothing is checked
    assert int(limited.headers["retry-after"]) > 0
    assert "秒后重试" in limited.text
    login(web, "admin")  # the limit is per name: another user still logs in from the same address


def test_csrf_is_required_on_every_unsafe_request(web):
    browser = login(web, "analyst")
    token = csrf_of(browser.get("/").text)
    for data in ({}, {"csrf_token": "forged"}, {"csrf_token": token[:-2] + "xx"}):
        response = browser.post("/language", data={"lang": "en", **data})
        assert response.status_code == 403
        assert "表单已过期" in response.text
    other = login(web, "viewer")
    stolen = csrf_of(other.get("/").text)  # another browser's token is not this one's
    assert browser.post("/logout", data={"csrf_token": stolen}).status_code == 403
    assert browser.post("/language", headers={"X-CSRF-Token": token}, data={"lang": "zh"}).status_code == 303
    anonymous = client(web)
    assert anonymous.post("/login", data={"name": "viewer", "password": PASSWORD}).status_code == 403


def test_a_viewer_is_refused_what_the_role_table_refuses(web):
    refused = login(web, "viewer").get("/probe/edit")
    assert refused.status_code == 403
    assert "viewer" in refused.text and "edit_incidents" in refused.text
    assert login(web, "analyst").get("/probe/edit").json() == {"ok": True}


def test_every_route_declares_its_action():
    routes = [r for router in ROUTERS for r in router.routes]
    assert len(routes) > 8 and all(isinstance(r, APIRoute) and route_action(r) for r in routes)
    assert route_action(next(r for r in routes if r.path == "/")) is Action.VIEW
    assert route_action(next(r for r in routes if r.path == "/archive/")) == "public"
    undeclared = APIRouter()
    undeclared.get("/undeclared")(lambda: None)
    with pytest.raises(RuntimeError, match="/undeclared"):
        check_routes([*ROUTERS, undeclared])


@pytest.mark.parametrize("path", ["/login", "/", "/archive/", "/nope", "/static/sitrep.css"])
def test_security_headers_on_every_response(web, path):
    response = login(web, "viewer").get(path)
    for name, value in HEADERS.items():
        assert response.headers[name] == value
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert "strict-transport-security" not in response.headers  # plain HTTP


def test_https_behind_a_proxy_gets_secure_cookies_and_hsts(web):
    browser = client(web)
    response = browser.get("/login", headers={"x-forwarded-proto": "https"})
    assert "secure" in response.headers["set-cookie"].lower()
    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_hostile_values_are_shown_as_text(web):
    browser = login(web, "analyst")
    page = browser.get("/")
    assert page.status_code == 200
    _no_hostile_markup(page.text)
    assert "仿冒&#34;&gt;&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;" in page.text  # the overdue request
    assert "阿里云&#34;&gt;&lt;img" in page.text
    anonymous = client(web)
    token = csrf_of(anonymous.get("/login").text)
    echoed = anonymous.post("/login", data={"name": HOSTILE, "password": "x" * 12, "csrf_token": token})
    _no_hostile_markup(echoed.text)
    assert anonymous.get("/login", params={"next": "//evil.example/"}).text.count('value="/"') == 1


def test_the_public_archive_needs_no_login(web):
    visitor = client(web)
    index = visitor.get("/archive/")
    assert index.status_code == 200 and str(web.week) in index.text
    assert index.headers["cache-control"].startswith("public")
    feed = visitor.get("/archive/feed.xml")
    assert feed.headers["content-type"].startswith("application/atom+xml")
    assert f"{web.week}/report.zh.html" in feed.text
    feed_en = visitor.get("/archive/feed.en.xml")
    assert 'xml:lang="en"' in feed_en.text and f"{web.week}/report.en.html" in feed_en.text
    pdf = visitor.get(f"/archive/{web.week}/report.en.pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    issue = visitor.get(f"/archive/{web.week}/report.en.html")
    assert issue.status_code == 200
    _no_hostile_markup(issue.text)
    policy = issue.headers["content-security-policy"]
    assert "script-src" not in policy and "default-src 'none'" in policy and "unsafe-inline" not in policy
    assert policy == document_csp(issue.text)
    assert visitor.get(f"/archive/{web.week + 5}/report.zh.html").status_code == 404
    assert visitor.get("/archive/2025-W99/report.zh.html").status_code == 404


def test_document_csp_allows_exactly_the_styles_of_the_page():
    policy = document_csp('<style>p{color:red}</style><p style="fill: #fff">x</p><p style="fill: #fff">y</p>')
    assert policy.count("'sha256-") == 2 and "'unsafe-hashes'" in policy
    assert "'sha256-" not in document_csp("<p>plain</p>") and "style-src 'none'" in document_csp("<p>plain</p>")


def test_static_files_are_cached_by_version_and_the_font_is_the_installed_one(web):
    browser = client(web)
    page = browser.get("/login").text
    css = re.search(r'href="(/static/sitrep\.css\?v=[0-9a-f]+)"', page).group(1)
    response = browser.get(css)
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert browser.get(css, headers={"if-none-match": response.headers["etag"]}).status_code == 304
    font = browser.get("/static/fonts/NotoSansSC-Regular.otf")
    assert font.status_code == 200 and font.content[:4] == b"OTTO"
    js = browser.get(re.search(r'src="(/static/htmx\.min\.js\?v=[0-9a-f]+)"', page).group(1))
    assert js.headers["content-type"].startswith("text/javascript") and b"htmx" in js.content[:2000]
    assert browser.get("/static/../sitrep.toml").status_code == 404


def test_the_interface_language_follows_the_user(web):
    browser = login(web, "admin")
    token = csrf_of(browser.get("/").text)
    assert browser.post("/language", data={"lang": "en", "next": "/", "csrf_token": token}).status_code == 303
    page = browser.get("/")
    assert "Open incidents by status" in page.text and 'lang="en"' in page.text
    browser.post("/language", data={"lang": "zh", "next": "/", "csrf_token": token})
    assert "未结事件" in browser.get("/").text


def test_bad_parameters_are_a_clear_page_not_a_traceback(web):
    browser = login(web, "viewer")
    bad = browser.get("/", params={"week": "2025-W99"})
    assert bad.status_code == 400 and "2025" in bad.text
    _no_hostile_markup(bad.text)


def test_the_favicon_is_an_empty_answer_not_a_404(web):
    answer = client(web).get("/favicon.ico")
    assert answer.status_code == 204 and "max-age" in answer.headers["cache-control"]
