"""One walk through the desk in a real browser: logged out to the login page, log in, the dashboard
in Chinese then English, the ledger and the explorer, the public archive without logging in; a
hostile incident title and partner name are text (no dialog, no injected element), and no page logs
a console error or a Content-Security-Policy violation."""

from __future__ import annotations

from typing import Any

from web.conftest import HOSTILE, PASSWORD


def _watch(page: Any, problems: list[str]) -> None:
    """Record every dialog, console error (CSP violations are reported there), uncaught error and
    failed file of a page (a page itself may answer 400: a refused search is shown on it)."""

    def dialog(d: Any) -> None:
        problems.append(f"dialog on {page.url}: {d.message}")
        d.dismiss()

    def console(message: Any) -> None:
        # A failed load is also a response, checked below with its URL; anything else is a problem.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(f"console on {page.url}: {message.text}")

    def response(r: Any) -> None:
        if r.status >= 400 and r.request.resource_type != "document":
            problems.append(f"{r.status} for {r.url} on {page.url}")

    page.on("dialog", dialog)
    page.on("console", console)
    page.on("pageerror", lambda e: problems.append(f"page error on {page.url}: {e}"))
    page.on("response", response)


def test_a_user_walks_through_the_desk(web, browser):
    problems: list[str] = []
    context = browser.new_context()
    page = context.new_page()
    _watch(page, problems)

    page.goto(f"{web.url}/")
    assert page.url == f"{web.url}/login?next=/"  # logged out: sent to the login page
    page.fill("input[name=name]", "analyst")
    page.fill("input[name=password]", PASSWORD)
    page.click("form:not(.inline) button[type=submit]")
    page.wait_for_url(f"{web.url}/")
    assert page.get_attribute("html", "lang") == "zh-CN"
    assert "态势总览" in page.inner_text("h1")
    body = page.inner_text("main")
    assert f"仿冒{HOSTILE}" in body and f"阿里云{HOSTILE}" in body  # the overdue request, as text
    assert page.locator("main img").count() == 0 and page.locator("main script").count() == 0

    page.click("button:has-text('English')")
    page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == "en"
    assert "Open incidents by status" in page.inner_text("main")

    page.click("header a[href='/ledger']")
    assert "Coordination ledger" in page.inner_text("h1")
    assert f"阿里云{HOSTILE}" in page.inner_text("main") and page.locator("main img").count() == 0
    page.click("header a[href='/events']")
    page.fill("input[name=ip]", "10.0.0.0/33")
    page.click("form.search button[type=submit]")
    assert "is not an IP address" in page.inner_text("p.error")

    visitor = browser.new_context()
    anonymous = visitor.new_page()
    _watch(anonymous, problems)
    anonymous.goto(f"{web.url}/archive/")
    assert anonymous.locator(f"a[href*='{web.week}/report.zh.html']").count() == 1  # the published issue
    anonymous.goto(f"{web.url}/")
    assert anonymous.url.startswith(f"{web.url}/login")

    context.close()
    visitor.close()
    assert problems == []


def test_a_publisher_publishes_the_week_and_finds_it_in_the_public_archive(web, browser):
    week = web.week + 1  # the last complete week: not published, and without data
    problems: list[str] = []
    context = browser.new_context()
    page = context.new_page()
    _watch(page, problems)
    page.goto(f"{web.url}/login?next=/reports")
    page.fill("input[name=name]", "publisher")
    page.fill("input[name=password]", PASSWORD)
    page.click("form:not(.inline) button[type=submit]")
    page.wait_for_url(f"{web.url}/reports")
    page.click(f"a[href='/reports/{week}']")
    assert page.frame_locator("iframe.preview").locator("h1").inner_text().startswith("网络安全信息与动态周报")

    page.fill("textarea[name=summary_zh]", f"本周摘要{HOSTILE}")
    page.click("form.narrative-form button[type=submit]")
    assert "叙述已保存" in page.inner_text("p.done")
    assert page.locator("main img").count() == 0 and page.locator("main script").count() == 0

    page.click("form.publish button[type=submit]")  # refused: the week has no data
    assert "no event in the lake" in page.inner_text("div.refused")
    page.fill("form.publish input[name=force_reason]", "演练：没有数据的一周")
    page.click("form.publish button[type=submit]")
    assert "已发布" in page.inner_text("p.done")

    visitor = browser.new_context()
    anonymous = visitor.new_page()
    _watch(anonymous, problems)
    anonymous.goto(f"{web.url}/archive/")
    anonymous.click(f"a[href$='{week}/report.zh.html']")
    assert f"本周摘要{HOSTILE}" in anonymous.inner_text("section#overview")  # frozen with the issue, as text
    assert anonymous.locator("img").count() == 0

    context.close()
    visitor.close()
    assert problems == []
