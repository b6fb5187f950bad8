"""sync_dead_letters as a pure function."""

from __future__ import annotations

from checks.sync_dead_letters import SyncDeadLetters
from tests.checks.factories import ctx_of, entry
from watchdog.findings import Severity
from watchdog.model import LedgerView


def run(*entries: object, **kw: object) -> list:
    return list(SyncDeadLetters().run(ctx_of(ledger=LedgerView(entries=entries), **kw)))  # type: ignore[arg-type]


def test_dead_and_quarantined_records_but_not_failing_ones() -> None:
    found = run(entry("orders", "1001", "dead", attempts=8), entry("stock", "ABC", "quarantined", attempts=1),
                entry("fulfilment", "d9", "failed"), entry("orders", "1001", "dead"))
    assert [(f.subject, f.severity, f.measures) for f in found] == [
        ("ledger:orders:1001", Severity.CRITICAL, {"attempts": 8}),
        ("ledger:stock:ABC", Severity.WARNING, {"attempts": 1}),
    ]
    assert "Could not save a shipment" in found[0].summary


def test_states_and_critical_flows_are_configurable() -> None:
    [f] = run(entry("fulfilment", "d9", "failed", error=None), config={"states": ["failed"], "critical_flows": []})
    assert f.severity is Severity.WARNING
    assert "no error recorded" in f.summary
