"""The archive site: PDFs and the font on every page, an Atom feed per language under the base URL,
incremental rebuilds (only what changed is rendered again) and ``sitrep site --check``."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sitrep.cli import app
from sitrep.config import load_workspace
from sitrep.report.archive import issue_path, load_issue
from sitrep.report.site import EDITIONS_MANIFEST, MANIFEST_NAME, build_site, editions_dir
from sitrep.report.site_check import check_site
from sitrep.workspace import init_workspace

from .data import WEEK, build_workspace

runner = CliRunner()
ATOM = "{http://www.w3.org/2005/Atom}"
BASE = "https://cert.example.org/weekly"
WEEKS = [WEEK - 2, WEEK - 1, WEEK]
FONT = re.compile(r"@font-face \{ font-family: '[^']+'; src: url\(data:font/woff2?;base64,[A-Za-z0-9+/=]{1000,}\)")


def _run(ws, *args: str, code: int = 0):
    result = runner.invoke(app, ["--home", str(ws.root), *args])
    assert result.exit_code == code, result.output
    return result


def _mtimes(site: Path) -> dict[str, int]:
    return {p.relative_to(site).as_posix(): p.stat().st_mtime_ns for p in site.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """A workspace with three published weeks and its site, built once."""
    root = tmp_path_factory.mktemp("site")
    ws = build_workspace(root / "ws", report={"base_url": BASE + "/"})
    for week in WEEKS:
        _run(ws, "publish", "--week", str(week))
    site = root / "site"
    built = build_site(ws, site, jobs=2)
    return ws, site, built


def test_every_issue_in_both_languages_with_pdfs_and_the_font_on_every_page(archive):
    _, site, built = archive
    assert sorted(built.rendered) == [str(w) for w in WEEKS] and not built.unchanged
    for week in WEEKS:
        for lang in ("zh", "en"):
            assert (site / str(week) / f"report.{lang}.pdf").read_bytes().startswith(b"%PDF")
            data = json.loads((site / str(week) / f"report.{lang}.json").read_text(encoding="utf-8"))
            assert data["week"] == str(week) and data["revision"] == 1
    for page in sorted(site.rglob("*.html")):
        assert FONT.search(page.read_text(encoding="utf-8")), f"{page} carries no font"
    index = (site / "index.html").read_text(encoding="utf-8")
    assert f'href="{WEEK}/report.zh.pdf"' in index and f'href="{WEEK}/report.en.html"' in index
    assert index.index(f"{WEEK}/report.zh.html") < index.index(f"{WEEK - 2}/report.zh.html")  # newest first
    assert 'href="feed.xml"' in index and 'href="feed.en.xml"' in (site / "index.en.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_one_feed_per_language_with_absolute_links_self_and_the_numbers_in_each_summary(archive, lang):
    ws, site, _ = archive
    name = "feed.xml" if lang == "zh" else "feed.en.xml"
    feed = ET.parse(site / name).getroot()
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == ("zh-CN" if lang == "zh" else "en")
    links = feed.findall(f"{ATOM}link") + feed.findall(f"{ATOM}entry/{ATOM}link")
    assert all(link.get("href").startswith(BASE + "/") for link in links)
    assert [link.get("href") for link in feed.findall(f"{ATOM}link") if link.get("rel") == "self"] == [f"{BASE}/{name}"]
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}id") for e in entries] == [f"{BASE}/{w}/report.{lang}.html" for w in reversed(WEEKS)]
    # Each entry's summary gives its week's rating and headline numbers.
    for week, entry in zip(reversed(WEEKS), entries, strict=True):
        facts = load_issue(ws, week).facts
        summary = entry.findtext(f"{ATOM}summary")
        infected = facts.metrics.indicators["infected_hosts"].value
        phishing = facts.metrics.indicators["phishing_pages"].value
        if lang == "zh":
            assert summary.startswith(f"整体评价：{facts.rating.label}。"), summary
            assert f"境内感染网络病毒的主机数量{infected}（" in summary and f"仿冒页面数量{phishing}（" in summary
        else:
            assert summary.startswith("Overall rating: "), summary
            assert f"Malware-infected hosts {infected} (" in summary
            assert f"Phishing pages targeting domestic websites {phishing} (" in summary
    pdfs = [link.get("href") for link in entries[0].findall(f"{ATOM}link") if link.get("type") == "application/pdf"]
    assert pdfs == [f"{BASE}/{WEEK}/report.{lang}.pdf"]


def test_the_built_site_checks_clean(archive):
    ws, site, _ = archive
    assert check_site(site, BASE + "/") == []
    result = _run(ws, "site", "-o", str(site), "--check")
    assert "nothing broken" in result.output
    # Links under the base URL (近期回顾, with base_url set) are links into the site, and were checked.
    page = (site / str(WEEK) / "report.zh.html").read_text(encoding="utf-8")
    assert f'href="{BASE}/{WEEK - 1}/report.zh.html"' in page


def _files(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in site.glob("*/report.*")}


def test_a_new_folder_or_an_upgrade_copies_the_kept_editions_and_rerender_draws_anew(archive, tmp_path):
    ws, built_site, _ = archive
    kept = editions_dir(ws)
    assert sorted(p.name for p in kept.iterdir() if not p.name.startswith(".")) == [str(w) for w in WEEKS]

    # A build into a new folder copies every issue's files: the same bytes, nothing drawn.
    fresh = build_site(ws, tmp_path / "new")
    assert fresh.rendered == [] and sorted(fresh.kept) == [str(w) for w in WEEKS]
    assert _files(tmp_path / "new") == _files(built_site)
    # The index entries came with the kept files (the issues were not composed again): the same pages.
    for name in ("index.html", "index.en.html", "feed.xml", "feed.en.xml"):
        assert (tmp_path / "new" / name).read_bytes() == (built_site / name).read_bytes()
    assert check_site(tmp_path / "new", BASE + "/") == []

    # An upgrade (the renderers' version in the site's manifest differs): published files stay as they were.
    manifest_path = tmp_path / "new" / MANIFEST_NAME
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest_path.write_text(json.dumps(manifest | {"context": "an older Sitrep"}), encoding="utf-8")
    upgraded = build_site(ws, tmp_path / "new")
    assert upgraded.rendered == [] and sorted(upgraded.kept) == [str(w) for w in WEEKS]

    # A kept record that is damaged or names a file outside its folder is not trusted: that issue is drawn.
    record_path = kept / str(WEEK) / EDITIONS_MANIFEST
    record = json.loads(record_path.read_text(encoding="utf-8"))
    record_path.write_text(json.dumps(record | {"files": ["../../sitrep.toml"]}), encoding="utf-8")
    (kept / str(WEEK - 1) / EDITIONS_MANIFEST).write_text("{", encoding="utf-8")
    repaired = build_site(ws, tmp_path / "repaired")
    assert sorted(repaired.rendered) == [str(WEEK - 1), str(WEEK)] and repaired.kept == [str(WEEK - 2)]
    assert json.loads(record_path.read_text(encoding="utf-8"))["files"] == record["files"]  # kept anew

    # --rerender draws every issue again, even in a folder that is up to date.
    result = _run(ws, "site", "-o", str(tmp_path / "new"), "--rerender")
    assert "3 issues rendered, 0 copied from the kept editions, 0 unchanged" in result.output
    assert _files(tmp_path / "new").keys() == _files(built_site).keys()


def test_a_killed_build_stops_its_worker_processes(archive, tmp_path):
    """``kill`` (SIGTERM) of ``sitrep site`` ends it like Ctrl-C: no worker process goes on drawing."""
    ws, _, _ = archive
    out = tmp_path / "site"
    command = [str(Path(sys.executable).with_name("sitrep")), "--home", str(ws.root), "site", "-o", str(out)]
    build = subprocess.Popen([*command, "--rerender", "--jobs", "2"], start_new_session=True, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not (out / MANIFEST_NAME).exists() and build.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)  # the first issue is written: the workers are drawing the others
    build.send_signal(signal.SIGTERM)
    assert build.wait(timeout=60) == 128 + signal.SIGTERM
    assert b"Traceback" not in build.stderr.read()
    while time.monotonic() < deadline:
        try:
            os.killpg(build.pid, 0)  # anything left of its process group?
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("worker processes of the killed build are still running")


def test_rebuilds_render_only_what_changed(archive, tmp_path):
    ws, built_site, _ = archive
    site = tmp_path / "site"
    shutil.copytree(built_site, site)
    before = _mtimes(site)

    unchanged = build_site(ws, site)
    assert unchanged.rendered == [] and unchanged.files == [] and sorted(unchanged.unchanged) == [str(w) for w in WEEKS]
    assert _mtimes(site) == before

    # A setting no page prints changes nothing.
    config = ws.config_path.read_text(encoding="utf-8")
    ws.config_path.write_text(config + "\n[explorer]\nmax_days = 7\n", encoding="utf-8")
    assert build_site(load_workspace(ws.root), site).rendered == []

    # One issue's document changes (its narrative summary): that issue alone is rendered again.
    path = issue_path(ws, WEEK - 1)
    document = json.loads(path.read_text(encoding="utf-8"))
    document["narrative"] = {"zh": {"summary": "本周摘要已更新。"}}
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    changed = build_site(ws, site)
    assert changed.rendered == [str(WEEK - 1)]
    assert "本周摘要已更新。" in (site / str(WEEK - 1) / "report.zh.html").read_text(encoding="utf-8")
    assert _mtimes(site)[f"{WEEK}/report.zh.pdf"] == before[f"{WEEK}/report.zh.pdf"]

    # Withdrawing it changes its pages and the 近期回顾 of the issue after it; its PDFs go.
    _run(ws, "unpublish", "--week", str(WEEK - 1), "--reason", "数字有误")
    withdrawn = build_site(ws, site)
    assert sorted(withdrawn.rendered) == [str(WEEK - 1), str(WEEK)]
    assert not (site / str(WEEK - 1) / "report.zh.pdf").exists()
    assert site / str(WEEK - 1) / "report.en.pdf" in withdrawn.removed
    notice = (site / str(WEEK - 1) / "report.zh.html").read_text(encoding="utf-8")
    assert "数字有误" in notice and FONT.search(notice)
    latest = (site / str(WEEK) / "report.zh.html").read_text(encoding="utf-8")
    assert f"{BASE}/{WEEK - 2}/report.zh.html" in latest and f"{BASE}/{WEEK - 1}/report.zh.html" not in latest
    assert "数字有误" in (site / "index.html").read_text(encoding="utf-8")
    assert check_site(site, BASE + "/") == []

    # An issue file deleted from the archive: its pages go too; a lost page is rendered again.
    issue_path(ws, WEEK - 2).unlink()
    (site / str(WEEK) / "report.en.json").unlink()
    again = build_site(ws, site)
    assert again.rendered == [str(WEEK)] and not (site / str(WEEK - 2)).exists()
    assert f"{WEEK - 2}/" not in (site / "index.html").read_text(encoding="utf-8")
    manifest = json.loads((site / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert sorted(manifest["issues"]) == [str(WEEK - 1), str(WEEK)]
    assert check_site(site, BASE + "/") == []


def _broken_site(site: Path) -> None:
    (site / "2025-W01").mkdir(parents=True)
    (site / "index.html").write_text(
        '<a href="2025-W01/report.zh.html">ok</a> <a href="2025-W02/report.zh.html">gone</a>'
        f'<a href="{BASE}/2025-W01/report.zh.pdf">pdf</a> <a href="https://other.example/x">out</a>'
        '<p id="top"><a href="#top">top</a> <a href="../../etc/passwd">up</a> <img src="/abs.png">',
        encoding="utf-8",
    )
    (site / "2025-W01" / "report.zh.html").write_text(
        '<link href="../index.html"><p id="top"><a href="#top">ok</a> <a href="#gone">x</a> <a href="#gone">x</a>'
        '<a href="../index.html#nowhere">x</a> <svg><use xlink:href="#top"/></svg>',
        encoding="utf-8",
    )
    (site / "feed.xml").write_text(
        f'<feed xmlns="http://www.w3.org/2005/Atom"><id>{BASE}/feed.xml</id><title>t</title>'
        "<updated>2025-01-06T00:00:00+00:00</updated><author><name>o</name></author>"
        f'<entry><id>x</id><title>t</title><updated>yesterday</updated><link href="{BASE}/2025-W01/report.zh.html"/>'
        '<link rel="enclosure" href="2025-W01/report.zh.pdf"/></entry></feed>',
        encoding="utf-8",
    )
    (site / "feed.en.xml").write_text("<feed><unclosed></feed>", encoding="utf-8")


def test_check_names_each_broken_link_with_its_page(tmp_path):
    site = tmp_path / "site"
    _broken_site(site)
    found = {(p.page, p.link, p.problem) for p in check_site(site, BASE)}
    assert ("index.html", "2025-W02/report.zh.html", "no such file in the site") in found
    assert ("index.html", f"{BASE}/2025-W01/report.zh.pdf", "no such file in the site") in found
    assert ("index.html", "../../etc/passwd", "leads outside the site") in found
    assert any(p == "index.html" and link == "/abs.png" for p, link, _ in found)
    assert ("feed.xml", "", 'the feed has no <link rel="self">') in found
    assert ("feed.xml", "", "entry 1 (x): <updated> 'yesterday' is not an RFC 3339 time") in found
    assert ("feed.xml", "", "entry 1 (x) has no <summary>") in found
    assert ("feed.xml", "2025-W01/report.zh.pdf", f"not an absolute link under the base URL {BASE}") in found
    assert any(p == "feed.en.xml" and "not well-formed XML" in why for p, _, why in found)
    assert ("2025-W01/report.zh.html", "#gone", "no anchor #gone in 2025-W01/report.zh.html") in found
    assert ("2025-W01/report.zh.html", "../index.html#nowhere", "no anchor #nowhere in index.html") in found
    assert len(check_site(site, BASE)) == len(found) == 11  # each broken link once; the working ones not at all

    ws = init_workspace(tmp_path / "ws")
    result = runner.invoke(app, ["--home", str(ws.root), "site", "-o", str(site), "--check"])
    assert result.exit_code == 1
    assert "index.html: 2025-W02/report.zh.html — no such file in the site" in result.output
    assert "problems in" in result.output
    missing = runner.invoke(app, ["--home", str(ws.root), "site", "-o", str(tmp_path / "none"), "--check"])
    assert missing.exit_code == 1 and "no site here" in missing.output


def test_site_into_a_file_is_a_clear_error(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    target = tmp_path / "taken"
    target.write_text("x", encoding="utf-8")
    result = runner.invoke(app, ["--home", str(ws.root), "site", "-o", str(target)])
    assert result.exit_code == 2 and f"{target} is not a folder" in result.output
    below = runner.invoke(app, ["--home", str(ws.root), "site", "-o", str(target / "site")])
    assert (
        below.exit_code == 2
        and f"cannot write the site into {target / 'site'}: {target} is not a folder" in below.output
    )


def test_a_base_url_that_is_not_an_absolute_address_is_refused_naming_it(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    ws.config_path.write_text(
        ws.config_path.read_text(encoding="utf-8").replace('base_url = ""', 'base_url = "cert.example.org/weekly"'),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["--home", str(ws.root), "site", "-o", str(tmp_path / "site")])
    assert result.exit_code == 2
    assert (
        "report.base_url" in result.output and "'cert.example.org/weekly' is not the absolute address" in result.output
    )
