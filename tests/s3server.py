"""A local S3-compatible server for the tests of the lake on object storage: moto's server (the
``s3`` extra's test dependency), started on 127.0.0.1 on a free port and spoken to through the real
S3 protocol over HTTP.  Without moto or s3fs the tests skip, saying why, unless ``SITREP_REQUIRE_S3=1``
(CI), where they fail.  :func:`s3_workspace` makes a workspace whose lake is on it."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from sitrep.config import Workspace, load_workspace
from sitrep.workspace import init_workspace

REGION = "eu-west-1"
# The variable the test workspaces read the secret key from.
SECRET_ENV = "SITREP_TEST_S3_SECRET"


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


def s3_workspace(root: Path, endpoint: str, bucket: str, *, secret_file: str = "") -> Workspace:
    """A workspace whose lake is ``s3://<bucket>/lake`` on the test server (the bucket is created)."""
    import s3fs

    s3fs.S3FileSystem(endpoint_url=endpoint, key="test", secret="test", client_kwargs={"region_name": REGION}).mkdir(
        bucket
    )
    init_workspace(root)
    config = root / "sitrep.toml"
    text = config.read_text(encoding="utf-8").replace('lake = "lake"', f'lake = "s3://{bucket}/lake"')
    text = text.replace('endpoint_url = ""', f'endpoint_url = "{endpoint}"').replace(
        'region = ""', f'region = "{REGION}"'
    )
    text = text.replace('access_key_id = ""', 'access_key_id = "test"')
    text = text.replace('secret_access_key_env = "AWS_SECRET_ACCESS_KEY"', f'secret_access_key_env = "{SECRET_ENV}"')
    text = text.replace('secret_access_key_file = ""', f'secret_access_key_file = "{secret_file}"')
    config.write_text(text, encoding="utf-8")
    return load_workspace(root)
