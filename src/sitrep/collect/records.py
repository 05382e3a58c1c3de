"""What collection recorded, in the incident store's schema (same declarative base and migrations):
every file collected, by its source and SHA-256 (a file is ingested once, whatever its name), and
every run of a source (when it is due next)."""

from __future__ import annotations

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


def last_runs(session: Session) -> dict[str, datetime]:
    """When each source last ran (its newest run's start)."""
    rows = session.execute(select(CollectionRun.source, func.max(CollectionRun.started_at)).group_by("source"))
    return {source: started for source, started in rows}


def known_file(session: Session, source: str, sha256: str) -> CollectedFile | None:
    """The record of a file ``source`` already delivered with these bytes."""
    return session.scalar(select(CollectedFile).where(CollectedFile.source == source, CollectedFile.sha256 == sha256))
