"""SQLAlchemy 2 typed table models (design.md section 6): the base and the watchdog's tables.

The sync worker's and scheduler's tables are in ``models_sync``, the notification
tables in ``models_alerts``; ``watchdog.store`` imports all three so the metadata
is complete.

Every row carries its integration's name. Timestamps are stored as timezone-aware
UTC (``UtcDateTime`` normalises SQLite, which keeps no zone). Schema changes go
through Alembic migrations in ``watchdog/store/migrations``; ``tests/store``
checks that the migrations and these models agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, MetaData, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "Base",
    "CheckRunRow",
    "FindingRow",
    "SilenceRow",
    "TransitionRow",
    "UtcDateTime",
]

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend; naive input is rejected."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a timezone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: JSON()}


class FindingRow(Base):
    """One finding's current state; identity is the fingerprint (integration + check + subject)."""

    __tablename__ = "finding"

    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    integration: Mapped[str] = mapped_column(String(64))
    check: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(255))
    severity: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))  # pending | open | resolved
    summary: Mapped[str] = mapped_column(Text)
    measures: Mapped[dict[str, Any]] = mapped_column(default=dict)
    links: Mapped[dict[str, Any]] = mapped_column(default=dict)
    runbook: Mapped[str] = mapped_column(String(128))
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    absent_runs: Mapped[int] = mapped_column(default=0)  # consecutive complete runs without it (flap damping)
    acked_by: Mapped[str | None] = mapped_column(String(128))
    acked_at: Mapped[datetime | None]
    ack_comment: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_finding_integration_status", "integration", "status", "check"),)


class TransitionRow(Base):
    """A persisted state change of a finding: opened, updated, escalated, resolved, reminded, acked."""

    __tablename__ = "transition"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    integration: Mapped[str] = mapped_column(String(64))
    check: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    severity: Mapped[str] = mapped_column(String(16))
    previous_severity: Mapped[str | None] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text)
    measures: Mapped[dict[str, Any]] = mapped_column(default=dict)
    muted_by: Mapped[str | None] = mapped_column(String(160))  # "silence:<id>" or "ack:<who>": do not notify

    __table_args__ = (Index("ix_transition_integration_at", "integration", "at"),)


class SilenceRow(Base):
    """Mutes findings that match (integration, check, subject glob) until ``expires_at``."""

    __tablename__ = "silence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    integration: Mapped[str | None] = mapped_column(String(64))
    check: Mapped[str | None] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(255))  # fnmatch pattern
    author: Mapped[str] = mapped_column(String(128))
    comment: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class CheckRunRow(Base):
    """One run of one check for one integration, with its outcome."""

    __tablename__ = "check_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    integration: Mapped[str] = mapped_column(String(64))
    check: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(16))  # ok | not_evaluated | failed
    findings: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_check_run_latest", "integration", "check", "finished_at"),)
