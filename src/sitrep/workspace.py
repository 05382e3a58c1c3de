"""Creating a workspace: its configuration, event lake, report folders, incident database and secret.

It sits above the configuration (:mod:`sitrep.config`) and the incident store
(:mod:`sitrep.incidents.db`), which both only read a workspace.
"""

from __future__ import annotations

import os

from sitrep.config import CONFIG_NAME, Workspace, default_config_text, load_workspace, resolve_home
from sitrep.incidents.db import upgrade
from sitrep.report.redact import workspace_secret


def init_workspace(home: str | os.PathLike[str] | None = None, *, overwrite: bool = False) -> Workspace:
    """Create a workspace folder with its configuration, lake, database, report folders and secret key
    (an existing ``sitrep.toml`` and secret are kept; the configuration is rewritten with ``overwrite``)."""
    root = resolve_home(home)
    root.mkdir(parents=True, exist_ok=True)
    path = root / CONFIG_NAME
    if overwrite or not path.exists():
        tmp = path.with_suffix(".toml.tmp")
        tmp.write_text(default_config_text(), encoding="utf-8")
        os.replace(tmp, path)
    workspace = load_workspace(root)
    for folder in (workspace.lake_dir, workspace.reports_dir):
        folder.mkdir(parents=True, exist_ok=True)
    upgrade(workspace)
    workspace_secret(workspace)  # the key of restricted IDs in public reports (sitrep.report.redact)
    return workspace
