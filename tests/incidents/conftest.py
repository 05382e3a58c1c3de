"""Fixtures of the incident tests: a real PostgreSQL server on loopback, and workspaces on both backends.

The server is started once per session from Debian's binaries (``/usr/lib/postgresql/*/bin``).  We
run as root in CI and ``initdb`` refuses root, so the server then runs as the ``postgres`` system
user with its data in a fresh temporary folder.  Each test gets its own database.  On CI
(``CI=true``) a missing PostgreSQL fails the run; locally those tests are skipped with the reason.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomli_w
from sqlalchemy import text

from sitrep.config import Workspace
from sitrep.incidents.db import close_stores, make_engine
from sitrep.workspace import init_workspace

DATA = Path(__file__).with_name("data")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (servers here cannot bind port 0 and report it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PostgresServer:
    """A throwaway PostgreSQL cluster listening on 127.0.0.1 only, with trust authentication."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="sitrep-pg-"))
        self.data = self.root / "data"
        self.counter = itertools.count(1)
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        result = subprocess.run([*self.as_user, *args], capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")

    def start(self) -> None:
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories='' "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; returns its URL."""
        name = f"sitrep_test_{next(self.counter)}"
        engine = make_engine(self.url())
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
        engine.dispose()
        return self.url(name)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server (skipped locally, failed on CI, when it is not installed)."""
    bindir = _pg_bin()
    if bindir is None:
        message = "PostgreSQL server binaries not found (apt-get install postgresql)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    server = PostgresServer(bindir)
    started = time.monotonic()
    server.start()
    assert time.monotonic() - started < 60
    yield server
    server.stop()


def make_workspace(root: Path, database_url: str | None = None, **sections: dict) -> Workspace:
    """A workspace in ``root`` whose ``sitrep.toml`` holds ``sections`` (and the database URL)."""
    root.mkdir(parents=True, exist_ok=True)
    config = dict(sections)
    if database_url:
        config["storage"] = {**config.get("storage", {}), "database_url": database_url}
    (root / "sitrep.toml").write_text(tomli_w.dumps(config), encoding="utf-8")
    return init_workspace(root)


@pytest.fixture(autouse=True)
def _one_store_per_test() -> Iterator[None]:
    """Each test opens its own stores (the process keeps one per database) and closes them after."""
    yield
    close_stores()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """The database URL of this test run: the workspace SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return ""
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database()


@pytest.fixture
def ws(tmp_path: Path, backend: str) -> Workspace:
    """A fresh, migrated workspace on the backend under test."""
    return make_workspace(tmp_path / "ws", backend or None)
