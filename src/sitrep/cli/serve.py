"""``sitrep serve``: run the web desk (and the public archive) with Uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from sitrep.cli.common import console, user_errors, workspace
from sitrep.incidents.errors import StoreError
from sitrep.report.redact import SecretError


def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (keep 127.0.0.1 behind a reverse proxy).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port to listen on.", min=1, max=65535)] = 8000,
    forwarded_allow_ips: Annotated[
        str,
        typer.Option(
            "--forwarded-allow-ips",
            help="Comma-separated addresses of reverse proxies whose X-Forwarded-For/-Proto headers are "
            "trusted (they give the client address of the login limit, and HTTPS for Secure cookies).",
        ),
    ] = "127.0.0.1",
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=32,
            help="Server processes (one per core is a good start). Each keeps its own caches; sessions, "
            "the login limit and jobs are shared through the incident store.",
        ),
    ] = 1,
) -> None:
    """Run the web desk: the dashboard for logged-in users (add them with 'sitrep users add') and the
    public archive at /archive/.  See docs/web.md for running it behind a reverse proxy with TLS.

    \b
    Example:
      sitrep serve --port 8000
    """
    # Loaded only by this command: the other commands do not pay for the web stack.
    import os

    import uvicorn

    from sitrep.config import HOME_ENV
    from sitrep.web.app import create_app, prepare

    ws = workspace()
    with user_errors(StoreError, SecretError):
        if workers > 1:
            prepare(ws)
            os.environ[HOME_ENV] = str(ws.root)  # what each worker process's app opens
            app: object = "sitrep.web.app:served_app"
        else:
            app = create_app(ws)
    console.print(f"Sitrep web desk for {ws.root} on http://{host}:{port}/ (Ctrl-C stops it)", markup=False)
    uvicorn.run(
        app,  # type: ignore[arg-type]
        factory=workers > 1,
        workers=workers,
        host=host,
        port=port,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        server_header=False,
        log_level="info",
    )
