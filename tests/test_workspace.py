"""Creating a workspace: folders, a configuration that round-trips to the defaults, the database."""

from __future__ import annotations

import tomllib
from pathlib import Path

from sitrep.config import Settings, default_config_text
from sitrep.workspace import init_workspace


def _write(root: Path, text: str) -> None:
    (root / "sitrep.toml").write_text(text, encoding="utf-8")


def test_init_creates_folders_and_a_valid_config(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "new" / "ws")
    assert ws.root == (tmp_path / "new" / "ws").resolve()
    assert ws.config_path.is_file()
    assert ws.lake_dir.is_dir() and ws.lake_dir == ws.root / "lake"
    assert ws.reports_dir.is_dir() and ws.reports_dir == ws.root / "reports"
    assert (ws.root / "sitrep.db").is_file()
    assert not list(ws.root.glob("*.tmp"))
    text = ws.config_path.read_text(encoding="utf-8")
    assert "docs/configuration.md" in text
    # The file round-trips: parsing it gives back exactly the defaults.
    assert Settings.model_validate(tomllib.loads(text)) == Settings()
    # Every default but the empty list of sources (shown as a commented example, so that a
    # [[sources]] table can be added below it).
    assert tomllib.loads(default_config_text()) == Settings().model_dump(mode="json", exclude={"sources"})
    assert "# [[sources]]" in text


def test_init_keeps_an_existing_config_unless_forced(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "ws")
    _write(ws.root, '[organisation]\nname = "MYCERT"\n')
    assert init_workspace(ws.root).settings.organisation.name == "MYCERT"
    assert init_workspace(ws.root, overwrite=True).settings.organisation.name == "CNCERT"
