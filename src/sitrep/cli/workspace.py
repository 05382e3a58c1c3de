"""``sitrep init``: create a workspace."""

from __future__ import annotations

from typing import Annotated

import typer

from sitrep.cli.common import console, state, user_errors
from sitrep.workspace import init_workspace


def init(
    directory: Annotated[
        str | None,
        typer.Argument(help="Folder to create the workspace in (default: --home or the current folder)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Rewrite sitrep.toml with the defaults.")] = False,
) -> None:
    """Create a workspace: sitrep.toml, the Parquet event lake, the database and the report folder."""
    with user_errors():
        ws = init_workspace(directory or state.home, overwrite=force)
    console.print(f"Workspace ready at {ws.root}")
    console.print(f"  configuration  {ws.config_path}")
    console.print(f"  event lake     {ws.lake_dir}")
    console.print(f"  database       {ws.database_url}")
    console.print(f"  reports        {ws.reports_dir}")
