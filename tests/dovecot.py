"""A real IMAP server for the tests of the mailbox sources: Debian's Dovecot (``apt-get install
dovecot-imapd``), started as an unprivileged process with a configuration of its own in a temporary
folder: one user (passwd-file), maildirs in that folder, and a self-signed certificate made by
``openssl`` at start.  It listens on 127.0.0.1 twice: ``port`` (plain, offering STARTTLS) and
``tls_port`` (TLS from the first byte).  Without Dovecot the tests skip, saying why, unless
``SITREP_REQUIRE_IMAP=1`` (CI), where they fail.

Messages are delivered with IMAP ``APPEND``, as a mail server's delivery agent would put them in."""

from __future__ import annotations

import imaplib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

USER, PASSWORD = "feeds", "s3cret-imap-pw"
_BINARY = "/usr/sbin/dovecot"


def require_dovecot() -> str:
    """Dovecot's binary; skip (or fail under ``SITREP_REQUIRE_IMAP=1``) when it is not installed."""
    found = shutil.which("dovecot") or (_BINARY if os.access(_BINARY, os.X_OK) else None)
    if found is None:
        reason = "dovecot is not installed (apt-get install dovecot-imapd) to test the mailbox sources"
        if os.environ.get("SITREP_REQUIRE_IMAP") == "1":
            pytest.fail(reason + " (SITREP_REQUIRE_IMAP=1)")
        pytest.skip(reason)
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Dovecot:
    """A running Dovecot: where it listens and its certificate (the CA to trust)."""

    port: int
    tls_port: int
    certificate: Path

    @contextmanager
    def session(self) -> Iterator[imaplib.IMAP4]:
        """A logged-in IMAP session (plain, on loopback) for delivering and looking at messages."""
        imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        imap.login(USER, PASSWORD)
        try:
            yield imap
        finally:
            imap.logout()

    def create(self, folder: str) -> None:
        """Create a folder (its name in IMAP's modified UTF-7, quoted, as the server reads it)."""
        with self.session() as imap:
            kind, answer = imap.create(folder)
            assert kind == "OK", answer

    def deliver(self, folder: str, message: bytes, *, seen: bool = False) -> None:
        """Put a message in ``folder`` (unseen unless ``seen``)."""
        with self.session() as imap:
            kind, answer = imap.append(folder, r"(\Seen)" if seen else "", None, message)
            assert kind == "OK", answer

    def flags(self, folder: str) -> dict[str, set[str]]:
        """The messages of ``folder``: each one's ``Subject`` → its (lasting) flags."""
        found: dict[str, set[str]] = {}
        with self.session() as imap:
            kind, count = imap.select(folder, readonly=True)
            assert kind == "OK", folder
            if count[0] == b"0":
                return found
            _, answer = imap.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            for item in answer:
                if isinstance(item, tuple):
                    flags = re.search(rb"FLAGS \(([^)]*)\)", item[0])
                    subject = item[1].decode().partition(":")[2].strip()
                    # \Recent says only that no session saw the message yet.
                    found[subject] = set(flags.group(1).decode().split()) - {r"\Recent"} if flags else set()
        return found


def _config(folder: Path, user: str, group: str, port: int, tls_port: int) -> str:
    uid, gid = pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid
    return f"""
protocols = imap
listen = 127.0.0.1
base_dir = {folder}/run
state_dir = {folder}/state
instance_name = sitrep-test-{port}
log_path = {folder}/dovecot.log
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = {uid}
first_valid_gid = {gid}
ssl = yes
ssl_cert = <{folder}/cert.pem
ssl_key = <{folder}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
# A wrong password is answered at once (the tests try one).
auth_failure_delay = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={folder}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
"""


@contextmanager
def dovecot_server() -> Iterator[Dovecot]:
    """Run Dovecot for the duration (as ``nobody`` when the tests run as root: Dovecot's login
    processes refuse root); yield where it listens."""
    binary = require_dovecot()
    as_root = os.geteuid() == 0
    user = "nobody" if as_root else pwd.getpwuid(os.geteuid()).pw_name
    group = subprocess.run(["id", "-gn", user], capture_output=True, text=True, check=True).stdout.strip()
    folder = Path(tempfile.mkdtemp(prefix="sitrep-dovecot-"))
    port, tls_port = _free_port(), _free_port()
    process = None
    try:
        subprocess.run(
            [
                *("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"),
                *("-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
                *("-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")),
            ],
            check=True,
            capture_output=True,
        )
        (folder / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n", encoding="utf-8")
        (folder / "dovecot.conf").write_text(_config(folder, user, group, port, tls_port), encoding="utf-8")
        if as_root:
            shutil.chown(folder, user, group)
            for path in folder.iterdir():
                shutil.chown(path, user, group)
        process = subprocess.Popen(
            [binary, "-F", "-c", str(folder / "dovecot.conf")],
            user=user if as_root else None,
            group=group if as_root else None,
            extra_groups=[] if as_root else None,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                    if sock.recv(100).startswith(b"* OK"):
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log = (folder / "dovecot.log").read_text(errors="replace") if (folder / "dovecot.log").exists() else ""
                output = process.stdout.read().decode(errors="replace") if process.poll() is not None else ""
                pytest.fail(f"dovecot did not start on port {port}: {output}{log}")
            time.sleep(0.05)
        yield Dovecot(port, tls_port, folder / "cert.pem")
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=20)
        shutil.rmtree(folder, ignore_errors=True)
