"""A local S3-compatible server for the tests of the lake on object storage: moto's server (the
``s3`` extra's test dependency), started on 127.0.0.1 on a free port and spoken to through the real
S3 protocol over HTTP.  Without moto or s3fs the tests skip, saying why, unless ``SITREP_REQUIRE_S3=1``
(CI), where they fail."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

REGION = "eu-west-1"


def require_s3() -> None:
    """Skip (or fail under ``SITREP_REQUIRE_S3=1``) when the server or s3fs is not installed."""
    missing = [name for name in ("moto", "flask", "s3fs") if importlib.util.find_spec(name) is None]
    if missing:
        reason = f"{', '.join(missing)} not installed: pip install 'cert-sitrep[s3,test]' to test the lake on S3"
        if os.environ.get("SITREP_REQUIRE_S3") == "1":
            pytest.fail(reason + " (SITREP_REQUIRE_S3=1)")
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def s3_server() -> Iterator[str]:
    """Run moto's S3 server for the duration; yield its endpoint URL."""
    require_s3()
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto's S3 server did not start on port {port}") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
