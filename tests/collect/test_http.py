"""``kind = "http"``: a feed downloaded from a real HTTP server on loopback that honours ``ETag`` and
serves gzip — an unchanged feed is not fetched again, a changed one is, the server's load is waited
out, and a body over the size cap, a 404 or a missing API key is that source's error alone."""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import tomli_w
from typer.testing import CliRunner

from helpers import SAMPLES, lake_rows
from sitrep.cli import app
from sitrep.workspace import init_workspace

runner = CliRunner()
FEED = (SAMPLES / "urlhaus-csv_recent.csv").read_bytes()


class Feeds:
    """What the server serves, and the requests it saw."""

    def __init__(self) -> None:
        self.body = FEED
        self.seen: list[tuple[str, dict[str, str]]] = []
        self.busy = 0  # answers 503 left on /busy


@pytest.fixture
def server():
    feeds = Feeds()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            feeds.seen.append((self.path, dict(self.headers)))
            tag = '"' + hashlib.sha256(feeds.body).hexdigest()[:16] + '"'
            if self.path == "/busy" and feeds.busy:
                feeds.busy -= 1
                return self._answer(503, b"try later")
            if self.path == "/big":
                return self._answer(200, b"x" * (2 * 1024 * 1024))
            if self.path == "/keyed" and self.headers.get("Auth-Key") != "s3cret":
                return self._answer(401, b"no key")
            if self.path not in ("/csv_recent/", "/busy", "/keyed"):
                return self._answer(404, b"not here")
            if self.headers.get("If-None-Match") == tag:
                return self._answer(304, b"", {"ETag": tag})
            body, extra = feeds.body, {"ETag": tag, "Content-Type": "text/csv"}
            if "gzip" in self.headers.get("Accept-Encoding", ""):
                body, extra["Content-Encoding"] = gzip.compress(body), "gzip"
            self._answer(200, body, extra)

        def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield feeds, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _workspace(tmp_path: Path, *sources: dict):
    root = tmp_path / "ws"
    root.mkdir()
    defaults = {"kind": "http", "every": "1m", "retry_seconds": 0, "timeout_seconds": 5}
    config = {"sources": [{**defaults, **s} for s in sources]}
    (root / "sitrep.toml").write_text(tomli_w.dumps(config), encoding="utf-8")
    return init_workspace(root)


def _collect(ws, *args, code: int = 0, env: dict | None = None):
    result = runner.invoke(app, ["--home", str(ws.root), "collect", "--json", *args], env=env)
    assert result.exit_code == code, result.output
    return {run["source"]: run for run in json.loads(result.stdout)}


def test_a_feed_is_fetched_when_it_changed_and_only_then(tmp_path, server):
    feeds, base = server
    ws = _workspace(tmp_path, {"name": "urlhaus", "url": f"{base}/csv_recent/"})

    first = _collect(ws)["urlhaus"]
    [file] = first["files"]
    assert file["status"] == "ingested" and file["name"] == "csv_recent"
    assert file["size"] == len(FEED)  # gzip on the wire, the feed's own bytes on disk
    assert feeds.seen[-1][1].get("Accept-Encoding") == "gzip"
    count = len(lake_rows(ws))
    assert count == file["results"][0]["accepted"] > 0

    # Unchanged: the server is asked with the ETag, answers 304, nothing is fetched or ingested.
    unchanged = _collect(ws, "--source", "urlhaus")["urlhaus"]
    assert unchanged["files"] == [] and unchanged["error"] is None
    assert feeds.seen[-1][1].get("If-None-Match", "").startswith('"')

    # Changed: fetched and ingested again (its new rows only; the lake keeps each event once).
    feeds.body = FEED + FEED.splitlines(keepends=True)[-1].replace(b"2025", b"2024")
    changed = _collect(ws, "--source", "urlhaus")["urlhaus"]
    assert [f["status"] for f in changed["files"]] == ["ingested"]
    assert len(lake_rows(ws)) >= count


def test_the_servers_load_is_waited_out_and_failures_are_the_sources_own(tmp_path, server, monkeypatch):
    feeds, base = server
    feeds.busy = 2
    ws = _workspace(
        tmp_path,
        {"name": "busy", "url": f"{base}/busy", "retries": 2},
        {"name": "big", "url": f"{base}/big", "max_mb": 1},
        {"name": "gone", "url": f"{base}/nothing-here.csv"},
        {"name": "keyed", "url": f"{base}/keyed", "headers_env": {"Auth-Key": "SITREP_TEST_AUTH_KEY"}},
    )
    monkeypatch.delenv("SITREP_TEST_AUTH_KEY", raising=False)
    runs = _collect(ws, "--all", code=1)
    assert [f["status"] for f in runs["busy"]["files"]] == ["ingested"]  # after two 503s
    assert "over max_mb = 1" in runs["big"]["error"] and runs["big"]["files"] == []
    assert "answered 404" in runs["gone"]["error"]
    assert "SITREP_TEST_AUTH_KEY" in runs["keyed"]["error"] and "not set" in runs["keyed"]["error"]
    assert not any(p == "/keyed" for p, _ in feeds.seen)  # no request without its key

    keyed = _collect(ws, "--source", "keyed", env={"SITREP_TEST_AUTH_KEY": "s3cret"})["keyed"]
    [file] = keyed["files"]
    # The same feed as busy's, from another source: taken, and its events are already in the lake.
    assert keyed["error"] is None and file["status"] == "ingested" and file["results"][0]["accepted"] == 0


def test_a_server_that_stays_busy_is_an_error_after_the_retries(tmp_path, server):
    feeds, base = server
    feeds.busy = 10
    ws = _workspace(tmp_path, {"name": "busy", "url": f"{base}/busy", "retries": 1})
    runs = _collect(ws, code=1)
    assert "answered 503 (tried 2 times)" in runs["busy"]["error"]
    assert [p for p, _ in feeds.seen] == ["/busy", "/busy"]
