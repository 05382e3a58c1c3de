"""``sitrep init``: create a workspace."""

from __future__ import annotations

from typing import Annotated

import typer

from sitrep.cli.common import console, state, user_errors
from sitrep.report.redact import SecretError, secret_path
from sitrep.workspace import init_workspace


def init(
    directory: Annotated[
        str | None,
        typer.Argument(help="Folder to create the workspace in (default: --home or the current folder)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Rewrite sitrep.toml with the defaults.")] = False,
) -> None:
    """Create a workspace: sitrep.toml, the Parquet event lake, the database, the report folder
    and the secret key of restricted IDs."""
    with user_errors(SecretError):
        ws = init_workspace(directory or state.home, overwrite=force)
    console.print(f"Workspace ready at {ws.root}")
    console.print(f"  configuration  {ws.config_path}")
    console.print(f"  event lake     {ws.lake_url or ws.lake_dir}")
    console.print(f"  database       {ws.database_url}")
    console.print(f"  reports        {ws.reports_dir}")
    console.print(f"  secret key     {secret_path(ws)} (keys the IDs of restricted data in reports; keep it)")
