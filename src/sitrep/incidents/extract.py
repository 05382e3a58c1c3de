"""URLs, domains and IPs named in free text (a complaint mail), defanged forms understood.

Reporters defang what they quote so that no mail client makes it a live link: ``hxxp://``,
``hxxps://``, ``evil[.]com``, ``evil(.)com``, ``evil[dot]com``, ``http[:]//``, ``user[@]host``.
The patterns below accept each of those separators wherever a plain one may stand, and a match is
written back in its plain form (*refanged*).  What is found:

- **URLs** with a scheme (``http``, ``https``, ``ftp`` and their ``hxxp`` forms), host and optional
  user info, port, path and query; a path stops at the first character a URL cannot hold unencoded, so
  ``访问http://evil.com/login进行登录`` yields ``http://evil.com/login``.
- **Host names, and URLs without a scheme** (``evil.com``; ``evil.com/login.php`` becomes
  ``http://evil.com/login.php``), of ASCII labels (a Unicode name is found in a URL: Chinese text
  runs into it without a space), whose top-level domain is in the public-suffix list, so
  ``report.pdf`` or ``e.g`` is no domain.  A plainly written (not defanged) two-label name whose
  top level is also a common file extension (``invoice.zip``, ``readme.md``) is taken for a file.
- **IP addresses**, v4 and v6, that are globally routable (a private, loopback or documentation
  address names nothing anyone could take down).

E-mail addresses are not assets (they name the reporter and their contacts) and are skipped, as is
a signature block (the lines after a ``-- `` line).  Each value is normalised as an incident asset
(:func:`~sitrep.incidents.workflow.normalise_asset`); one no incident could hold is left out.  The
scan reads at most :data:`MAX_SCAN` characters and keeps at most ``limit`` assets, counting how many
more it saw.  Labels are matched possessively and every repetition is bounded, so hostile text costs
time in proportion to its length.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sitrep.incidents.errors import IncidentError
from sitrep.incidents.vocabulary import AssetKind
from sitrep.incidents.workflow import normalise_asset

MAX_SCAN = 2_000_000  # characters of text read for assets
SIGNATURE_LINES = 8  # a signature block is at most this long (RFC 3676 suggests 4)

# The separators a defanged name writes in place of ``.``, ``:``, ``@`` and ``://``.
_DEFANGED_DOT = r"[ \t]?[\[({][ \t]?(?:\.|dot)[ \t]?[\])}][ \t]?"
_DOT = rf"(?:\.|{_DEFANGED_DOT})"
_COLON = r"(?::|\[:\]|\(:\))"
_AT = r"(?:@|\[@\]|\(@\)|\[at\]|\(at\))"
_SLASHES = rf"(?:{_COLON}//|\[://\]|\[:/\]/)"
_SCHEME = r"(?:h[tx]{2}ps?|f[tx]p)"
_ASCII_LABEL = r"[a-z0-9_-]{1,63}+"
# A label of a Unicode name (例子.中国): no ASCII, space, CJK punctuation, full-width forms or
# general punctuation, so ``见evil.com。`` ends at the name.
_UNICODE_LABEL = r"[^\x00-\x7f\s\u3000-\u303f\uff00-\uffef\u2000-\u206f]{1,63}+"
_LABEL = rf"(?:{_ASCII_LABEL}|{_UNICODE_LABEL})"
_HOST = rf"(?:{_LABEL}{_DOT}){{1,126}}{_LABEL}"
# A name written without a scheme: ASCII labels only, since Chinese text runs into a Unicode label
# with no space between (``见例子.中国`` would be one name); such names are found in URLs.
_BARE_HOST = rf"(?:{_ASCII_LABEL}{_DOT}){{1,126}}{_ASCII_LABEL}"
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = rf"{_OCTET}(?:{_DOT}{_OCTET}){{3}}"
_IPV6 = r"[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}"
_USERINFO = rf"[a-z0-9._~%!$&'*+,;=:-]{{1,200}}{_AT}"
_PORT = rf"(?:{_COLON}[0-9]{{1,5}})?"
# A path, query and fragment of the characters a URL holds unencoded (defanged dots refanged later).
_PATH_CHARS = r"[a-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]{0,4000}+"

_URL = re.compile(
    rf"(?<![a-z0-9]){_SCHEME}{_SLASHES}(?:{_USERINFO})?(?:\[{_IPV6}\]|{_IPV4}|{_HOST}){_PORT}(?:[/?#]{_PATH_CHARS})?",
    re.IGNORECASE,
)
_EMAIL = re.compile(rf"(?<![a-z0-9._%+-])[a-z0-9._%+-]{{1,64}}{_AT}{_HOST}", re.IGNORECASE)
_IPV4_RE = re.compile(rf"(?<![0-9.]){_IPV4}(?![0-9]|\.[0-9])")
_IPV6_RE = re.compile(rf"(?<![0-9a-z:]){_IPV6}(?![0-9a-z:])", re.IGNORECASE)
_BARE = re.compile(rf"(?<![a-z0-9_.@/\\-]){_BARE_HOST}(?![a-z0-9_@-])(?:/{_PATH_CHARS})?", re.IGNORECASE)
_SIGNATURE = re.compile(r"^-- ?$", re.MULTILINE)
# Where quoted or forwarded content starts again after a signature.
_QUOTED = re.compile(r"^(?:-{3,}|_{5,}|>|(?:From|发件人|寄件者|Sent|发送时间)\s*[:：])", re.IGNORECASE)

_REFANG = (
    (re.compile(r"^h[tx]{2}p(?=s?(?:\[|\()?:)", re.IGNORECASE), "http"),
    (re.compile(r"^f[tx]p(?=(?:\[|\()?:)", re.IGNORECASE), "ftp"),
    (re.compile(r"\[://\]|\[:/\]/"), "://"),
    (re.compile(r"\[:\]|\(:\)"), ":"),
    (re.compile(r"\[@\]|\(@\)|\[at\]|\(at\)", re.IGNORECASE), "@"),
    (re.compile(_DEFANGED_DOT, re.IGNORECASE), "."),
)
# Top-level domains that are also file extensions: ``invoice.zip`` written plainly is a file.
FILE_LIKE_TLDS = frozenset({"zip", "mov", "md", "py", "sh", "rs", "pl", "js", "ps", "so", "exe", "doc", "app"})
# Characters a sentence puts after a URL that are not part of it.
_TRAILING = ".,;:!?'\"*"
_CLOSING = {")": "(", "]": "[", "}": "{"}


def refang(text: str) -> str:
    """``text`` with defanged separators written plainly (``hxxp://evil[.]com`` → ``http://evil.com``)."""
    for pattern, plain in _REFANG:
        text = pattern.sub(plain, text)
    return text


def _trim(url: str) -> str:
    """``url`` without the sentence punctuation after it, or a closing bracket it never opened."""
    while url:
        last = url[-1]
        if last in _TRAILING or (last in _CLOSING and url.count(last) > url.count(_CLOSING[last])):
            url = url[:-1]
        else:
            break
    return url


@cache
def _suffix_list() -> Any:
    from publicsuffixlist import PublicSuffixList  # the list ships with the package (offline)

    return PublicSuffixList()


def registrable_domain(host: str) -> str | None:
    """The name a registrant holds (``mail.bank.cn`` → ``bank.cn``), or None when ``host`` ends in no
    top-level domain of the public-suffix list."""
    try:
        found = _suffix_list().privatesuffix(host.lower().rstrip("."), accept_unknown=False)
    except (ValueError, UnicodeError):
        return None
    return str(found) if found else None


def routable(address: str) -> bool:
    """``address`` is an IP that names a host on the Internet (not private, loopback, documentation…)."""
    try:
        return ipaddress.ip_address(address).is_global
    except ValueError:
        return False


@dataclass(frozen=True)
class Found:
    """One asset named in the text, normalised, and whether it was written defanged."""

    kind: AssetKind
    value: str
    defanged: bool


@dataclass
class Extracted:
    """The assets of some texts in order of appearance (at most ``limit``), how many more were seen,
    and whether the texts were longer than :data:`MAX_SCAN` (the rest was not read)."""

    assets: list[Found] = field(default_factory=list)
    dropped: int = 0
    truncated: bool = False


def _without_signature(text: str) -> str:
    """``text`` without its signature blocks: a ``-- `` line and up to :data:`SIGNATURE_LINES` after it,
    ending early where quoted or forwarded content starts (top-posted replies quote below it)."""
    lines = text.split("\n")
    kept: list[str] = []
    skipping = 0
    for line in lines:
        if skipping and (_QUOTED.match(line) or skipping > SIGNATURE_LINES):
            skipping = 0
        if skipping:
            skipping += 1
            continue
        if _SIGNATURE.match(line.rstrip("\r")):
            skipping = 1
            continue
        kept.append(line)
    return "\n".join(kept)


def _scan(text: str) -> list[tuple[int, AssetKind, str, bool]]:
    """Everything :func:`find_assets` may keep from one text: position, kind, refanged value, defanged."""
    found: list[tuple[int, AssetKind, str, bool]] = []

    def blank(match: re.Match[str]) -> str:
        return " " * len(match.group())

    def url(match: re.Match[str]) -> str:
        written = _trim(match.group())
        found.append((match.start(), AssetKind.URL, refang(written), refang(written) != written))
        return blank(match)

    def address(match: re.Match[str]) -> str:
        value = refang(match.group())
        if routable(value):
            found.append((match.start(), AssetKind.IP, value, value != match.group()))
            return blank(match)
        # An IPv6-looking run that is no address (a time, a MAC) may still border a name.
        return blank(match) if "." in value else match.group()

    text = _URL.sub(url, text)
    text = _EMAIL.sub(blank, text)
    text = _IPV4_RE.sub(address, text)
    text = _IPV6_RE.sub(address, text)
    for match in _BARE.finditer(text):
        written = _trim(match.group())
        value = refang(written)
        host, slash, path = value.partition("/")
        defanged = value != written
        if registrable_domain(host) is None:
            continue
        if not defanged and host.count(".") == 1 and host.rpartition(".")[2].lower() in FILE_LIKE_TLDS:
            continue
        if slash and path:
            found.append((match.start(), AssetKind.URL, f"http://{value}", defanged))
        else:
            found.append((match.start(), AssetKind.DOMAIN, host, defanged))
    return found


def _key(kind: AssetKind, value: str) -> tuple[AssetKind, str]:
    """What two spellings of one asset share: a host in lower case, a URL's scheme and host too."""
    if kind is not AssetKind.URL:
        return kind, value.lower()
    scheme, _, rest = value.partition("://")
    host, slash, path = rest.partition("/")
    return kind, f"{scheme.lower()}://{host.lower()}{slash}{path}"


def find_assets(texts: list[str], *, limit: int, skip: Callable[[Found], bool] | None = None) -> Extracted:
    """The URLs, host names and IPs named in ``texts`` (see the module docstring), deduplicated, in the
    order they appear (text by text); ``skip`` says which are none (not kept, not counted)."""
    result = Extracted()
    budget = MAX_SCAN
    seen: set[tuple[AssetKind, str]] = set()
    for raw in texts:
        if budget <= 0:
            result.truncated = True
            break
        text = _without_signature(raw)
        if len(text) > budget:
            text, result.truncated = text[:budget], True
        budget -= len(text)
        for _, kind, value, defanged in sorted(_scan(text), key=lambda item: item[0]):
            if len(result.assets) >= limit:
                # Past the cap only counted, by a cheap key: normalising thousands costs seconds.
                if _key(kind, value) not in seen and not (skip and skip(Found(kind, value, defanged))):
                    seen.add(_key(kind, value))
                    result.dropped += 1
                continue
            try:
                kind, value = normalise_asset(value, kind)
            except IncidentError:
                continue  # a match no incident can hold (a host label of 64 characters…)
            asset = Found(kind, value, defanged)
            if _key(kind, value) not in seen and not (skip and skip(asset)):
                seen.add(_key(kind, value))
                result.assets.append(asset)
    return result
