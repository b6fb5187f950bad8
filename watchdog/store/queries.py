"""Small query functions shared by the sync ledger, the engine, dispatch and the scheduler."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from watchdog.store.models import Base
from watchdog.store.models_sync import CursorRow

__all__ = ["get_cursor", "insert_if_absent", "set_cursor"]


def insert_if_absent(
    session: Session, model: type[Base], values: Mapping[str, Any], conflict: Sequence[str]
) -> bool:
    """``INSERT ... ON CONFLICT (conflict) DO NOTHING``; True if this call inserted the row.

    The compare-and-set every claim is built on: of any number of concurrent callers,
    across processes and replicas, exactly one gets True.
    """
    table = cast(Table, model.__table__)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(table).values(**values).on_conflict_do_nothing(index_elements=list(conflict))
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).values(**values).on_conflict_do_nothing(index_elements=list(conflict))
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise RuntimeError(f"unsupported database dialect {dialect!r}")
    # RETURNING, not rowcount: psycopg reports -1 for a conflict-free insert under SQLAlchemy 2.1.
    key = next(iter(table.primary_key))
    return session.execute(stmt.returning(key)).first() is not None


def get_cursor(session: Session, integration: str, flow: str) -> dict[str, Any] | None:
    """The stored position of a changed-since reader, or None before its first run."""
    row = session.execute(
        select(CursorRow).where(CursorRow.integration == integration, CursorRow.flow == flow)
    ).scalar_one_or_none()
    return dict(row.position) if row is not None else None


def set_cursor(session: Session, integration: str, flow: str, position: Mapping[str, Any], now: datetime) -> None:
    """Store a reader's position (created on first use)."""
    row = session.get(CursorRow, (integration, flow))
    if row is None:
        session.add(CursorRow(integration=integration, flow=flow, position=dict(position), updated_at=now))
    else:
        row.position = dict(position)
        row.updated_at = now
