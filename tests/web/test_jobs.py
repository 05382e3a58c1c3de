"""Uploading a feed file and rendering a week through the real app under Uvicorn: who may, CSRF,
the size cap, hostile file names, a file no format reads, the progress fragment, and a render that
writes every file."""

from __future__ import annotations

import gzip
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from markupsafe import escape

from helpers import SAMPLES
from sitrep.accounts import service as accounts
from sitrep.config import load_workspace
from sitrep.incidents.db import open_store
from sitrep.jobs.model import JobState, RenderRequest
from sitrep.jobs.store import Runner, get_job, recent_jobs, record_job
from sitrep.jobs.uploads import uploads_dir
from sitrep.lake.ingest import ingest_paths
from sitrep.report.render import FORMATS, file_name
from sitrep.report.wording import LANGS
from sitrep.web.app import create_app
from sitrep.workspace import init_workspace

from .conftest import PASSWORD, RunningDesk, client, csrf_of, login
from .serving import serve

ZONEH = SAMPLES / "zoneh-defacements.csv"
MB = 1 << 20


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDesk]:
    """A desk whose uploads may be 1 MB at most."""
    root = init_workspace(Path(tmp_path_factory.mktemp("jobs")) / "ws").root
    config = root / "sitrep.toml"
    config.write_text(config.read_text().replace("max_upload_mb = 200", "max_upload_mb = 1"))
    ws = load_workspace(root)
    assert ws.settings.jobs.max_upload_mb == 1
    for role in ("analyst", "viewer"):
        accounts.add_user(open_store(ws), role, role, PASSWORD)
    with serve(create_app(ws)) as url:
        yield RunningDesk(url, ws, None)  # type: ignore[arg-type]


def _upload(
    browser: httpx.Client, name: str, content: bytes, *, token: str | None = "", fmt: str = ""
) -> httpx.Response:
    token = csrf_of(browser.get("/feeds/upload").text) if token == "" else token
    fields = {"format": fmt} | ({"csrf_token": token} if token is not None else {})
    return browser.post("/feeds/upload", data=fields, files={"file": (name, content, "text/csv")})


def _finished(browser: httpx.Client, location: str) -> str:
    """The job's fragment once the job has ended (polled as the page does)."""
    deadline = time.monotonic() + 120
    while True:
        fragment = browser.get(f"{location}/progress")
        assert fragment.status_code == 200, fragment.text
        if 'hx-trigger="every 1s"' not in fragment.text:
            return fragment.text
        assert time.monotonic() < deadline, "the job did not finish"
        time.sleep(0.2)


def _job_id(response: httpx.Response) -> int:
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/jobs/(\d+)", response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))


def _uploads(desk: RunningDesk) -> list[Path]:
    folder = uploads_dir(desk.workspace)
    return sorted(folder.rglob("*")) if folder.exists() else []


def test_a_viewer_may_see_jobs_but_not_upload_or_render(desk):
    browser = login(desk, "viewer")
    jobs = browser.get("/jobs")
    assert jobs.status_code == 200
    assert "/feeds/upload" not in jobs.text and 'action="/jobs/render"' not in jobs.text
    assert browser.get("/feeds/upload").status_code == 403
    token = csrf_of(jobs.text)
    refused = browser.post(
        "/feeds/upload", data={"csrf_token": token}, files={"file": ("z.csv", ZONEH.read_bytes(), "text/csv")}
    )
    assert refused.status_code == 403 and "ingest" in refused.text
    assert browser.post("/jobs/render", data={"csrf_token": token, "week": "2025-W01"}).status_code == 403
    assert client(desk).get("/jobs").status_code == 303  # logged out: to the login page


def test_an_analyst_uploads_a_feed_and_sees_the_summary_of_its_ingest(desk, tmp_path):
    expected = ingest_paths(init_workspace(tmp_path / "other"), [ZONEH])[0]
    browser = login(desk, "analyst")
    assert "/feeds/upload" in browser.get("/").text  # the navigation links the upload page
    response = _upload(browser, ZONEH.name, ZONEH.read_bytes())
    job_id = _job_id(response)
    page = browser.get(f"/jobs/{job_id}")
    assert page.status_code == 200 and 'id="job"' in page.text
    done = _finished(browser, f"/jobs/{job_id}")
    line = (
        f"{ZONEH.name}：读取 {expected.read:,} 行 = 接受 {expected.accepted:,} + 重复 {expected.duplicates:,} "
        f"+ 拒绝 {expected.rejected:,}"
    )
    assert line in done
    assert "已完成" in done and "<progress" not in done
    assert expected.rejected and "sitrep rejects --file zoneh-defacements.csv" in done
    assert re.search(r'href="/events\?week=\d{4}-W\d\d"', done)
    job = get_job(open_store(desk.workspace), job_id)
    assert job.state is JobState.DONE and job.started_by == "analyst"
    assert _uploads(desk) == []  # the upload is deleted once ingested
    listed = browser.get("/jobs").text
    assert f'href="/jobs/{job_id}"' in listed and ZONEH.name in listed
    # The same file again adds nothing: every row is a duplicate or a reject.
    again = get_job(open_store(desk.workspace), _job_id(_upload(browser, ZONEH.name, ZONEH.read_bytes())))
    text = _finished(browser, f"/jobs/{again.id}")
    assert f"接受 0 + 重复 {expected.accepted + expected.duplicates:,}" in text


def test_an_upload_without_the_csrf_token_is_refused_and_keeps_nothing(desk):
    browser = login(desk, "analyst")
    before = len(recent_jobs(open_store(desk.workspace)))
    for token in (None, "forged"):
        refused = _upload(browser, "x.csv", ZONEH.read_bytes(), token=token)
        assert refused.status_code == 403 and "表单已过期或来源不明" in refused.text
    assert _uploads(desk) == [] and len(recent_jobs(open_store(desk.workspace))) == before


def test_an_upload_over_the_cap_is_refused_with_the_limit(desk):
    browser = login(desk, "analyst")
    before = len(recent_jobs(open_store(desk.workspace)))
    big = b"x" * (MB + MB // 2)
    refused = _upload(browser, "big.csv", big)
    assert refused.status_code == 413 and "文件超过上传上限 1 MB" in refused.text
    # A body without a declared length is stopped as it streams past the limit.
    token = csrf_of(browser.get("/feeds/upload").text)
    boundary = "sitrepboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n\r\n'
    ).encode()

    def body() -> Iterator[bytes]:
        yield head
        for _ in range(24):
            yield b"y" * (64 * 1024)
        yield f"\r\n--{boundary}--\r\n".encode()

    streamed = browser.post(
        "/feeds/upload", content=body(), headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    assert streamed.status_code == 413 and "1 MB" in streamed.text
    assert _uploads(desk) == [] and len(recent_jobs(open_store(desk.workspace))) == before


@pytest.mark.parametrize("name", ["../../x.csv", "<script>alert(1)</script>.csv", '"><img src=x onerror=alert(1)>.csv'])
def test_a_hostile_file_name_is_stored_safely_and_shown_escaped(desk, name):
    browser = login(desk, "analyst")
    job_id = _job_id(_upload(browser, name, ZONEH.read_bytes()))
    job = get_job(open_store(desk.workspace), job_id)
    stored = desk.workspace.root / job.request.upload
    assert stored.parent.parent == uploads_dir(desk.workspace)
    assert "/" not in stored.name and "<" not in stored.name and not stored.name.startswith(".")
    assert not (desk.workspace.root.parent / "x.csv").exists()
    for text in (browser.get(f"/jobs/{job_id}").text, _finished(browser, f"/jobs/{job_id}"), browser.get("/jobs").text):
        # What the browser sent (it writes a quote in a file name as %22): shown as text.
        assert str(escape(job.title)) in text and job.title.replace("%22", '"') == name
        assert "<script>alert" not in text and "<img src=x" not in text


def test_a_file_of_garbage_fails_its_job_with_the_reason(desk):
    browser = login(desk, "analyst")
    job_id = _job_id(_upload(browser, "garbage.csv", os.urandom(4096)))
    done = _finished(browser, f"/jobs/{job_id}")
    assert "失败" in done and "format not recognised" in done and "Traceback" not in done
    assert browser.get(f"/jobs/{job_id}").status_code == 200
    assert get_job(open_store(desk.workspace), job_id).state is JobState.FAILED


def test_the_choose_a_format_hint_follows_only_a_file_no_format_recognised(desk):
    browser = login(desk, "analyst")
    garbage = _finished(browser, f"/jobs/{_job_id(_upload(browser, 'garbage.csv', os.urandom(2048)))}")
    assert "若格式无法识别" in garbage
    # A Shadowserver report by its own file name, cut off inside its gzip stream: recognised, then unreadable.
    name = "2025-01-01-event4_sinkhole-cncert-cn.csv"
    cut = gzip.compress((SAMPLES / name).read_bytes())[:300]
    truncated = _finished(browser, f"/jobs/{_job_id(_upload(browser, name + '.gz', cut))}")
    assert "shadowserver-event4-sinkhole" in truncated and "truncated or corrupt" in truncated
    assert "若格式无法识别" not in truncated


def test_an_unknown_format_or_an_empty_form_is_refused_on_the_form(desk):
    browser = login(desk, "analyst")
    unknown = _upload(browser, "z.csv", ZONEH.read_bytes(), fmt="no-such-format")
    assert unknown.status_code == 400 and "no-such-format" in unknown.text
    empty = _upload(browser, "z.csv", b"")
    assert empty.status_code == 400 and "上传的文件是空的" in empty.text
    token = csrf_of(browser.get("/feeds/upload").text)
    no_file = browser.post("/feeds/upload", data={"csrf_token": token}, files={"other": (None, "x")})
    assert no_file.status_code == 400 and "请选择要上传的文件" in no_file.text
    assert _uploads(desk) == []


def test_the_progress_fragment_polls_while_a_job_is_active_and_stops_when_it_ends(desk):
    store = open_store(desk.workspace)
    # A job queued by another live server process (its heartbeat is fresh).
    queued = record_job(store, RenderRequest("2025-W01"), title="2025-W01", started_by="x", runner=Runner("h", 1, "t"))
    browser = login(desk, "viewer")
    fragment = browser.get(f"/jobs/{queued.id}/progress")
    assert fragment.status_code == 200
    assert f'hx-get="/jobs/{queued.id}/progress" hx-trigger="every 1s" hx-swap="outerHTML"' in fragment.text
    assert "<progress" in fragment.text and "排队中" in fragment.text
    assert "<html" not in fragment.text  # a fragment, not a page
    page = browser.get(f"/jobs/{queued.id}")
    assert "hx-trigger" in page.text and "script-src 'self'" in page.headers["content-security-policy"]
    assert re.findall(r"<script[^>]*>", page.text) == [re.search(r"<script src=[^>]*>", page.text).group(0)]
    assert browser.get("/jobs/999999").status_code == 404
    assert browser.get("/jobs/x").status_code == 400


def test_a_render_job_writes_every_file_of_the_week(desk):
    browser = login(desk, "analyst")
    token = csrf_of(browser.get("/jobs").text)
    assert browser.post("/jobs/render", data={"csrf_token": token, "week": "2025-W99"}).status_code == 400
    job_id = _job_id(browser.post("/jobs/render", data={"csrf_token": token, "week": "2025-W01"}))
    done = _finished(browser, f"/jobs/{job_id}")
    assert "已生成 2025-W01 周报的文件" in done
    assert 'href="/reports/2025-W01#downloads"' in done  # the report workspace serves the downloads
    folder = desk.workspace.reports_dir / "2025-W01"
    for lang in LANGS:
        for fmt in FORMATS:
            name = file_name(lang, fmt)
            assert (folder / name).is_file(), name
            assert f"reports/2025-W01/{name}" in done
