"""What collection recorded, in the incident store's schema (same declarative base and migrations):
every file collected, by its source and SHA-256 (a file is ingested once, whatever its name), and
every run of a source (when it is due next)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, Text, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from sitrep.incidents.models import Base, UTCDateTime


class CollectedFile(Base):
    """One file a source delivered: ingested (with its ingest id) or failed (with the reason)."""

    __tablename__ = "collected_files"
    __table_args__ = (UniqueConstraint("source", "sha256", name="uq_collected_files_source_sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    status: Mapped[str] = mapped_column(String(20))  # ingested | failed
    ingest_ids: Mapped[str] = mapped_column(Text, default="")  # space-separated (a zip gives several)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(Text)


class CollectionRun(Base):
    """One run of a source: when it started and ended, how many files it took, and its error."""

    __tablename__ = "collection_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    files: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class SourceState(Base):
    """What a source remembers between runs: the HTTP validators of its last download (``ETag``,
    ``Last-Modified``), sent back so that an unchanged feed answers 304 and is not fetched again."""

    __tablename__ = "source_states"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ShadowserverReport(Base):
    """A report Shadowserver's reports API listed to a source (``kind = "shadowserver-api"``), by its
    id: ``ingested`` (never fetched again) or ``failed`` (fetched again until ``attempts`` reaches the
    source's ``max_attempts``)."""

    __tablename__ = "shadowserver_reports"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    report_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    file: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20))  # ingested | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


def last_runs(session: Session) -> dict[str, datetime]:
    """When each source last ran (its newest run's start)."""
    rows = session.execute(select(CollectionRun.source, func.max(CollectionRun.started_at)).group_by("source"))
    return {source: started for source, started in rows}


def known_file(session: Session, source: str, sha256: str) -> CollectedFile | None:
    """The record of a file ``source`` already delivered with these bytes."""
    return session.scalar(select(CollectedFile).where(CollectedFile.source == source, CollectedFile.sha256 == sha256))


@dataclass(frozen=True)
class Delivered:
    """What one source delivered in a span of time: files ingested and failed, rows added, the last."""

    files: int
    failed: int
    accepted: int
    last: datetime | None


def delivered_between(session: Session, start: datetime, end: datetime) -> dict[str, Delivered]:
    """Per source, the files collected in ``[start, end)``."""
    ingested = CollectedFile.status == "ingested"
    rows = session.execute(
        select(
            CollectedFile.source,
            func.count().filter(ingested),
            func.count().filter(CollectedFile.status == "failed"),
            func.coalesce(func.sum(CollectedFile.accepted).filter(ingested), 0),
            func.max(CollectedFile.collected_at),
        )
        .where(CollectedFile.collected_at >= start, CollectedFile.collected_at < end)
        .group_by(CollectedFile.source)
    )
    return {source: Delivered(int(n), int(bad), int(added), last) for source, n, bad, added, last in rows}
