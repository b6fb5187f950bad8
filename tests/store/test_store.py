"""The store on SQLite and PostgreSQL: migrations, types, claims, cursors."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from watchdog.store.db import Store, current_revision, head_revision, upgrade
from watchdog.store.models import Base, CheckRunRow
from watchdog.store.models_sync import JobSlotRow, SyncRecordRow
from watchdog.store.queries import get_cursor, insert_if_absent, set_cursor

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_migrations_reach_head_and_create_every_table(empty_store: Store) -> None:
    assert current_revision(empty_store.engine) is None
    upgrade(empty_store.engine)
    assert current_revision(empty_store.engine) == head_revision()
    tables = set(inspect(empty_store.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_migrations_match_the_models(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_upgrade_twice_is_a_no_op(store: Store) -> None:
    upgrade(store.engine)
    assert current_revision(store.engine) == head_revision()


def test_timestamps_come_back_aware_utc(store: Store) -> None:
    london = datetime(2026, 6, 1, 9, 30, tzinfo=UTC).astimezone(__import__("zoneinfo").ZoneInfo("Europe/London"))
    with store.session() as s:
        s.add(CheckRunRow(integration="acme", check="stock_divergence", started_at=london,
                          finished_at=london + timedelta(seconds=2), outcome="ok", findings=0))
    with store.session() as s:
        row = s.execute(select(CheckRunRow)).scalar_one()
    assert row.started_at == datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
    assert row.started_at.tzinfo is not None
    assert row.started_at.utcoffset() == timedelta(0)


def _add_check_run(store: Store, started_at: datetime) -> None:
    with store.session() as s:
        s.add(CheckRunRow(integration="acme", check="x", started_at=started_at, finished_at=NOW, outcome="ok"))
        s.flush()


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        _add_check_run(store, datetime(2026, 1, 1))  # a naive datetime: the point of the test


def _sync_row(source_id: str) -> dict[str, object]:
    return {"integration": "acme", "flow": "orders", "source_id": source_id, "state": "claimed", "attempts": 0,
            "created_at": NOW, "updated_at": NOW, "detail": {}}


def test_insert_if_absent_claims_once(store: Store) -> None:
    with store.session() as s:
        assert insert_if_absent(s, SyncRecordRow, _sync_row("1001"), ["integration", "flow", "source_id"])
    with store.session() as s:
        assert not insert_if_absent(s, SyncRecordRow, _sync_row("1001"), ["integration", "flow", "source_id"])
        assert insert_if_absent(s, SyncRecordRow, _sync_row("1002"), ["integration", "flow", "source_id"])
    with store.session() as s:
        assert len(s.execute(select(SyncRecordRow)).scalars().all()) == 2


def _add_twice(store: Store, source_id: str) -> None:
    with store.session() as s:
        s.add(SyncRecordRow(**_sync_row(source_id)))
        s.add(SyncRecordRow(**_sync_row(source_id)))
        s.flush()


def test_sync_record_is_unique_per_integration_flow_and_source(store: Store) -> None:
    with pytest.raises(IntegrityError):
        _add_twice(store, "7")


def test_concurrent_claims_have_exactly_one_winner(store: Store) -> None:
    winners: list[int] = []
    barrier = threading.Barrier(8)

    def claim(worker: int) -> None:
        barrier.wait()
        with store.session() as s:
            row = {"job": "checks", "slot": "2026-11-26T12:00", "owner": f"w{worker}", "lease_until": NOW,
                   "status": "running", "started_at": NOW}
            if insert_if_absent(s, JobSlotRow, row, ["job", "slot"]):
                winners.append(worker)

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1
    with store.session() as s:
        assert s.execute(select(JobSlotRow.owner)).scalar_one() == f"w{winners[0]}"


def test_cursor_round_trip(store: Store) -> None:
    with store.session() as s:
        assert get_cursor(s, "acme", "orders") is None
        set_cursor(s, "acme", "orders", {"updated_at": "2026-11-26T11:00:00+00:00", "entity_id": 42}, NOW)
    with store.session() as s:
        set_cursor(s, "acme", "orders", {"updated_at": "2026-11-26T11:05:00+00:00", "entity_id": 43}, NOW)
    with store.session() as s:
        assert get_cursor(s, "acme", "orders") == {"updated_at": "2026-11-26T11:05:00+00:00", "entity_id": 43}
        assert get_cursor(s, "other", "orders") is None
