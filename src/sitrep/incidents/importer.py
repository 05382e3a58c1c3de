"""Import incidents from CSV or JSON: idempotent by ``ref``, bad rows rejected with line and reason.

The whole file is one transaction; each row runs in a savepoint, so a row that fails half-way leaves
nothing behind while the good rows are kept.  Re-importing the same file changes nothing; a changed
row updates its incident (every change audited), and a status that cannot be reached from the stored
one is refused.  A row goes through the same workflow functions as a change typed by an analyst, so
the same checks hold (no change before the report time, real domain names, no control characters).
Columns are documented in ``docs/incidents.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from sitrep.config import Workspace
from sitrep.incidents.models import Incident, Partner
from sitrep.incidents.partners import PartnerSpec, upsert_partner
from sitrep.incidents.records import ImportReport, Reject, cell, read_records, split_list
from sitrep.incidents.sla import Sla
from sitrep.incidents.vocabulary import CLOSED_STATUSES, Grade, Outcome, ReportedVia, Status, parse_enum
from sitrep.incidents.workflow import (
    STATUS_TIME,
    Home,
    WorkflowError,
    add_asset,
    add_request,
    advance,
    create_incident,
    link_events,
    override_cross_border,
    set_field,
    update_request,
)
from sitrep.taxonomy import TLP, IncidentCategory, PartnerType

COLUMNS = (
    "ref",
    "title",
    "category",
    "reported_at",
    "resolved_at",
    "status",
    "reporter",
    "partner",
    "partner_type",
    "partner_country",
    "asset",
    "cross_border",
    "grade",
    "tlp",
)
OPTIONAL_COLUMNS = (
    "reported_via",
    "reporter_country",
    "asset_country",
    "events",
    "sent_at",
    "acknowledged_at",
    "actioned_at",
    "verified_at",
    "outcome",
    "owner",
)

_TRUE = {"1", "true", "yes", "y", "是", "跨境"}
_FALSE = {"0", "false", "no", "n", "否"}


def parse_time(text: str, tz: ZoneInfo) -> datetime | None:
    """ISO 8601 date or date-time; without an offset it is local time in ``tz``. '' is None."""
    text = text.strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 time (e.g. 2025-01-02T10:30:00+08:00)") from None
    if len(text) <= 10:  # a bare date means its local midnight
        value = datetime.combine(date.fromisoformat(text), time(0))
    return value.replace(tzinfo=tz) if value.tzinfo is None else value


def parse_bool(text: str) -> bool | None:
    """``cross_border`` cell: yes/no/true/false/1/0 (or 是/否); '' means derive it (None)."""
    value = text.strip().lower()
    if not value:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"cross_border {text!r} is not yes/no/true/false/1/0 (leave it empty to derive it)")


def _aligned(values: list[str], count: int, column: str) -> list[str | None]:
    """One value for every partner/asset: a single value applies to all, otherwise one each."""
    if not values:
        return [None] * count
    if len(values) == 1:
        return [values[0]] * count
    if len(values) != count:
        raise ValueError(f"{column} has {len(values)} values for {count} entries; give one, or one each")
    return list(values)


@dataclass
class IncidentRow:
    """One validated input row."""

    line: int
    ref: str
    title: str
    category: IncidentCategory
    status: Status
    closed_at: datetime | None
    reported_at: datetime | None
    reporter: str | None
    reporter_country: str | None
    reported_via: ReportedVia | None
    grade: Grade | None
    tlp: TLP | None
    cross_border: bool | None
    owner: str | None = None
    partners: list[tuple[str, PartnerType | None, str | None]] = field(default_factory=list)
    assets: list[tuple[str, str | None]] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    stages: dict[str, Any] = field(default_factory=dict)


def parse_row(line: int, raw: dict[str, Any], tz: ZoneInfo) -> IncidentRow:
    """Validate one record; raise ``ValueError`` with the reason (first problem found)."""
    if "__error__" in raw:
        raise ValueError(raw["__error__"])
    ref = cell(raw, "ref")
    if not ref:
        raise ValueError("ref is empty (every incident needs a unique ref)")
    if len(ref) > 100:
        raise ValueError("ref is longer than 100 characters")
    category_text = cell(raw, "category")
    if not category_text:
        raise ValueError("category is empty")
    category = parse_enum(IncidentCategory, category_text, "category")
    reported_at = parse_time(cell(raw, "reported_at"), tz)
    closed_at = parse_time(cell(raw, "resolved_at"), tz)
    status_text = cell(raw, "status")
    status = (
        parse_enum(Status, status_text, "status") if status_text else (Status.RESOLVED if closed_at else Status.NEW)
    )
    if status is Status.RESOLVED and closed_at is None:
        raise ValueError("status resolved needs resolved_at")
    if closed_at is not None and status not in CLOSED_STATUSES:
        raise ValueError(f"resolved_at is set but status is {status.value}")

    names = split_list(raw.get("partner"))
    types = _aligned(split_list(raw.get("partner_type")), len(names), "partner_type")
    countries = _aligned(split_list(raw.get("partner_country")), len(names), "partner_country")
    partners = []
    for name, kind, country in zip(names, types, countries, strict=True):
        partner_type = parse_enum(PartnerType, kind, "partner_type") if kind else None
        partners.append((name, partner_type, country.upper() if country else None))
    assets_raw = split_list(raw.get("asset"))
    asset_countries = _aligned(split_list(raw.get("asset_country")), len(assets_raw), "asset_country")
    assets = [
        (value, country.upper() if country else None)
        for value, country in zip(assets_raw, asset_countries, strict=True)
    ]

    grade_text, tlp_text = cell(raw, "grade"), cell(raw, "tlp")
    try:
        tlp = TLP.parse(tlp_text) if tlp_text else None
    except ValueError:
        raise ValueError(f"unknown tlp {tlp_text!r}; use CLEAR, GREEN, AMBER, AMBER+STRICT or RED") from None
    via_text = cell(raw, "reported_via")
    reporter_country = cell(raw, "reporter_country").upper() or None
    stages: dict[str, Any] = {
        name: parse_time(cell(raw, name), tz) for name in ("sent_at", "acknowledged_at", "actioned_at", "verified_at")
    }
    outcome_text = cell(raw, "outcome")
    stages["outcome"] = parse_enum(Outcome, outcome_text, "outcome") if outcome_text else None
    if any(v is not None for v in stages.values()) and not partners:
        raise ValueError("request times or outcome given but no partner")
    return IncidentRow(
        line=line,
        ref=ref,
        title=cell(raw, "title") or (assets_raw[0] if assets_raw else ref),
        category=category,
        status=status,
        closed_at=closed_at,
        reported_at=reported_at,
        reporter=cell(raw, "reporter") or None,
        reporter_country=reporter_country,
        reported_via=parse_enum(ReportedVia, via_text, "reported_via") if via_text else None,
        grade=Grade.parse(grade_text) if grade_text else None,
        tlp=tlp,
        cross_border=parse_bool(cell(raw, "cross_border")),
        owner=cell(raw, "owner") or None,
        partners=partners,
        assets=assets,
        events=split_list(raw.get("events")),
        stages=stages,
    )


class _Directory:
    """Partners by lower-case name, loaded once per import; unknown ones are added from the row."""

    def __init__(self, session: Session, actor: str) -> None:
        self.session = session
        self.actor = actor
        self.by_name = {p.name.lower(): p for p in session.scalars(select(Partner))}

    def check(self, name: str, kind: PartnerType | None) -> None:
        known = self.by_name.get(name.lower())
        if known is None and kind is None:
            raise ValueError(f"partner {name!r} is not in the directory; give its partner_type")
        if known is not None and kind is not None and known.type != kind.value:
            raise ValueError(f"partner {name!r} is {known.type} in the directory, not {kind.value}")

    def get(self, name: str, kind: PartnerType | None, country: str | None) -> Partner:
        known = self.by_name.get(name.lower())
        if known is None:
            assert kind is not None  # check() ran first
            spec = PartnerSpec.build(name=name, type=kind, country=country)
            known, _ = upsert_partner(self.session, spec, actor=self.actor)
            self.by_name[name.lower()] = known
        return known


def _reporter_defaults(row: IncidentRow, directory: _Directory) -> tuple[ReportedVia, str | None]:
    partner = directory.by_name.get((row.reporter or "").lower())
    country = row.reporter_country or (partner.country if partner else None)
    if row.reported_via is not None:
        return row.reported_via, country
    if partner is not None:
        via = ReportedVia.FOREIGN_CERT if partner.type == PartnerType.FOREIGN_CERT.value else ReportedVia.PARTNER
    else:
        via = ReportedVia.COMPLAINT if row.reporter else ReportedVia.MONITORING
    return via, country


def _apply(
    session: Session,
    row: IncidentRow,
    incident: Incident | None,
    directory: _Directory,
    home: Home,
    sla: Sla,
    actor: str,
) -> str:
    for name, kind, _ in row.partners:
        directory.check(name, kind)
    via, reporter_country = _reporter_defaults(row, directory)
    created = incident is None
    if incident is None:
        incident = create_incident(
            session,
            ref=row.ref,
            title=row.title,
            category=row.category,
            actor=actor,
            reported_via=via,
            reporter=row.reporter,
            reporter_country=reporter_country,
            grade=row.grade or Grade.GENERAL,
            tlp=row.tlp or TLP.AMBER,
            reported_at=row.reported_at,
            owner=row.owner,
        )
    audit_before = len(incident.audit)
    updates: dict[str, Any] = {
        "title": row.title,
        "category": row.category,
        "reported_via": via,
        "reporter": row.reporter,
        "reporter_country": reporter_country,
        "grade": row.grade,
        "tlp": row.tlp,
        "reported_at": row.reported_at,
        "owner": row.owner,
    }
    for name, value in updates.items():
        if value is not None:
            set_field(session, incident, name, value, actor)
    for value, country in row.assets:
        add_asset(session, incident, value, actor=actor, country=country, home=home)
    link_events(session, incident, row.events, actor=actor)
    for name, kind, country in row.partners:
        request, _ = add_request(session, incident, directory.get(name, kind, country), actor=actor)
        update_request(session, request, actor=actor, sla=sla, **row.stages)
    current = Status(incident.status)
    if row.status != current:
        advance(
            session,
            incident,
            row.status,
            actor=actor,
            at=row.closed_at,
            steps_at=row.reported_at or row.closed_at,
        )
    elif row.closed_at is not None and row.status in STATUS_TIME:
        set_field(session, incident, STATUS_TIME[row.status], row.closed_at, actor)
    reason = f"import line {row.line}" if row.cross_border is not None else None
    override_cross_border(session, incident, row.cross_border, reason=reason, actor=actor, home=home)
    if created:
        return "created"
    return "updated" if len(incident.audit) > audit_before else "unchanged"


def import_rows(
    session: Session,
    records: Iterable[tuple[int, dict[str, Any]]],
    *,
    home: Home,
    tz: ZoneInfo,
    actor: str,
    file: str = "<rows>",
    sla: Sla | None = None,
) -> ImportReport:
    """Import ``(line, record)`` pairs into the open session; see :func:`import_incidents`.

    Requests sent without a due date get one from ``sla`` (default: the built-in table).
    """
    sla = sla or Sla.default()
    report = ImportReport(file=file)
    directory = _Directory(session, actor)
    seen: dict[str, int] = {}
    for line, raw in records:
        report.read += 1
        try:
            row = parse_row(line, raw, tz)
            if row.ref in seen:
                raise ValueError(f"ref {row.ref!r} appears again (first at line {seen[row.ref]})")
            seen[row.ref] = line
            incident = session.scalars(select(Incident).where(Incident.ref == row.ref)).first()
            with session.begin_nested():
                outcome = _apply(session, row, incident, directory, home, sla, actor)
        except (ValueError, WorkflowError) as exc:
            # The savepoint is rolled back; forget partners it created so later rows re-create them.
            directory.by_name = {k: p for k, p in directory.by_name.items() if p in session}
            report.rejects.append(Reject(line, str(exc)))
            continue
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def import_incidents(
    session: Session, path: Path, *, workspace: Workspace, actor: str, fmt: str | None = None
) -> ImportReport:
    """Import an incident file (CSV or JSON) into the open session (one transaction for the file).

    Times without an offset are local time in the workspace time zone.  Returns counts and the
    rejected rows with line and reason; raises :class:`~sitrep.incidents.records.InputError` only
    when the file as a whole is unreadable.
    """
    return import_rows(
        session,
        read_records(path, fmt),
        home=Home.of(workspace),
        tz=workspace.timezone,
        actor=actor,
        file=str(path),
        sla=Sla.of(workspace.settings.incidents),
    )
