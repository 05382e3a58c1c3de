"""Shared fixtures: a fresh workspace in a temporary folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sitrep.config import Workspace
from sitrep.workspace import init_workspace

# pytest-xdist starts its workers with COLUMNS=80, which Rich freezes into the CLI's consoles when
# sitrep.cli is first imported; without it each CLI test's own COLUMNS is honoured, as in one process.
os.environ.pop("COLUMNS", None)


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return init_workspace(tmp_path / "ws")
