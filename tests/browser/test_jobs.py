"""Uploading a feed file in a real browser: the job's page follows the ingest by htmx polling under
the desk's Content-Security-Policy, and ends with the summary; a hostile file name stays text."""

from __future__ import annotations

from pathlib import Path

from helpers import SAMPLES
from sitrep.lake.ingest import ingest_paths
from sitrep.workspace import init_workspace
from web.conftest import PASSWORD

from .test_end_to_end import _watch

ZONEH = SAMPLES / "zoneh-defacements.csv"
HOSTILE_NAME = "<img src=x onerror=alert(1)>.csv"


def test_an_upload_is_followed_to_its_summary(web, browser, tmp_path: Path):
    expected = ingest_paths(init_workspace(tmp_path / "other"), [ZONEH])[0]
    problems: list[str] = []
    page = browser.new_context().new_page()
    _watch(page, problems)
    page.goto(f"{web.url}/login")
    page.fill("input[name=name]", "publisher")
    page.fill("input[name=password]", PASSWORD)
    page.click("form:not(.inline) button[type=submit]")
    page.wait_for_url(f"{web.url}/")
    page.click("header a[href='/feeds/upload']")
    page.set_input_files(
        "input[type=file]", files=[{"name": HOSTILE_NAME, "mimeType": "text/csv", "buffer": ZONEH.read_bytes()}]
    )
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{web.url}/jobs/*")
    # The fragment is swapped in by htmx until the job has ended; the last one polls no more.
    page.wait_for_selector("#job:not([hx-trigger]) table.ingest", timeout=120_000)
    row = page.inner_text("#job table.ingest tbody tr")
    for number in (expected.read, expected.accepted, expected.duplicates, expected.rejected):
        assert f"{number:,}" in row
    assert HOSTILE_NAME in page.inner_text("h1")
    assert page.locator("main img").count() == 0
    assert problems == []
