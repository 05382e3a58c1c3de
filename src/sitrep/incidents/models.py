"""The incident store's tables (SQLAlchemy 2 declarative): incidents, assets, linked events, complaint mails,
coordination requests, partners, notes, the audit trail and the ref counters.

Enumerated values (category, status, partner type…) are stored as their strings so that the same
schema works on SQLite and PostgreSQL and stays readable with plain SQL.  Every timestamp is stored in
UTC and read back as an aware UTC datetime, whatever the backend (SQLite has no time zones).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from sitrep.incidents.vocabulary import Grade, Status
from sitrep.taxonomy import TLP, IncidentCategory, PartnerType


def utcnow() -> datetime:
    """The current time as an aware UTC datetime (what every timestamp column holds)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as naive UTC, so SQLite and PostgreSQL compare and sort alike."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: incident timestamps must carry a time zone")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


# Stable constraint names make Alembic migrations portable between SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of the incident store."""

    metadata = MetaData(naming_convention=NAMING)


class Partner(Base):
    """An outside party the team coordinates with, and what it answers for (used by routing)."""

    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[str] = mapped_column(String(20), default=PartnerType.OTHER.value)
    country: Mapped[str | None] = mapped_column(String(2))
    email: Mapped[str | None] = mapped_column(String(320))
    language: Mapped[str] = mapped_column(String(5), default="zh")
    # What the partner answers for: domain suffixes (``cn``, ``aliyuncs.com``), AS numbers and region
    # codes (``GD``).  JSON lists keep the directory one row per partner.
    suffixes: Mapped[list[str]] = mapped_column(JSON, default=list)
    asns: Mapped[list[int]] = mapped_column(JSON, default=list)
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    # A deactivated partner keeps its requests (their history) but gets no new ones.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    requests: Mapped[list[CoordinationRequest]] = relationship(back_populates="partner")

    @property
    def partner_type(self) -> PartnerType:
        return PartnerType(self.type)


class Incident(Base):
    """A case the team handles (DESIGN.md §5)."""

    __tablename__ = "incidents"
    # The list reads newest first (by id) within a status, or an owner's (compared case-insensitively)
    # within a status: each page is one range of an index, at the first incident or the millionth.
    __table_args__ = (
        Index("ix_incidents_status_id", "status", "id"),
        Index("ix_incidents_owner_key", func.lower(text("owner")), "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(30), index=True)
    reported_via: Mapped[str] = mapped_column(String(20))
    reporter: Mapped[str | None] = mapped_column(String(300))
    reporter_country: Mapped[str | None] = mapped_column(String(2))
    grade: Mapped[str] = mapped_column(String(10), default=Grade.GENERAL.value)
    tlp: Mapped[str] = mapped_column(String(20), default=TLP.AMBER.value)
    status: Mapped[str] = mapped_column(String(20), default=Status.NEW.value)
    # The analyst who handles the case (free text, like the audit trail's actor); None = unassigned.
    owner: Mapped[str | None] = mapped_column(String(200), index=True)
    # A client's key for the request that created it (API Idempotency-Key, scoped by the client) and
    # the digest of that request: a retry with the same key returns this incident instead of a copy.
    client_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    client_request: Mapped[str | None] = mapped_column(String(64))
    # ``cross_border`` is the effective value the statistics count; it is derived unless
    # ``cross_border_override`` is set, in which case ``cross_border_reason`` says why.
    cross_border: Mapped[bool] = mapped_column(Boolean, default=False)
    cross_border_override: Mapped[bool | None] = mapped_column(Boolean)
    cross_border_reason: Mapped[str | None] = mapped_column(Text)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    triaged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    coordinating_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unresolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    assets: Mapped[list[Asset]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="Asset.id"
    )
    events: Mapped[list[EventLink]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="EventLink.id"
    )
    requests: Mapped[list[CoordinationRequest]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="CoordinationRequest.id"
    )
    audit: Mapped[list[AuditEntry]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="AuditEntry.id"
    )
    notes: Mapped[list[Note]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="Note.id"
    )
    # The complaint mails that proposed it or were attached to it (their record outlives nothing:
    # an incident is never deleted, and a mail's record is what makes taking it again a no-op).
    complaints: Mapped[list[Complaint]] = relationship(back_populates="incident", order_by="Complaint.id")

    @property
    def incident_category(self) -> IncidentCategory:
        return IncidentCategory(self.category)

    @property
    def incident_status(self) -> Status:
        return Status(self.status)


class Asset(Base):
    """An affected URL, domain or IP; ``country`` is set when known (it feeds cross-border)."""

    __tablename__ = "assets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    # Text without an index: hostile URLs can exceed a B-tree entry; uniqueness per incident is
    # enforced by ``workflow.add_asset``.
    value: Mapped[str] = mapped_column(Text)
    country: Mapped[str | None] = mapped_column(String(2))

    incident: Mapped[Incident] = relationship(back_populates="assets")


class EventLink(Base):
    """An event of the lake (its ``event_id``) that belongs to the incident."""

    __tablename__ = "incident_events"
    __table_args__ = (UniqueConstraint("incident_id", "event_id", name="uq_incident_events_pair"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[str] = mapped_column(String(128), index=True)

    incident: Mapped[Incident] = relationship(back_populates="events")


class CoordinationRequest(Base):
    """A request to one partner about one incident, and how far it got."""

    __tablename__ = "coordination_requests"
    __table_args__ = (UniqueConstraint("incident_id", "partner_id", name="uq_requests_incident_partner"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    actioned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(20))
    # When the partner should have acted: sent_at + the SLA of its type (``[incidents.sla_hours]``),
    # fixed when the request is sent, or set by hand.  Indexed: ``incidents overdue`` asks by it.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # The last reminder mailed for an overdue request (``notify`` waits ``reminder_hours`` between them).
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    incident: Mapped[Incident] = relationship(back_populates="requests")
    partner: Mapped[Partner] = relationship(back_populates="requests")


class AuditEntry(Base):
    """One change: who, which field of what, old value → new value, when it took effect (``at``) and
    when it was entered (``entered_at``): a back-dated change keeps both."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(50))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    incident: Mapped[Incident | None] = relationship(back_populates="audit")


class Note(Base):
    """A remark of an analyst on the incident's timeline (a call made, what a partner said…)."""

    __tablename__ = "incident_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    incident: Mapped[Incident] = relationship(back_populates="notes")


class Complaint(Base):
    """One complaint mail taken in (:mod:`sitrep.incidents.complaints`): what became of it, the
    incident it proposed or was attached to, and where its ``.eml`` is kept (relative to the
    workspace).  The same bytes, or the same Message-ID from the same sender, are taken once."""

    __tablename__ = "complaints"
    __table_args__ = (UniqueConstraint("message_id", "sender", name="uq_complaints_message_sender"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    message_id: Mapped[str | None] = mapped_column(String(510))
    sender: Mapped[str | None] = mapped_column(String(320))
    source: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(20))  # proposed | attached | quarantined | refused
    reason: Mapped[str | None] = mapped_column(Text)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"), index=True)
    path: Mapped[str | None] = mapped_column(String(500))
    reporter: Mapped[str | None] = mapped_column(String(600))
    subject: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(30))
    assets: Mapped[list[str]] = mapped_column(JSON, default=list)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The acknowledgement to the reporter: sent (when, its Message-ID) or why not.
    reply: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    incident: Mapped[Incident | None] = relationship(back_populates="complaints")


class ChangeCounter(Base):
    """How many write transactions changed the case data (:data:`CASE_TABLES`): what is computed from
    it (the web desk's dashboard) is cached under this number instead of being compared with the data.
    One row, bumped by every such transaction (:mod:`sitrep.incidents.db`)."""

    __tablename__ = "change_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class RefCounter(Base):
    """The last number handed out for a ref prefix (``INC-20250102-``): incremented inside the adding
    transaction, so concurrent adds get distinct refs (the row lock or SQLite's write lock orders them)."""

    __tablename__ = "ref_counters"

    prefix: Mapped[str] = mapped_column(String(100), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


# The tables of the case data: a write to any of them bumps the :class:`ChangeCounter`.  The accounts'
# tables (users, tokens, sessions) are not case data: a login changes no report number.
CASE_TABLES = frozenset(
    t.__tablename__
    for t in (Partner, Incident, Asset, EventLink, CoordinationRequest, AuditEntry, Note, RefCounter, Complaint)
)
