"""The process's query database (``metrics.source``): where it spills a query past its memory limit."""

from __future__ import annotations

import tempfile
from pathlib import Path

from sitrep.config import load_workspace
from sitrep.metrics.source import cursor
from sitrep.workspace import init_workspace


def test_a_query_past_the_memory_limit_spills_to_a_private_temporary_folder(tmp_path: Path) -> None:
    home = init_workspace(tmp_path / "ws").root
    config = home / "sitrep.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('memory_limit = "2GB"', 'memory_limit = "100MB"', 1), encoding="utf-8")
    workspace = load_workspace(home)
    con = cursor(workspace)
    folder = Path(con.execute("SELECT current_setting('temp_directory')").fetchall()[0][0])
    assert folder.name == "spill" and folder.parent.parent == Path(tempfile.gettempdir())
    assert folder.parent.name.startswith("sitrep-queries-")
    # Grouping ~200 MB of distinct rows cannot be done in 100 MB: it fails unless the spill folder can be made.
    rows = con.execute(
        "SELECT count(*) FROM (SELECT s, count(*) FROM (SELECT md5(CAST(i AS VARCHAR)) || repeat('x', 100) AS s "
        "FROM range(1500000) t(i)) GROUP BY s)"
    ).fetchall()
    assert rows == [(1_500_000,)]
    assert folder.is_dir()
