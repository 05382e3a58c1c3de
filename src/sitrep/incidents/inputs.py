"""Checks of hostile text before it is stored: one-line names without control characters, and domain
names that are real ones.

A name with a line break or another control character can forge e-mail headers and CSV lines, and a
bidirectional override makes ``moc.elgoog`` read as another name; such text is refused with the code
point, never silently cleaned.
"""

from __future__ import annotations

import re
import unicodedata

from sitrep.incidents.errors import IncidentError

# Bidirectional embeddings, overrides and isolates (format characters that reorder what is shown).
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_TLD = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


def _bad_character(text: str, allowed: str) -> str | None:
    for char in text:
        if char in allowed:
            continue
        if unicodedata.category(char) == "Cc" or char in _BIDI:
            return char
    return None


def plain_text(value: str, what: str, *, max_length: int | None = None, multiline: bool = False) -> str:
    """``value`` trimmed, refused when empty, too long or holding a control character.

    ``multiline`` text (notes) may hold line breaks and tabs, nothing else of the control range.
    """
    text = value.strip()
    if not text:
        raise IncidentError(f"{what} is empty")
    bad = _bad_character(text, "\n\t" if multiline else "")
    if bad is not None:
        raise IncidentError(f"{what} {value!r} contains the control character U+{ord(bad):04X}")
    if max_length is not None and len(text) > max_length:
        raise IncidentError(f"{what} is longer than {max_length} characters")
    return text


def optional_text(value: str | None, what: str, *, max_length: int | None = None) -> str | None:
    """Like :func:`plain_text`, but empty or missing text is None."""
    if value is None or not value.strip():
        return None
    return plain_text(value, what, max_length=max_length)


def country_code(value: str | None, what: str = "country") -> str | None:
    """A two-letter ISO 3166 code in upper case (``cn`` → ``CN``); empty or missing is None."""
    text = (value or "").strip().upper()
    if not text:
        return None
    if not _COUNTRY.match(text):
        raise IncidentError(f"{what} {value!r} is not a two-letter ISO country code")
    return text


def domain_name(value: str) -> str:
    """A real domain name, lower case without a trailing dot; raise naming the value otherwise.

    At least two labels; each of letters, digits, ``-`` (not at either end) or ``_`` (abuse hosts use
    it, DNS allows it), at most 63 characters; a top-level domain of letters or an ``xn--`` label.
    Unicode names (``例子.中国``) are checked in their IDNA form and kept as given.
    """
    text = value.strip().lower().rstrip(".")
    problem = _domain_problem(text)
    if problem:
        raise IncidentError(f"{value!r} is not a domain name ({problem})")
    return text


def _domain_problem(text: str) -> str | None:
    if not text:
        return "empty"
    if len(text) > 253:
        return "longer than 253 characters"
    labels = text.split(".")
    if len(labels) < 2:
        return "it needs at least two labels, e.g. example.cn"
    ascii_labels = []
    for label in labels:
        if not label:
            return "empty label"
        try:
            ascii_labels.append(label if label.isascii() else "xn--" + label.encode("punycode").decode("ascii"))
        except UnicodeError:
            return f"label {label!r} cannot be encoded"
    for label in ascii_labels:
        if not _LABEL.match(label):
            return f"label {label!r} holds a character a host name cannot have"
    if not _TLD.match(ascii_labels[-1]):
        return f"top-level domain {labels[-1]!r} is not a name"
    return None
