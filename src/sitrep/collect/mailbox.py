"""A mailbox on an IMAP server, as the mailbox kinds of sources use it (``imaplib``, UID commands).

:func:`open_mailbox` connects (TLS from the first byte, STARTTLS, or plain to this machine only), logs
in with the password of ``password_file`` or ``password_env``, and selects the source's folder.  Then
:meth:`Mailbox.waiting` lists the unseen messages whose ``From`` and ``Subject`` match the source's
patterns, :meth:`Mailbox.fetch` gets one message's bytes without marking it (``BODY.PEEK``, at most
``max_mb``), and :meth:`Mailbox.mark` does the source's ``then`` once the message's data is committed:
until then the message stays unseen, so a run killed half-way leaves it for the next run.

A long ingest between two commands may outlast the server's patience; a connection found dropped is
opened again (the folder's ``UIDVALIDITY`` must not have changed, or its UIDs would name other
messages).  Every error is a :class:`MailboxError` naming the server and what went wrong.
"""

from __future__ import annotations

import base64
import imaplib
import os
import re
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes
from email.errors import MessageError
from email.header import decode_header, make_header
from email.policy import compat32
from pathlib import Path
from typing import TypeVar

from sitrep.config import MailboxSource, Workspace

T = TypeVar("T")

# A connection idle this long is checked (NOOP) before it is used again.
_IDLE_SECONDS = 60.0
# UIDs asked for in one FETCH command (keeps the command line short).
_FETCH_BATCH = 200
_FETCH_ITEMS = "(UID RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)])"
_VERBS = {"seen": "flag", "move": "move", "delete": "delete"}


class MailboxError(OSError):
    """The mailbox cannot be used as configured (named with its server and why)."""


class MessageTooLarge(MailboxError):
    """A message over the source's ``max_mb``: not fetched, left unseen."""


@dataclass(frozen=True)
class Envelope:
    """A message waiting in the folder: its UID, ``From`` and ``Subject`` (decoded), when the server
    received it (``INTERNALDATE``) and its size in bytes."""

    uid: int
    sender: str
    subject: str
    received: datetime
    size: int

    def __str__(self) -> str:
        return f"message UID {self.uid} from {self.sender!r} ({self.subject!r})"


def password_of(workspace: Workspace, source: MailboxSource) -> str:
    """The mailbox's password: the content of ``password_file`` (inside the workspace when relative;
    its last line break dropped), else the value of the variable ``password_env``.  Raises
    :class:`MailboxError` naming the key when it is missing or empty."""
    if source.password_file:
        path = workspace.root / Path(source.password_file).expanduser()
        try:
            password = path.read_text(encoding="utf-8").rstrip("\r\n")
        except (OSError, UnicodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise MailboxError(f"password_file {path}: cannot be read ({why})") from None
        if not password:
            raise MailboxError(f"password_file {path} is empty")
        return password
    password = os.environ.get(source.password_env, "")
    if not password:
        raise MailboxError(f"the environment variable {source.password_env} (password_env) is not set")
    return password


def open_mailbox(workspace: Workspace, source: MailboxSource) -> Mailbox:
    """The source's folder, selected on its server by a secured, logged-in connection; close it
    (``with`` does).  Raises :class:`MailboxError`."""
    mailbox = Mailbox(source, password_of(workspace, source), _ca_file(workspace, source))
    try:
        mailbox.open()
    except MailboxError:
        mailbox.close()
        raise
    return mailbox


def _ca_file(workspace: Workspace, source: MailboxSource) -> Path | None:
    return workspace.root / Path(source.ca_file).expanduser() if source.ca_file else None


class Mailbox:
    """One folder of an IMAP server, open for one source (see :func:`open_mailbox`)."""

    def __init__(self, source: MailboxSource, password: str, ca_file: Path | None = None) -> None:
        self.source = source
        self._password = password
        self._ca_file = ca_file
        self._imap: imaplib.IMAP4 | None = None
        self._uidvalidity: str | None = None
        self._used = 0.0
        self.server = f"{source.host}:{source.port}"

    def __enter__(self) -> Mailbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the interface ---------------------------------------------------------------------------
    def open(self) -> None:
        """Connect, secure, log in and select the folder (read-write); check that ``move_to`` exists."""
        self._imap = self._connect()
        with self._talking("select the folder"):
            self._select(self._imap)
            if self.source.then == "move":
                kind, answer = self._imap.status(_quoted(self.source.move_to), "(MESSAGES)")
                if kind != "OK":
                    raise MailboxError(
                        f"{self.server} has no folder {self.source.move_to!r} (move_to): create it, or change "
                        f"move_to ({_said(answer)})"
                    )
        self._used = time.monotonic()

    def waiting(self) -> list[Envelope]:
        """The unseen messages (not flagged deleted) whose ``From`` matches ``from_pattern`` and
        ``Subject`` matches ``subject_pattern``, oldest first."""
        found = self._command("search the folder", lambda imap: _ok(imap.uid("SEARCH", "UNSEEN UNDELETED")))
        uids = sorted(int(u) for u in b" ".join(x for x in found if isinstance(x, bytes)).split())
        sender = re.compile(self.source.from_pattern, re.IGNORECASE)
        subject = re.compile(self.source.subject_pattern, re.IGNORECASE)
        envelopes = []
        for start in range(0, len(uids), _FETCH_BATCH):
            batch = ",".join(str(u) for u in uids[start : start + _FETCH_BATCH])

            def headers(imap: imaplib.IMAP4, batch: str = batch) -> list:
                return _ok(imap.uid("FETCH", batch, _FETCH_ITEMS))

            envelopes.extend(_envelopes(self._command("read the messages' headers", headers)))
        chosen = [e for e in envelopes if sender.search(e.sender) and subject.search(e.subject)]
        return sorted(chosen, key=lambda e: e.uid)

    def fetch(self, envelope: Envelope) -> bytes | None:
        """The message's bytes, leaving it unseen; None when it is gone (taken by someone else).
        Raises :class:`MessageTooLarge` for a message over ``max_mb`` (as the server counts, or as it
        sends: at most one byte over the limit is ever read)."""
        limit = self.source.max_mb * 1024 * 1024
        too_large = MessageTooLarge(f"{envelope} is {envelope.size:,} bytes, over max_mb = {self.source.max_mb}")
        if envelope.size > limit:
            raise too_large
        answer = self._command(
            f"fetch {envelope}", lambda imap: _ok(imap.uid("FETCH", str(envelope.uid), f"(BODY.PEEK[]<0.{limit + 1}>)"))
        )
        bodies = [item[1] for item in answer if isinstance(item, tuple) and len(item) == 2]
        if not bodies:
            return None
        if len(bodies[0]) > limit:
            raise too_large
        return bodies[0]

    def mark(self, uid: int) -> str:
        """Do the source's ``then`` with the message: flag it seen, move it to ``move_to`` (seen), or
        delete it; what was done, in words."""
        then, target = self.source.then, _quoted(self.source.move_to)
        what = {"seen": "marked seen", "move": f"moved to {self.source.move_to}", "delete": "deleted"}[then]
        number = str(uid)

        def act(imap: imaplib.IMAP4) -> None:
            _ok(imap.uid("STORE", number, "+FLAGS.SILENT", r"(\Seen)"))
            if then == "seen":
                return
            if then == "move" and "MOVE" in imap.capabilities:
                _ok(imap.uid("MOVE", number, target))
                return
            if then == "move":
                _ok(imap.uid("COPY", number, target))
            _ok(imap.uid("STORE", number, "+FLAGS.SILENT", r"(\Deleted)"))
            # Without UIDPLUS only an EXPUNGE of every deleted message is possible: leave that to whoever
            # flagged the others (this one is flagged deleted and seen, so it is not taken again).
            if "UIDPLUS" in imap.capabilities:
                _ok(imap.uid("EXPUNGE", number))

        self._command(f"{_VERBS[then]} message UID {uid}", act)
        return f"mail UID {uid} {what}"

    def close(self) -> None:
        """Log out (never CLOSE: that would expunge every message flagged deleted); quietly when the
        server is gone."""
        imap, self._imap = self._imap, None
        if imap is None:
            return
        try:
            imap.logout()
        except (imaplib.IMAP4.error, OSError):
            _drop(imap)

    # --- the connection ----------------------------------------------------------------------------
    def _context(self) -> ssl.SSLContext:
        try:
            return ssl.create_default_context(cafile=str(self._ca_file) if self._ca_file else None)
        except (OSError, ssl.SSLError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise MailboxError(f"ca_file {self._ca_file}: cannot be read as PEM certificates ({why})") from None

    def _connect(self) -> imaplib.IMAP4:
        source = self.source
        context = self._context()
        imap: imaplib.IMAP4 | None = None
        try:
            if source.security == "ssl":
                imap = imaplib.IMAP4_SSL(source.host, source.port, ssl_context=context, timeout=source.timeout_seconds)
            else:
                imap = imaplib.IMAP4(source.host, source.port, timeout=source.timeout_seconds)
            if source.security == "starttls":
                if "STARTTLS" not in imap.capabilities:
                    raise MailboxError(f"{self.server} does not offer STARTTLS (set security for this port)")
                imap.starttls(ssl_context=context)
            self._login(imap)
            # What the server offers once logged in (MOVE, UIDPLUS) is more than it said before.
            kind, said = imap.capability()
            if kind == "OK" and said and isinstance(said[-1], bytes):
                imap.capabilities = tuple(said[-1].decode("ascii", "replace").upper().split())
            return imap
        except MailboxError:
            _drop(imap)
            raise
        except imaplib.IMAP4.abort as exc:
            _drop(imap)
            raise MailboxError(f"{self.server} dropped the connection: {_said(exc)}") from None
        except imaplib.IMAP4.error as exc:
            _drop(imap)
            raise MailboxError(f"{self.server} refused the login of {source.user!r}: {_said(exc)}") from None
        except ssl.SSLCertVerificationError as exc:
            _drop(imap)
            raise MailboxError(
                f"TLS with {self.server} failed: its certificate is not trusted ({exc.verify_message or exc.reason}); "
                "for a private CA set ca_file"
            ) from None
        except ssl.SSLError as exc:
            _drop(imap)
            hint = " (the server did not answer in TLS: is security right for this port?)"
            why = f"{exc.reason or exc}{hint if exc.reason == 'WRONG_VERSION_NUMBER' else ''}"
            raise MailboxError(f"TLS with {self.server} failed: {why}") from None
        except socket.gaierror as exc:
            raise MailboxError(f"cannot find the IMAP server {source.host!r}: {exc.strerror}") from None
        except ConnectionRefusedError:
            raise MailboxError(f"{self.server} refused the connection (is an IMAP server listening there?)") from None
        except TimeoutError:
            _drop(imap)
            raise MailboxError(f"{self.server} did not answer within {source.timeout_seconds:g} s") from None
        except OSError as exc:
            _drop(imap)
            raise MailboxError(f"cannot reach the IMAP server {self.server}: {exc.strerror or exc}") from None

    def _login(self, imap: imaplib.IMAP4) -> None:
        user, password = self.source.user, self._password
        if user.isascii() and password.isascii():
            imap.login(user, password)
            return
        # LOGIN sends ASCII only; SASL PLAIN carries UTF-8 (RFC 4616).
        if "AUTH=PLAIN" not in imap.capabilities:
            raise MailboxError(f"{self.server} offers no AUTH=PLAIN, which a user name or password beyond ASCII needs")
        imap.authenticate("PLAIN", lambda _: f"\0{user}\0{password}".encode())

    def _select(self, imap: imaplib.IMAP4) -> None:
        kind, answer = imap.select(_quoted(self.source.folder))
        if kind != "OK":
            raise MailboxError(f"{self.server} has no folder {self.source.folder!r} (folder): {_said(answer)}")
        validity = imap.response("UIDVALIDITY")[1][0]
        if self._uidvalidity is not None and validity != self._uidvalidity:
            raise MailboxError(
                f"the folder {self.source.folder!r} of {self.server} was recreated (its UIDVALIDITY changed): "
                "its messages are looked at afresh next run"
            )
        self._uidvalidity = validity

    def _command(self, what: str, call: Callable[[imaplib.IMAP4], T]) -> T:
        """``call`` on the open connection, opened again first when it was dropped while idle."""
        if self._imap is None:
            raise MailboxError(f"the mailbox of {self.server} is closed")
        if time.monotonic() - self._used > _IDLE_SECONDS and not self._alive(self._imap):
            _drop(self._imap)
            self._imap = self._connect()
            with self._talking("select the folder again"):
                self._select(self._imap)
        with self._talking(what):
            result = call(self._imap)
        self._used = time.monotonic()
        return result

    @staticmethod
    def _alive(imap: imaplib.IMAP4) -> bool:
        try:
            return imap.noop()[0] == "OK"
        except (imaplib.IMAP4.error, OSError):
            return False

    @contextmanager
    def _talking(self, what: str) -> Iterator[None]:
        try:
            yield
        except MailboxError:
            raise
        except _Refused as exc:
            raise MailboxError(f"{self.server} refused to {what}: {exc}") from None
        except TimeoutError:
            raise MailboxError(f"{self.server} did not answer within {self.source.timeout_seconds:g} s") from None
        except imaplib.IMAP4.abort as exc:
            raise MailboxError(f"{self.server} dropped the connection: {_said(exc)}") from None
        except (imaplib.IMAP4.error, OSError) as exc:
            raise MailboxError(f"{self.server}: cannot {what}: {_said(exc)}") from None


class _Refused(Exception):
    """The server answered NO to a command (what it said)."""


def _ok(result: tuple[str, list]) -> list:
    """The data of imaplib's ``(kind, data)`` answer; :class:`_Refused` unless the kind is OK."""
    kind, answer = result
    if kind != "OK":
        raise _Refused(_said(answer))
    return answer


def _drop(imap: imaplib.IMAP4 | None) -> None:
    if imap is not None:
        with suppress(OSError):
            imap.shutdown()


def _said(answer: object) -> str:
    """What the server said, as text (imaplib gives bytes, lists of bytes, or an exception)."""
    if isinstance(answer, list):
        answer = b" ".join(a if isinstance(a, bytes) else str(a).encode() for a in answer if a is not None)
    if isinstance(answer, Exception):
        answer = answer.args[0] if answer.args else type(answer).__name__
    if isinstance(answer, bytes):
        answer = answer.decode("utf-8", "replace")
    return str(answer).strip() or "no reason given"


def _quoted(folder: str) -> str:
    """A folder name as IMAP reads it: modified UTF-7 (RFC 3501 5.1.3) in a quoted string."""
    encoded: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            data = base64.b64encode("".join(run).encode("utf-16-be")).decode().rstrip("=").replace("/", ",")
            encoded.append(f"&{data}-")
            run.clear()

    for char in folder:
        if " " <= char <= "~":
            flush()
            encoded.append("&-" if char == "&" else char)
        else:
            run.append(char)
    flush()
    text = "".join(encoded).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")
_INTERNALDATE = re.compile(rb'\bINTERNALDATE "([^"]+)"')


def _envelopes(answer: list) -> list[Envelope]:
    """The messages of a FETCH answer (``_FETCH_ITEMS``); other lines (flag updates) are skipped."""
    found = []
    for item in answer:
        if not (isinstance(item, tuple) and len(item) == 2):
            continue
        prefix, headers = item
        uid, size = _UID.search(prefix), _SIZE.search(prefix)
        if uid is None or size is None:
            continue
        fields = message_from_bytes(headers, policy=compat32)
        found.append(
            Envelope(
                int(uid.group(1)),
                _header_text(fields.get("From")),
                _header_text(fields.get("Subject")),
                _internal_date(_INTERNALDATE.search(prefix)),
                int(size.group(1)),
            )
        )
    return found


def _header_text(value: object) -> str:
    """A header as a person reads it (encoded words decoded); the raw text when it is malformed."""
    if value is None:
        return ""
    try:
        return str(make_header(decode_header(str(value)))).strip()
    except (MessageError, LookupError, ValueError, IndexError):
        return str(value).strip()


def _internal_date(found: re.Match[bytes] | None) -> datetime:
    """When the server received the message (``17-Jul-1996 02:44:25 -0700``); now when it is unreadable."""
    if found is not None:
        try:
            return datetime.strptime(found.group(1).decode().strip(), "%d-%b-%Y %H:%M:%S %z").astimezone(UTC)
        except ValueError:
            pass
    return datetime.now(UTC)
