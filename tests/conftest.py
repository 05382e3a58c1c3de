"""Shared fixtures: a fresh workspace in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from sitrep.config import Workspace
from sitrep.workspace import init_workspace


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return init_workspace(tmp_path / "ws")
