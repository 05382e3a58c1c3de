"""Reading a complaint mail (RFC 5322 bytes) as hostile input: what it says, never what it runs.

:func:`read_mail` returns a :class:`ComplaintMail`: sender, date, subject, Message-ID, the texts to
read (inline text and HTML parts, HTML reduced to its text; ``text/plain`` attachments; the same of
every forwarded ``message/rfc822`` part, nested up to :data:`MAX_DEPTH`), the attachments listed
(name, type, size, SHA-256 — never opened, unpacked or run; a zip is listed by its own size), the
headers that tell an automatic mail from a person's, warnings, and a ``problem`` when the mail cannot
be read reliably and is to be quarantined: no header at all, a multipart without its boundaries, more
than ``max_parts`` MIME parts.

Text is decoded by its declared charset (``gb2312`` and ``gbk`` as their superset GB 18030, which
is what Chinese mail programs really write); an unknown or missing charset is tried as UTF-8, then
GB 18030, then read as UTF-8 with replacement characters, with a warning.  Header values are one line:
line breaks and other control characters (an encoded word may hide ``\\r\\n Bcc:``) become spaces.
"""

from __future__ import annotations

import codecs
import email
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import errors as mail_errors
from email import policy
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any

MAX_DEPTH = 5  # forwarded messages inside forwarded messages read this deep
MAX_SUBJECT = 300
MAX_NAME = 200

# Defects after which the parts of a multipart cannot be told apart: such a mail is quarantined.
QUARANTINE_DEFECTS = (
    mail_errors.NoBoundaryInMultipartDefect,
    mail_errors.StartBoundaryNotFoundDefect,
    mail_errors.MultipartInvariantViolationDefect,
)
# Charsets written under another name than the codec that reads them.
CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "euc-cn": "gb18030",
    "cp936": "gb18030",
    "utf8": "utf-8",
    "unknown-8bit": "",
    "x-unknown": "",
}
# Elements whose content is code or styling, never text (an unclosed one hides the rest).
_HIDDEN = frozenset({"script", "style", "template", "object", "embed", "applet", "svg", "math"})
_BLOCKS = frozenset({"p", "br", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "pre"})
# Attributes whose value is an address the reader is sent to (a link's text may say another).
_LINKS = {"a": "href", "area": "href", "form": "action", "iframe": "src", "frame": "src"}
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_MSGID = re.compile(r"<?([^<>\s@]{1,250}@[^<>\s@]{1,250})>?")
_IDS = re.compile(r"<([^<>\s]{1,500})>")


@dataclass(frozen=True)
class Attachment:
    """An attached file as listed: its name as sent (cleaned), media type, size and SHA-256."""

    name: str
    content_type: str
    size: int
    sha256: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.content_type, "size": self.size, "sha256": self.sha256}


@dataclass
class ComplaintMail:
    """What :func:`read_mail` read of one mail (see the module docstring)."""

    message_id: str | None = None
    sender: str | None = None  # the bare address of From
    sender_name: str | None = None
    date: datetime | None = None
    subject: str = ""
    texts: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problem: str | None = None
    # What tells an automatic mail from a person's (see :mod:`sitrep.incidents.autoreply`).
    auto_submitted: str | None = None
    precedence: str | None = None
    mailing_list: bool = False
    suppress_replies: bool = False  # X-Auto-Response-Suppress asks for no automatic answer
    autoreply: bool = False  # an X-Autoreply or X-Autorespond header: it is one
    report_type: str | None = None  # of a multipart/report: delivery-status (a bounce), feedback-report…
    return_path: str | None = None
    references: tuple[str, ...] = ()

    @property
    def reporter(self) -> str | None:
        """The sender as the incident records it: ``Name <address>``, or the address alone."""
        if not self.sender:
            return self.sender_name
        return f"{self.sender_name} <{self.sender}>" if self.sender_name else self.sender


def one_line(text: str, max_length: int) -> str:
    """``text`` as one clean line: control, format-reordering and line-separator characters become
    spaces, runs of spaces one, at most ``max_length`` characters."""
    cleaned = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") or c in _BIDI else c for c in text)
    cleaned = " ".join(cleaned.split())
    return cleaned[:max_length].rstrip()


def clean_text(text: str) -> str:
    """``text`` with its lines kept and every other control or reordering character left out."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    kept = "".join(c for c in text if c in "\n\t" or not (unicodedata.category(c) == "Cc" or c in _BIDI))
    return re.sub(r"\n{3,}", "\n\n", kept)


def decode_bytes(data: bytes, charset: str | None) -> tuple[str, str | None]:
    """``data`` as text in ``charset`` (see the module docstring), and a warning when it was not clean."""
    name = (charset or "").strip().strip('"').lower()
    name = CHARSET_ALIASES.get(name, name)
    warning = None
    if name:
        try:
            return _decode_strict_or_replace(data, codecs.lookup(name).name, charset or "")
        except LookupError:
            warning = f"unknown charset {one_line(charset or '', 40)!r}"
    for guess in ("utf-8", "gb18030"):
        try:
            return data.decode(guess), warning
        except UnicodeDecodeError:
            continue
    text = data.decode("utf-8", errors="replace")
    return text, (warning or "text in no known charset") + ": undecodable bytes replaced"


def _decode_strict_or_replace(data: bytes, codec: str, declared: str) -> tuple[str, str | None]:
    try:
        return data.decode(codec), None
    except UnicodeDecodeError:
        return data.decode(codec, errors="replace"), f"bytes not valid in {one_line(declared, 40)} replaced"
    except LookupError:  # a codec that is no text encoding (base64, zlib…) named as a charset
        raise LookupError(codec) from None


class _HtmlText(HTMLParser):
    """The text of an HTML part and the addresses its links and forms send to; code left out."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0
        self.had_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
            self.had_script |= tag == "script"
            return
        if tag in _BLOCKS:
            self.parts.append("\n")
        wanted = _LINKS.get(tag)
        for name, value in attrs:
            if name == wanted and value and not value.lower().startswith(("mailto:", "javascript:", "#", "data:")):
                self.parts.append(f" {value} ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_text(markup: str) -> tuple[str, bool]:
    """The text of ``markup`` (scripts and styles left out) and whether it held a script."""
    parser = _HtmlText()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:  # whatever the parser trips on, what it read so far is the text
        pass
    return "".join(parser.parts), parser.had_script


def _decoded_words(value: str) -> str:
    """A raw header value with its RFC 2047 encoded words decoded, each in its charset."""
    try:
        pieces = decode_header(value)
    except (ValueError, IndexError, mail_errors.HeaderParseError):
        return value
    text = []
    for piece, charset in pieces:
        text.append(decode_bytes(piece, charset)[0] if isinstance(piece, bytes) else piece)
    return "".join(text)


def _header(message: Message, name: str) -> str | None:
    """A header's value as text, or None; a value the header parser cannot read is decoded by hand."""
    try:
        value = message.get(name)
        return None if value is None else str(value)
    except Exception:  # the header parser meets hostile input; the raw value remains
        for key, raw in message.raw_items():
            if key.lower() == name.lower():
                return _decoded_words(str(raw))
    return None


def _raw_header(message: Message, name: str) -> str:
    """A header's value as sent (unfolded; 8-bit text read as UTF-8, else GB 18030), encoded words kept."""
    for key, value in message.raw_items():
        if key.lower() == name.lower():
            text = re.sub(r"\r?\n[ \t]", " ", str(value))
            return decode_bytes(text.encode("utf-8", "surrogateescape"), None)[0]
    return ""


def _sender(message: Message, mail: ComplaintMail) -> None:
    """The From address and display name, parsed from the header as sent: the address is found before
    any encoded word is decoded, so a display name that decodes to ``x\r\nBcc: <victim@…>`` stays a
    name and never becomes the address a reply would go to."""
    found = getaddresses([_raw_header(message, "From")])
    name, address = found[0] if found else ("", "")
    address = one_line(address, 320)
    name = one_line(_decoded_words(name) if "=?" in name else name, MAX_NAME)
    if address and not re.fullmatch(r"[^@\s<>]{1,64}@[^@\s<>]{1,253}\.[^@\s<>.]{1,63}", address):
        mail.warnings.append(f"sender {address!r} is not an e-mail address")
        name, address = name or address, ""
    mail.sender = address or None
    mail.sender_name = name or None


def _date(message: Message, mail: ComplaintMail) -> None:
    raw = _header(message, "Date")
    if not raw:
        return
    try:
        moment = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        mail.warnings.append(f"Date {one_line(raw, 60)!r} is no date")
        return
    mail.date = moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _message_id(value: str | None) -> str | None:
    found = _MSGID.fullmatch(one_line(value or "", 510))
    return f"<{found.group(1)}>" if found else None


def _flags(message: Message, mail: ComplaintMail) -> None:
    mail.auto_submitted = one_line(_header(message, "Auto-Submitted") or "", 100).lower() or None
    mail.precedence = one_line(_header(message, "Precedence") or "", 100).lower() or None
    mail.mailing_list = any(_header(message, h) for h in ("List-Id", "List-Unsubscribe", "List-Post"))
    suppress = (_header(message, "X-Auto-Response-Suppress") or "").lower()
    autoreply = any(_header(message, h) for h in ("X-Autoreply", "X-Autorespond", "X-Autoreply-From"))
    mail.autoreply = autoreply
    mail.suppress_replies = any(word in suppress for word in ("all", "autoreply", "oof"))
    mail.return_path = one_line(_header(message, "Return-Path") or "", 330) or None
    references = " ".join(_header(message, h) or "" for h in ("In-Reply-To", "References"))
    mail.references = tuple(f"<{i}>" for i in _IDS.findall(references))[:100]
    try:
        if message.get_content_type() == "multipart/report":
            mail.report_type = one_line(str(message.get_param("report-type") or "unknown"), 60).lower()
    except Exception:  # an unreadable Content-Type: the walk below quarantines the mail
        pass


def _filename(part: Message) -> str | None:
    try:
        return part.get_filename()
    except Exception:  # an unreadable parameter: no name
        return None


class _TooManyParts(Exception):
    pass


@dataclass
class _Walk:
    mail: ComplaintMail
    max_parts: int
    parts: int = 0
    scripts: int = 0

    def visit(self, part: Message, depth: int) -> None:
        self.parts += 1
        if self.parts > self.max_parts:
            raise _TooManyParts
        kind = part.get_content_type()
        if kind == "message/rfc822":
            self.forwarded(part, depth)
        elif part.is_multipart():
            children = [c for c in part.get_payload() if isinstance(c, Message)]
            if kind == "multipart/alternative":
                children = self.best_alternative(children)
            for child in children:
                self.visit(child, depth)
        else:
            self.leaf(part, kind)

    @staticmethod
    def best_alternative(children: list[Message]) -> list[Message]:
        """Plain text when the mail offers it (the same words as the HTML, without markup), else the
        last, richest alternative (RFC 2046)."""
        plain = [c for c in children if c.get_content_type() == "text/plain"]
        return plain[:1] or children[-1:]

    def forwarded(self, part: Message, depth: int) -> None:
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload and isinstance(payload[0], Message) else None
        raw = self.raw(part)
        name = one_line(_header(inner, "Subject") or "", MAX_SUBJECT) if inner is not None else ""
        self.listed(part, raw, fallback=f"{name or 'forwarded message'}.eml", kind="message/rfc822")
        if inner is None:
            return
        if depth >= MAX_DEPTH:
            self.mail.warnings.append(f"forwarded messages nested deeper than {MAX_DEPTH} were not read")
            return
        if name:
            self.mail.texts.append(name)
        self.visit(inner, depth + 1)

    def leaf(self, part: Message, kind: str) -> None:
        attached = part.get_content_disposition() == "attachment" or _filename(part) is not None
        data = self.raw(part)
        if kind in ("text/plain", "text/html") and not (attached and kind == "text/html"):
            try:
                charset = part.get_content_charset()
            except Exception:  # an unreadable parameter: no charset declared
                charset = None
            text, warning = decode_bytes(data, charset)
            if warning:
                self.mail.warnings.append(warning)
            if kind == "text/html":
                text, script = html_text(text)
                self.scripts += script
            self.mail.texts.append(clean_text(text))
        if attached or kind not in ("text/plain", "text/html"):
            self.listed(part, data, fallback="(unnamed)", kind=kind)

    @staticmethod
    def raw(part: Message) -> bytes:
        """The part's content as sent, transfer encoding undone (never decompressed or opened)."""
        try:
            data = part.get_payload(decode=True)
        except Exception:  # a broken transfer encoding: the bytes as they stand
            data = None
        if isinstance(data, bytes):
            return data
        try:
            return part.as_bytes(policy=policy.default.clone(max_line_length=0))
        except Exception:
            return b""

    def listed(self, part: Message, data: bytes, *, fallback: str, kind: str) -> None:
        name = one_line(_filename(part) or "", 255) or fallback
        self.mail.attachments.append(Attachment(name, kind, len(data), hashlib.sha256(data).hexdigest()))


def read_mail(raw: bytes, *, max_parts: int) -> ComplaintMail:
    """Read one mail (see the module docstring); never raises for what the bytes hold."""
    mail = ComplaintMail()
    try:
        message = email.message_from_bytes(raw, policy=policy.default)
    except Exception as exc:  # the parser is lenient; whatever still escapes it is a bad mail
        mail.problem = f"not a mail message: {one_line(str(exc), 200)}"
        return mail
    if not any(_header(message, h) is not None for h in ("From", "To", "Subject", "Date", "Message-ID")):
        mail.problem = "not a mail message: no From, To, Subject, Date or Message-ID header"
        return mail
    _sender(message, mail)
    _date(message, mail)
    mail.subject = one_line(_header(message, "Subject") or "", MAX_SUBJECT)
    mail.message_id = _message_id(_header(message, "Message-ID"))
    _flags(message, mail)
    walk = _Walk(mail, max_parts)
    try:
        walk.visit(message, 0)
    except _TooManyParts:
        mail.problem = f"more than {max_parts} MIME parts"
        return mail
    except Exception as exc:  # a structure the parser built but cannot walk
        mail.problem = f"malformed MIME: {one_line(str(exc) or type(exc).__name__, 200)}"
        return mail
    defects = [d for part in message.walk() for d in part.defects]
    fatal = sorted({type(d).__name__ for d in defects if isinstance(d, QUARANTINE_DEFECTS)})
    if fatal:
        mail.problem = f"malformed MIME: {', '.join(fatal)}"
    elif defects:
        names = sorted({type(d).__name__ for d in defects})
        mail.warnings.append(f"MIME defects: {', '.join(names)}")
    if walk.scripts:
        mail.warnings.append("HTML with script: the script was left out, only the text was read")
    return mail
