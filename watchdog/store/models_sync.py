"""Tables of the sync worker (ledger, cursors, flow runs) and the scheduler (job slots)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from watchdog.store.models import Base

__all__ = ["CursorRow", "FlowRunRow", "JobSlotRow", "SyncRecordRow"]


class SyncRecordRow(Base):
    """The sync ledger: one row per (integration, flow, source record), claimed before any write."""

    __tablename__ = "sync_record"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    integration: Mapped[str] = mapped_column(String(64))
    flow: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str] = mapped_column(String(128))
    source_ref: Mapped[str | None] = mapped_column(String(128))  # the source's parent (a dispatch's sale order)
    # claimed | written | confirmed | failed | dead | quarantined | skipped (seen, deliberately not synced)
    state: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[str | None] = mapped_column(String(128))
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    error_class: Mapped[str | None] = mapped_column(String(16))  # transient | ambiguous | waiting | person
    payload_hash: Mapped[str | None] = mapped_column(String(64))
    source_time: Mapped[datetime | None]  # when the source record happened (for lag)
    next_attempt_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)  # dead letters: last request/response, redacted

    __table_args__ = (
        UniqueConstraint("integration", "flow", "source_id"),
        Index("ix_sync_record_state", "integration", "flow", "state"),
        Index("ix_sync_record_ref", "integration", "flow", "source_ref"),
        Index("ix_sync_record_target", "integration", "flow", "target_id"),
    )


class CursorRow(Base):
    """Where a changed-since reader stands, per integration and flow."""

    __tablename__ = "cursor"

    integration: Mapped[str] = mapped_column(String(64), primary_key=True)
    flow: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime]


class JobSlotRow(Base):
    """The scheduler's slot ledger: each (job, slot) runs once across restarts and replicas."""

    __tablename__ = "job_slot"

    job: Mapped[str] = mapped_column(String(128), primary_key=True)
    slot: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128))
    lease_until: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))  # running | done | failed
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)


class FlowRunRow(Base):
    """One run of one sync flow: counts, and why it did nothing if it did nothing."""

    __tablename__ = "flow_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    integration: Mapped[str] = mapped_column(String(64))
    flow: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(16))  # ok | partial | failed | skipped
    written: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    dead: Mapped[int] = mapped_column(default=0)
    note: Mapped[str | None] = mapped_column(Text)  # e.g. "no designated Stokly location"

    __table_args__ = (Index("ix_flow_run_latest", "integration", "flow", "finished_at"),)
