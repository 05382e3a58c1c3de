"""Browser tests: Playwright for Python driving Debian's Chromium (``apt-get install chromium``; never
``playwright install``) against the web tests' running desk.

Without Chromium or Playwright the tests skip, saying which is missing; with
``SITREP_REQUIRE_BROWSER=1`` (set by ``.ci/run``) that is a failure instead, so CI always runs them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from web.conftest import web  # noqa: F401  (the running desk, shared with the HTTP tests' pattern)

CHROMIUM = Path("/usr/bin/chromium")
# Flags for a headless Chromium in a container (/work/shared/dependencies.md §6).
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _unavailable(reason: str) -> None:
    if os.environ.get("SITREP_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests required (SITREP_REQUIRE_BROWSER=1) but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A headless Debian Chromium driven by Playwright."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed (pip install -e '.[test]')")
    if not CHROMIUM.is_file():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield chromium
        chromium.close()
