"""load_ledger_view reads the sync worker's tables, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from tests.checks.factories import NOW
from watchdog.engine import load_ledger_view
from watchdog.store.db import Store
from watchdog.store.models_sync import FlowRunRow, SyncRecordRow

H = timedelta(hours=1)


def flow_run(flow: str, at: object, outcome: str, note: str | None = None, integration: str = "acme") -> FlowRunRow:
    return FlowRunRow(integration=integration, flow=flow, started_at=at, finished_at=at, outcome=outcome,
                      written=0, skipped=0, failed=0, dead=0, note=note)


def record(source_id: str, state: str, *, lease: object = None, integration: str = "acme") -> SyncRecordRow:
    return SyncRecordRow(integration=integration, flow="orders", source_id=source_id, state=state, attempts=3,
                         last_error="boom", created_at=NOW - H, updated_at=NOW - H, lease_until=lease, detail={})


def test_last_success_notes_and_entries_needing_attention(store: Store) -> None:
    with store.session() as s:
        s.add_all([
            flow_run("stock", NOW - 3 * H, "ok"), flow_run("stock", NOW - 2 * H, "partial"),
            flow_run("stock", NOW - H, "skipped", "no designated Stokly location"),
            flow_run("orders", NOW - H, "ok", "an old note"), flow_run("orders", NOW - H / 2, "ok"),
            flow_run("stock", NOW + H, "ok"),  # after `now`: ignored
            flow_run("stock", NOW - H / 4, "ok", integration="other"),
            record("1", "confirmed"), record("2", "dead"), record("3", "quarantined"), record("4", "failed"),
            record("5", "claimed", lease=NOW - H), record("6", "claimed", lease=NOW + H),
            record("7", "dead", integration="other"),
        ])
    view = load_ledger_view(store, "acme", NOW)
    assert view.last_success == {"stock": NOW - 2 * H, "orders": NOW - H / 2}
    assert view.notes == {"stock": "no designated Stokly location"}
    assert [(e.source_id, e.state) for e in view.entries] == [("2", "dead"), ("3", "quarantined"),
                                                              ("4", "failed"), ("5", "claimed")]
    assert view.entries[0].last_error == "boom"
    assert view.entries[0].attempts == 3


def test_an_empty_ledger_is_an_empty_view(store: Store) -> None:
    view = load_ledger_view(store, "acme", NOW)
    assert (dict(view.last_success), view.entries, dict(view.notes)) == ({}, (), {})
