"""Fixtures of the report tests: the shared workspace of :mod:`.data` and its facts."""

from __future__ import annotations

import pytest

from sitrep.config import Workspace
from sitrep.report.facts_model import Facts

from .data import WEEK, build_workspace


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The shared, read-only workspace (tests that change data build their own)."""
    return build_workspace(tmp_path_factory.mktemp("report") / "ws")


@pytest.fixture(scope="session")
def facts(built: Workspace) -> Facts:
    from sitrep.report.facts import gather

    return gather(built, WEEK)


@pytest.fixture(scope="session")
def secret(built: Workspace) -> bytes:
    """The shared workspace's secret key (keys the opaque IDs of restricted data)."""
    from sitrep.report.redact import workspace_secret

    return workspace_secret(built)
