"""The partner directory and routing: who answers for a domain suffix, an AS, a region or a country.

A partner named by coordination requests is never deleted (that would rewrite their history); it can
be deactivated instead, which keeps its requests and refuses new ones.

Routing tries the wanted partner types in order (e.g. registrar, then hosting, then cloud); within a
type the most specific rule wins: AS number, then the longest matching domain suffix, then region,
then country.  The first type with a match gives the partner, so configuration decides the
preference (DESIGN.md §5, ``[[incidents.propose]]`` ``partner_types``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sitrep.hosts import longest_suffix
from sitrep.incidents.errors import PartnerInUse, UnknownPartner
from sitrep.incidents.inputs import country_code, domain_name, plain_text
from sitrep.incidents.models import CoordinationRequest, Partner
from sitrep.incidents.records import ImportReport, Reject, cell, read_records, split_list
from sitrep.incidents.vocabulary import parse_enum
from sitrep.incidents.workflow import MAX_NAME, WorkflowError, record
from sitrep.taxonomy import PartnerType

LANGUAGES = ("zh", "en")
_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


@dataclass(frozen=True)
class PartnerSpec:
    """A validated partner description (from the CLI, a file or the demo)."""

    name: str
    type: PartnerType
    country: str | None = None
    email: str | None = None
    language: str = "zh"
    suffixes: tuple[str, ...] = ()
    asns: tuple[int, ...] = ()
    regions: tuple[str, ...] = ()

    @classmethod
    def build(
        cls,
        *,
        name: str,
        type: str | PartnerType,
        country: str | None = None,
        email: str | None = None,
        language: str | None = None,
        suffixes: Iterable[str] = (),
        asns: Iterable[str | int] = (),
        regions: Iterable[str] = (),
    ) -> PartnerSpec:
        """Validate raw values; raise ``ValueError`` naming the bad one.

        Names and e-mail addresses with control characters are refused (they would forge e-mail
        headers and CSV lines); suffixes must be domain names (``cn`` and ``中国`` included).
        """
        name = plain_text(name, "partner name", max_length=MAX_NAME)
        kind = type if isinstance(type, PartnerType) else parse_enum(PartnerType, type, "partner type")
        cc = country_code(country)
        mail = (email or "").strip() or None
        if mail is not None:
            plain_text(mail, "partner e-mail")
            if not _EMAIL.match(mail):
                raise ValueError(f"e-mail {email!r} is not an address")
        lang = (language or "").strip().lower() or ("zh" if cc in (None, "CN") else "en")
        if lang not in LANGUAGES:
            raise ValueError(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
        numbers = []
        for asn in asns:
            text = str(asn).strip().upper().removeprefix("AS")
            if not text.isdigit():
                raise ValueError(f"ASN {asn!r} is not a number")
            numbers.append(int(text))
        return cls(
            name=name,
            type=kind,
            country=cc,
            email=mail,
            language=lang,
            suffixes=tuple(dict.fromkeys(_suffix(s) for s in suffixes if s.strip())),
            asns=tuple(dict.fromkeys(numbers)),
            regions=tuple(dict.fromkeys(r.strip().upper() for r in regions if r.strip())),
        )


def _suffix(text: str) -> str:
    """A domain suffix a partner answers for: a domain name or a top-level domain (``cn``)."""
    suffix = text.strip().strip(".").lower()
    return suffix if "." not in suffix and suffix.isalnum() else domain_name(suffix)


def find_partner(session: Session, name: str) -> Partner | None:
    """The partner called ``name`` (case-insensitive), if any."""
    return session.scalars(select(Partner).where(func.lower(Partner.name) == name.strip().lower())).first()


def get_partner(session: Session, name: str) -> Partner:
    """The partner called ``name``; raise :class:`UnknownPartner` when there is none."""
    partner = find_partner(session, name)
    if partner is None:
        raise UnknownPartner(name.strip())
    return partner


def list_partners(session: Session, type: PartnerType | None = None, *, inactive: bool = True) -> list[Partner]:
    """Partners (optionally of one type; without the deactivated ones unless ``inactive``), by type in
    canonical order then name."""
    query = select(Partner)
    if type is not None:
        query = query.where(Partner.type == type.value)
    if not inactive:
        query = query.where(Partner.active.is_(True))
    order = {t.value: i for i, t in enumerate(PartnerType)}
    return sorted(session.scalars(query), key=lambda p: (order.get(p.type, 99), p.name.lower()))


_FIELDS = ("type", "country", "email", "language", "suffixes", "asns", "regions")


def _values(spec: PartnerSpec) -> dict[str, Any]:
    return {
        "type": spec.type.value,
        "country": spec.country,
        "email": spec.email,
        "language": spec.language,
        "suffixes": list(spec.suffixes),
        "asns": list(spec.asns),
        "regions": list(spec.regions),
    }


def upsert_partner(session: Session, spec: PartnerSpec, *, actor: str, replace: bool = True) -> tuple[Partner, str]:
    """Add the partner or update it by name; return it and ``created``/``updated``/``unchanged``.

    With ``replace=False`` an existing partner is left as it is (``unchanged``).
    """
    partner = find_partner(session, spec.name)
    values = _values(spec)
    if partner is None:
        partner = Partner(name=spec.name, active=True, **values)
        session.add(partner)
        session.flush()
        record(session, None, "created", None, spec.name, actor, entity="partner", entity_id=partner.id)
        return partner, "created"
    if not replace:
        return partner, "unchanged"
    changed = False
    if not partner.active:
        partner.active = True
        record(session, None, "active", False, True, actor, entity="partner", entity_id=partner.id)
        changed = True
    for key in _FIELDS:
        old = getattr(partner, key)
        if old != values[key]:
            setattr(partner, key, values[key])
            record(session, None, key, old, values[key], actor, entity="partner", entity_id=partner.id)
            changed = True
    return partner, "updated" if changed else "unchanged"


def import_partners(session: Session, path: Path, *, actor: str, fmt: str | None = None) -> ImportReport:
    """Import a partner directory (CSV or JSON); upsert by name, reject bad rows with line and reason.

    Columns: ``name, type, country, email, language, suffixes, asns, regions`` (lists ``;``-separated).
    """
    report = ImportReport(file=str(path))
    seen: dict[str, int] = {}
    for line, row in read_records(path, fmt):
        report.read += 1
        try:
            if "__error__" in row:
                raise ValueError(row["__error__"])
            spec = PartnerSpec.build(
                name=cell(row, "name"),
                type=cell(row, "type") or "other",
                country=cell(row, "country"),
                email=cell(row, "email"),
                language=cell(row, "language"),
                suffixes=split_list(row.get("suffixes")),
                asns=split_list(row.get("asns")),
                regions=split_list(row.get("regions")),
            )
            key = spec.name.lower()
            if key in seen:
                raise ValueError(f"partner {spec.name!r} appears again (first at line {seen[key]})")
            seen[key] = line
        except (ValueError, WorkflowError) as exc:
            report.rejects.append(Reject(line, str(exc)))
            continue
        _, outcome = upsert_partner(session, spec, actor=actor)
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def request_count(session: Session, partner: Partner) -> int:
    """How many coordination requests name the partner."""
    query = select(func.count()).select_from(CoordinationRequest).where(CoordinationRequest.partner_id == partner.id)
    return session.scalar(query) or 0


def remove_partner(session: Session, partner: Partner, *, actor: str) -> None:
    """Delete a partner no request names; raise :class:`PartnerInUse` otherwise."""
    used = request_count(session, partner)
    if used:
        raise PartnerInUse(partner.name, used)
    record(session, None, "removed", partner.name, None, actor, entity="partner", entity_id=partner.id)
    session.delete(partner)


def deactivate_partner(session: Session, partner: Partner, *, actor: str) -> bool:
    """Stop new requests to the partner, keeping its history; return whether it was active."""
    if not partner.active:
        return False
    partner.active = False
    record(session, None, "active", True, False, actor, entity="partner", entity_id=partner.id)
    return True


@dataclass(frozen=True)
class Route:
    """The partner chosen for an asset and the rule that chose it (shown to the analyst)."""

    partner: Partner
    rule: str


def route(
    partners: Sequence[Partner],
    types: Sequence[PartnerType],
    *,
    host: str | None = None,
    asn: int | None = None,
    region: str | None = None,
    country: str | None = None,
) -> Route | None:
    """Pick the partner for an asset: first wanted type with a match; AS, suffix, region, country.

    Deactivated partners are never picked.
    """
    host = (host or "").lower().rstrip(".")
    region = (region or "").upper() or None
    country = (country or "").upper() or None
    for kind in types:
        candidates = [p for p in partners if p.type == kind.value and p.active is not False]
        if asn is not None:
            for partner in candidates:
                if asn in (partner.asns or []):
                    return Route(partner, f"{kind.value} by AS{asn}")
        if host:
            matched = [(s, p) for p in candidates if (s := longest_suffix(host, p.suffixes or []))]
            if matched:
                suffix, partner = max(matched, key=lambda item: len(item[0]))
                return Route(partner, f"{kind.value} by suffix .{suffix}")
        if region:
            for partner in candidates:
                if region in (partner.regions or []):
                    return Route(partner, f"{kind.value} by region {region}")
        if country:
            for partner in candidates:
                if partner.country == country and not partner.suffixes and not partner.asns and not partner.regions:
                    return Route(partner, f"{kind.value} by country {country}")
    return None
