"""Tables of the sync worker (ledger, cursors, flow runs) and the scheduler (job slots and locks)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from watchdog.store.models import Base

__all__ = ["CursorRow", "FlowRunRow", "JobLockRow", "JobSlotRow", "SyncRecordRow"]


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
    """The scheduler's slot ledger: each (job, slot) runs once across restarts and replicas.

    Claimed with ``INSERT ... ON CONFLICT DO NOTHING``; the owner renews ``lease_until`` while
    it runs; a ``running`` slot whose lease expired is taken over (``attempts`` + 1). A slot
    whose owner vanished and that nobody took over in time ends ``abandoned``.
    """

    __tablename__ = "job_slot"

    job: Mapped[str] = mapped_column(String(128), primary_key=True)
    slot: Mapped[str] = mapped_column(String(64), primary_key=True)
    due_at: Mapped[datetime | None]  # when the slot starts (the scheduler always sets it)
    owner: Mapped[str] = mapped_column(String(128))
    lease_until: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))  # running | done | failed | abandoned
    attempts: Mapped[int] = mapped_column(default=1)  # 1 + take-overs after a lost owner
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_job_slot_due", "job", "due_at"),
        Index("ix_job_slot_status", "status", "due_at"),
    )


class JobLockRow(Base):
    """The scheduler's mutexes: a job (or a group of jobs) runs on one replica at a time.

    Held for ``lease_until`` and renewed while held; taken with ``INSERT ... ON CONFLICT DO
    NOTHING`` or a compare-and-set ``UPDATE`` once the holder released it or its lease expired.
    """

    __tablename__ = "job_lock"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128))
    lease_until: Mapped[datetime]


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
