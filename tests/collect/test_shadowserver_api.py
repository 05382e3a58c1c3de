"""``kind = "shadowserver-api"`` against a real HTTP server on loopback that plays Shadowserver's reports
API as Shadowserver documents it: ``POST <api>/reports/list`` with a JSON body signed in the ``HMAC2``
header (hex HMAC-SHA256 of the raw body bytes keyed with the secret; a wrong signature or key is
refused with a non-200 answer carrying ``{"error": …}``), a ``date`` of one day or a range
``YYYY-MM-DD:YYYY-MM-DD``, ``reports`` and ``type`` filters, and each report served by id from the
download host.  The report files are Shadowserver reports in their published layouts (the samples of
``tests/feeds/samples`` and the generated ``shadowserver_fixtures``)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import tomli_w
from sqlalchemy import select
from typer.testing import CliRunner

from helpers import SAMPLES, lake_rows
from shadowserver_fixtures import report_csv
from sitrep.cli import app
from sitrep.collect.records import CollectedFile, ShadowserverReport
from sitrep.config import ConfigError, parse_settings
from sitrep.feeds.shadowserver import load_reports
from sitrep.incidents.db import open_store
from sitrep.workspace import init_workspace

runner = CliRunner()
KEY = "ssk-3f9a27c41e8d"
SECRET = "sss-b6d0e4a19c57f2"
ENV = {"SHADOWSERVER_API_KEY": KEY, "SHADOWSERVER_API_SECRET": SECRET}
TODAY = datetime.now(UTC).date()
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
HTML = b"<!DOCTYPE html><html><body>Report not available</body></html>\n"


def _day(days_ago: int) -> str:
    return (TODAY - timedelta(days=days_ago)).isoformat()


class Shadowserver:
    """The reports the server holds (list entries and their files) and the requests it saw."""

    def __init__(self) -> None:
        self.entries: list[dict] = []
        self.files: dict[str, bytes] = {}
        self.lists: list[dict] = []  # the JSON bodies of the reports/list calls it accepted
        self.downloads: list[str] = []  # the ids fetched

    def add(self, days_ago: int, kind: str, body: bytes, mailing_list: str = "cncert-cn") -> dict:
        day = _day(days_ago)
        entry = {
            "id": hashlib.sha256(f"{day}{kind}{mailing_list}".encode()).hexdigest()[:50],
            "report": mailing_list,
            "type": kind,
            "file": f"{day}-{kind}-{mailing_list}.csv",
            "timestamp": day,
        }
        self.entries.append(entry)
        self.files[entry["id"]] = body
        return entry

    def listing(self, request: dict) -> list[dict]:
        """reports/list: the entries of the day or range asked, of the lists and type asked."""
        first, _, last = str(request["date"]).partition(":")
        last = last or first
        if not (_DAY.match(first) and _DAY.match(last)):
            raise ValueError(f"bad date {request['date']!r}")
        found = [e for e in self.entries if first <= e["timestamp"] <= last]
        if "reports" in request:
            found = [e for e in found if e["report"] in request["reports"]]
        if "type" in request:
            found = [e for e in found if e["type"] == request["type"]]
        return found


@pytest.fixture
def server():
    shadowserver = Shadowserver()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            mode, _, method = self.path.partition("/api2/")
            mode = mode.strip("/")
            if method != "reports/list":
                return self._json(404, {"error": f"unknown method {method}"})
            # Shadowserver recomputes the HMAC of the request bytes with the client's secret.
            expected = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(self.headers.get("HMAC2", ""), expected):
                return self._json(401, {"error": "HMAC signature mismatch"})
            request = json.loads(raw)
            if request.get("apikey") != KEY:
                return self._json(401, {"error": "unknown apikey"})
            if mode == "busy":
                return self._json(503, {"error": "try later"})
            if mode == "html":
                return self._answer(200, HTML, "text/html")
            if mode == "noid":
                entry = {k: v for k, v in shadowserver.entries[0].items() if k != "id"}
                return self._json(200, [entry])
            if mode == "echo":  # a server that repeats what it was sent in its complaint
                return self._json(403, {"error": f"apikey {KEY} is suspended"})
            try:
                found = shadowserver.listing(request)
            except ValueError as exc:
                return self._json(400, {"error": str(exc)})
            shadowserver.lists.append(request)
            self._json(200, found)

        def do_GET(self) -> None:
            report_id = self.path.rsplit("/", 1)[-1]
            if not self.path.startswith("/dl/") or report_id not in shadowserver.files:
                return self._answer(404, b"not found", "text/plain")
            shadowserver.downloads.append(report_id)
            self._answer(200, shadowserver.files[report_id], "text/csv")

        def _json(self, status: int, value: object) -> None:
            self._answer(status, json.dumps(value).encode(), "application/json")

        def _answer(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield shadowserver, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def _workspace(tmp_path: Path, base: str, *sources: dict):
    root = tmp_path / "ws"
    root.mkdir()
    defaults = {
        "kind": "shadowserver-api",
        "every": "1h",
        "api_url": f"{base}/api2/",
        "download_url": f"{base}/dl/",
        "retries": 1,
        "retry_seconds": 0,
        "timeout_seconds": 5,
    }
    config = {"sources": [{**defaults, **s} for s in sources]}
    (root / "sitrep.toml").write_text(tomli_w.dumps(config), encoding="utf-8")
    return init_workspace(root)


def _collect(ws, *args, code: int = 0, env: dict | None = None):
    result = runner.invoke(app, ["--home", str(ws.root), "collect", "--json", *args], env=ENV if env is None else env)
    assert result.exit_code == code, result.output
    return {run["source"]: run for run in json.loads(result.stdout)}


def _taken(ws) -> dict[str, tuple[str, int]]:
    with open_store(ws).read() as session:
        return {r.file: (r.status, r.attempts) for r in session.scalars(select(ShadowserverReport))}


def test_the_days_reports_are_listed_signed_downloaded_ingested_and_never_fetched_again(tmp_path, server):
    shadowserver, base = server
    scan = shadowserver.add(0, "scan_http_vulnerable", _sample("2025-01-07-scan_http_vulnerable-cncert-cn.csv"))
    sinkhole = shadowserver.add(1, "event4_sinkhole", _sample("2025-01-01-event4_sinkhole-cncert-cn.csv"))
    defaced = shadowserver.add(2, "compromised_website", _sample("2025-01-06-compromised_website-cncert-cn.csv"))
    shadowserver.add(5, "scan_exchange", _sample("2025-01-07-scan_exchange-cncert-cn.csv"))  # before the window
    ws = _workspace(tmp_path, base, {"name": "shadowserver"})

    run = _collect(ws)["shadowserver"]
    assert run["error"] is None
    # Oldest first, each under Shadowserver's own file name (how Sitrep tells the reports apart).
    assert [f["name"] for f in run["files"]] == [defaced["file"], sinkhole["file"], scan["file"]]
    assert {f["status"] for f in run["files"]} == {"ingested"}
    [listing] = shadowserver.lists
    assert listing == {"apikey": KEY, "date": f"{_day(2)}:{_day(0)}", "limit": 10_000}
    assert sorted(shadowserver.downloads) == sorted([scan["id"], sinkhole["id"], defaced["id"]])
    feeds = {e["feed_name"] for e in lake_rows(ws)}
    assert feeds == {
        "shadowserver-scan-http-vulnerable",
        "shadowserver-event4-sinkhole",
        "shadowserver-compromised-website",
    }
    assert _taken(ws) == {e["file"]: ("ingested", 0) for e in (scan, sinkhole, defaced)}

    # Listed again, known by id: nothing is downloaded.
    again = _collect(ws, "--source", "shadowserver")["shadowserver"]
    assert again["files"] == [] and again["error"] is None
    assert len(shadowserver.lists) == 2 and len(shadowserver.downloads) == 3

    # A new report of today is the only one fetched.
    late = shadowserver.add(0, "event4_sinkhole_http", _sample("2025-01-06-event4_sinkhole_http-cncert-cn.csv"))
    third = _collect(ws, "--source", "shadowserver")["shadowserver"]
    assert [(f["name"], f["status"]) for f in third["files"]] == [(late["file"], "ingested")]
    assert shadowserver.downloads[-1] == late["id"] and len(shadowserver.downloads) == 4


def test_days_catch_up_missed_days_and_the_filters_narrow_the_list(tmp_path, server):
    shadowserver, base = server
    old = shadowserver.add(5, "scan_exchange", _sample("2025-01-07-scan_exchange-cncert-cn.csv"))
    ics = next(r for r in load_reports() if r.key == "scan_ics")
    today = shadowserver.add(0, "scan_ics", report_csv(ics).encode())
    other_list = shadowserver.add(0, "scan_ics", report_csv(ics, rows=2).encode(), mailing_list="cncert-gov")
    sinkhole = shadowserver.add(3, "event4_sinkhole", _sample("2025-01-01-event4_sinkhole-cncert-cn.csv"))
    ws = _workspace(
        tmp_path,
        base,
        {"name": "today", "days": 0},
        {"name": "week", "days": 6, "reports": ["cncert-cn"], "types": ["scan_exchange", "event4_sinkhole"]},
        {"name": "ics", "days": 6, "types": ["scan_ics"]},
    )

    runs = _collect(ws, "--all")
    assert [f["name"] for f in runs["today"]["files"]] == sorted([today["file"], other_list["file"]])
    # Missed days are caught up (a report five days old), of the lists and types asked only.
    assert [f["name"] for f in runs["week"]["files"]] == [old["file"], sinkhole["file"]]
    assert [f["name"] for f in runs["ics"]["files"]] == sorted([today["file"], other_list["file"]])
    asked = {json.dumps(r, sort_keys=True) for r in shadowserver.lists}
    for request in (
        {"apikey": KEY, "date": _day(0), "limit": 10_000},
        {"apikey": KEY, "date": f"{_day(6)}:{_day(0)}", "limit": 10_000, "reports": ["cncert-cn"]},
        {"apikey": KEY, "date": f"{_day(6)}:{_day(0)}", "limit": 10_000, "type": "scan_ics"},
    ):
        assert json.dumps(request, sort_keys=True) in asked
    assert {f["status"] for run in runs.values() for f in run["files"]} == {"ingested"}


def test_a_report_that_fails_to_ingest_is_kept_and_tried_a_bounded_number_of_times(tmp_path, server):
    shadowserver, base = server
    good = shadowserver.add(0, "scan_http_vulnerable", _sample("2025-01-07-scan_http_vulnerable-cncert-cn.csv"))
    broken = shadowserver.add(0, "scan_ics", HTML)  # an error page where the report should be
    ws = _workspace(tmp_path, base, {"name": "shadowserver", "max_attempts": 2})

    first = _collect(ws, code=1)["shadowserver"]
    outcome = {f["name"]: f for f in first["files"]}
    assert outcome[good["file"]]["status"] == "ingested"
    assert outcome[broken["file"]]["status"] == "failed"
    assert "format not recognised" in outcome[broken["file"]]["reason"]
    kept = ws.root / outcome[broken["file"]]["moved_to"]
    assert kept.read_bytes() == HTML and kept.parent == ws.root / "collected" / "shadowserver" / "failed"
    reason = kept.with_name(kept.name + ".reason.txt").read_text(encoding="utf-8")
    assert "attempt 1 of 2: tried again on the next run" in reason
    assert _taken(ws) == {good["file"]: ("ingested", 0), broken["file"]: ("failed", 1)}

    second = _collect(ws, "--source", "shadowserver", code=1)["shadowserver"]
    assert [(f["name"], f["status"]) for f in second["files"]] == [(broken["file"], "failed")]
    reasons = sorted((ws.root / "collected" / "shadowserver" / "failed").glob("*.reason.txt"))
    assert "attempt 2 of 2: not tried again" in reasons[-1].read_text(encoding="utf-8")

    third = _collect(ws, "--source", "shadowserver")["shadowserver"]
    assert third["files"] == [] and third["error"] is None
    assert shadowserver.downloads.count(broken["id"]) == 2 and shadowserver.downloads.count(good["id"]) == 1
    with open_store(ws).read() as session:
        failed = session.scalars(select(CollectedFile).where(CollectedFile.status == "failed")).all()
    assert [f.name for f in failed] == [broken["file"]]


def test_a_dry_run_downloads_to_show_and_records_nothing_and_secrets_come_from_files(tmp_path, server):
    shadowserver, base = server
    report = shadowserver.add(1, "scan_exchange", _sample("2025-01-07-scan_exchange-cncert-cn.csv"))
    ws = _workspace(
        tmp_path, base, {"name": "shadowserver", "apikey_file": "keys/api.key", "secret_file": "keys/api.secret"}
    )
    (ws.root / "keys").mkdir()
    (ws.root / "keys" / "api.key").write_text(KEY + "\n", encoding="utf-8")
    (ws.root / "keys" / "api.secret").write_text(SECRET + "\n", encoding="utf-8")

    dry = _collect(ws, "--dry-run", env={})["shadowserver"]
    assert [(f["name"], f["status"]) for f in dry["files"]] == [(report["file"], "pending")]
    assert _taken(ws) == {}
    assert not list(ws.lake_dir.rglob("*.parquet"))

    real = _collect(ws, env={})["shadowserver"]
    assert [(f["name"], f["status"]) for f in real["files"]] == [(report["file"], "ingested")]
    assert _taken(ws) == {report["file"]: ("ingested", 0)}


def test_a_wrong_secret_or_a_missing_one_is_the_sources_error_and_never_printed(tmp_path, server):
    shadowserver, base = server
    shadowserver.add(0, "scan_exchange", _sample("2025-01-07-scan_exchange-cncert-cn.csv"))
    ws = _workspace(tmp_path, base, {"name": "shadowserver"})
    wrong = "sss-0000wrong0000"

    result = runner.invoke(
        app, ["--home", str(ws.root), "collect"], env={"SHADOWSERVER_API_KEY": KEY, "SHADOWSERVER_API_SECRET": wrong}
    )
    assert result.exit_code == 1
    assert "Shadowserver refused the request (401: HMAC signature mismatch)" in result.output
    assert "check the API key and secret (apikey_env SHADOWSERVER_API_KEY and secret_env SHADOWSERVER_API_SECRET)" in (
        " ".join(result.output.split())
    )
    assert KEY not in result.output and wrong not in result.output and SECRET not in result.output
    assert shadowserver.lists == [] and shadowserver.downloads == []

    missing = _collect(ws, "--source", "shadowserver", code=1, env={"SHADOWSERVER_API_KEY": KEY})["shadowserver"]
    assert "SHADOWSERVER_API_SECRET (secret_env) is not set" in missing["error"]
    assert KEY not in missing["error"] and missing["files"] == []


def test_bad_answers_are_each_sources_error_naming_what_was_wrong(tmp_path, server):
    shadowserver, base = server
    fine = shadowserver.add(0, "scan_exchange", _sample("2025-01-07-scan_exchange-cncert-cn.csv"))
    gone = shadowserver.add(1, "scan_http_vulnerable", b"")
    del shadowserver.files[gone["id"]]  # listed, but the download host answers 404
    ws = _workspace(
        tmp_path,
        base,
        {"name": "busy", "api_url": f"{base}/busy/api2/"},
        {"name": "html", "api_url": f"{base}/html/api2/"},
        {"name": "noid", "api_url": f"{base}/noid/api2/"},
        {"name": "echo", "api_url": f"{base}/echo/api2/"},
        {"name": "partial"},
    )

    runs = _collect(ws, "--all", code=1)
    assert runs["busy"]["error"].endswith("reports/list: the server answered 503 (tried 2 times)")
    assert "the answer is not JSON (it starts '<!DOCTYPE html>" in runs["html"]["error"]
    assert f"entry 1 of the list ({fine['file']}) has no id" in runs["noid"]["error"]
    assert "refused the request (403: apikey [hidden] is suspended)" in runs["echo"]["error"]
    # One report that cannot be downloaded does not keep the others: it is named by its file, not its id.
    partial = runs["partial"]
    assert [(f["name"], f["status"]) for f in partial["files"]] == [(fine["file"], "ingested")]
    assert partial["error"] == f"{gone['file']}: the server answered 404"
    printed = json.dumps(runs)
    assert KEY not in printed and SECRET not in printed and gone["id"] not in printed
    assert all(not runs[name]["files"] for name in ("busy", "html", "noid", "echo"))


def test_the_configuration_takes_no_secret_and_checks_its_values():
    source = {"name": "ss", "kind": "shadowserver-api"}
    parsed = parse_settings({"sources": [source]}, Path("sitrep.toml")).sources[0]
    assert (parsed.apikey_env, parsed.secret_env, parsed.days, parsed.max_attempts) == (
        "SHADOWSERVER_API_KEY",
        "SHADOWSERVER_API_SECRET",
        2,
        3,
    )
    assert parsed.api_url == "https://transform.shadowserver.org/api2/"
    assert parsed.download_url == "https://dl.shadowserver.org/"
    for wrong, said in (
        ({"secret": "s3cret"}, "sources.0.shadowserver-api.secret: unknown key"),
        ({"types": ["Scan HTTP"]}, "types.0"),
        ({"api_url": "ftp://example.org/"}, "api_url = 'ftp://example.org/' is not an http(s) address"),
        ({"days": 365}, "days"),
        ({"secret_env": "MY-SECRET"}, "secret_env"),
    ):
        with pytest.raises(ConfigError) as caught:
            parse_settings({"sources": [{**source, **wrong}]}, Path("sitrep.toml"))
        assert said in str(caught.value)
