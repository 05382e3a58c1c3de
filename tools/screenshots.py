"""Take the web desk's screenshots for the docs (``docs/images/web-*.png``) in both languages.

    SITREP_PASSWORD=... .venv/bin/python tools/screenshots.py --home demo --user duty [--week 2026-W48]

Starts ``sitrep serve`` on the workspace (a free port on loopback), logs in as ``--user`` (a user of
that workspace: ``sitrep users add``; the password from ``SITREP_PASSWORD`` or standard input), and
saves each page of :data:`PAGES` in Chinese and English with Debian's Chromium.  The user's interface
language is switched through the page, as a user would, and left as it was found.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
# Image name → page of the desk ({week}: the week shown); full-page shots are cut at MAX_HEIGHT.
PAGES = {
    "dashboard": "/?week={week}",
    "desk-list": "/incidents",
    "ledger": "/ledger",
    "explorer": "/events?week={week}",
    "proposals": "/incidents/proposals?week={week}",
    "reports": "/reports/{week}",
    "jobs": "/jobs",
}
WIDTH, MAX_HEIGHT = 1280, 2800


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_up(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"sitrep serve stopped (exit {server.returncode})")
        try:
            httpx.get(url + "/login", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.3)
    sys.exit(f"sitrep serve did not answer at {url} within 60 s")


def _language(page: Page, url: str, lang: str) -> None:
    """Switch the interface language with the top bar's own form (the user's setting)."""
    page.goto(url + "/")
    if not page.evaluate("document.documentElement.lang").startswith(lang):
        page.click("form[action='/language'] button[type='submit']")
        page.wait_for_load_state("networkidle")


def _shoot(page: Page, path: Path) -> None:
    height = min(page.evaluate("document.documentElement.scrollHeight"), MAX_HEIGHT)
    page.set_viewport_size({"width": WIDTH, "height": max(height, 600)})
    page.screenshot(path=str(path), full_page=False)
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", required=True, type=Path, help="The workspace to serve (e.g. the demo's).")
    parser.add_argument("--user", required=True, help="A user of that workspace to log in as.")
    parser.add_argument("--week", required=True, help="The week the week pages show, e.g. 2026-W48.")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images", help="Where the images go.")
    parser.add_argument("--only", nargs="*", choices=sorted(PAGES), help="Only these pages (default: all).")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="The Chromium binary to drive.")
    args = parser.parse_args()
    password = os.environ.get("SITREP_PASSWORD") or sys.stdin.readline().rstrip("\n")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    sitrep = [sys.executable, "-m", "sitrep", "--home", str(args.home)]
    server = subprocess.Popen([*sitrep, "serve", "--port", str(port)], stdout=subprocess.DEVNULL)
    try:
        _wait_until_up(url, server)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=args.chromium)
            page = browser.new_page(viewport={"width": WIDTH, "height": 900})
            page.goto(url + "/login")
            page.fill("input[name='name']", args.user)
            page.fill("input[name='password']", password)
            page.click("form[action='/login'] button[type='submit']")
            page.wait_for_load_state("networkidle")
            if "/login" in page.url:
                sys.exit(f"could not log in as {args.user!r}")
            first = page.evaluate("document.documentElement.lang") or "zh"
            for lang in ("zh", "en"):
                _language(page, url, lang)
                for name in args.only or PAGES:
                    # The page's own height, not the last shot's viewport (a document is at least as tall).
                    page.set_viewport_size({"width": WIDTH, "height": 900})
                    page.goto(url + PAGES[name].format(week=args.week))
                    page.wait_for_load_state("networkidle")
                    _shoot(page, args.out / f"web-{name}-{lang}.png")
            _language(page, url, "en" if first.startswith("en") else "zh")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
