"""The closed vocabularies of incident handling: status, grade, how reported, outcome, asset kind.

Incident categories, partner types and TLP are defined once in :mod:`sitrep.taxonomy`; the words here
only exist for incident handling.  Every value is stored as its string in the database.
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from typing import TypeVar

E = TypeVar("E", bound=StrEnum)


class Status(StrEnum):
    """Where an incident is in its handling (see :mod:`sitrep.incidents.workflow` for transitions)."""

    NEW = "new"
    TRIAGED = "triaged"
    COORDINATING = "coordinating"
    RESOLVED = "resolved"
    REJECTED = "rejected"
    UNRESOLVED = "unresolved"

    @property
    def closed(self) -> bool:
        return self in CLOSED_STATUSES


CLOSED_STATUSES = frozenset({Status.RESOLVED, Status.REJECTED, Status.UNRESOLVED})
OPEN_STATUSES = tuple(s for s in Status if s not in CLOSED_STATUSES)


class Grade(StrEnum):
    """Incident grade after GB/T 20986 (class IV 一般 up to class I 特别重大)."""

    GENERAL = "一般"
    LARGER = "较大"
    MAJOR = "重大"
    ESPECIALLY_MAJOR = "特别重大"

    @property
    def en(self) -> str:
        return _GRADE_EN[self]

    @classmethod
    def parse(cls, value: str) -> Grade:
        """Accept the Chinese name, its English label, or the class numeral (IV, III, II, I)."""
        text = value.strip()
        for grade in cls:
            if text == grade.value:
                return grade
        alias = _GRADE_ALIASES.get(text.lower().replace("_", "-").replace(" ", "-"))
        if alias is None:
            names = "、".join(g.value for g in cls)
            raise ValueError(
                f"unknown grade {value!r}; use one of {names} (or general/larger/major/"
                "especially-major, or IV/III/II/I)"
            )
        return alias


_GRADE_EN = {
    Grade.GENERAL: "general",
    Grade.LARGER: "larger",
    Grade.MAJOR: "major",
    Grade.ESPECIALLY_MAJOR: "especially-major",
}
_GRADE_ALIASES = {
    **{en: grade for grade, en in _GRADE_EN.items()},
    "iv": Grade.GENERAL,
    "iii": Grade.LARGER,
    "ii": Grade.MAJOR,
    "i": Grade.ESPECIALLY_MAJOR,
}


class ReportedVia(StrEnum):
    """How the team learned of the incident."""

    COMPLAINT = "complaint"
    PARTNER = "partner"
    MONITORING = "monitoring"
    FOREIGN_CERT = "foreign-cert"


class Outcome(StrEnum):
    """What a coordination request achieved."""

    TAKEN_DOWN = "taken-down"
    FIXED = "fixed"
    REFUSED = "refused"
    NO_RESPONSE = "no-response"

    @property
    def effective(self) -> bool:
        """Did the partner act (the abuse is gone)?"""
        return self in (Outcome.TAKEN_DOWN, Outcome.FIXED)


class AssetKind(StrEnum):
    """What an affected asset is."""

    URL = "url"
    DOMAIN = "domain"
    IP = "ip"

    @classmethod
    def guess(cls, value: str) -> AssetKind:
        """A URL has a scheme (``scheme://``), an IP parses as one, anything else is a domain."""
        text = value.strip()
        if "://" in text:
            return cls.URL
        try:
            ipaddress.ip_address(text)
        except ValueError:
            return cls.DOMAIN
        return cls.IP


def parse_enum(kind: type[E], value: str, what: str) -> E:
    """``kind(value)`` with a message that names the field and lists the allowed values."""
    text = value.strip().lower()
    try:
        return kind(text)
    except ValueError:
        allowed = ", ".join(k.value for k in kind)
        raise ValueError(f"unknown {what} {value!r}; use one of {allowed}") from None
