"""stale_stock_push as a pure function."""

from __future__ import annotations

from checks.stale_stock_push import StaleStockPush
from tests.checks.factories import HOUR, MINUTE, NOW, ctx_of
from watchdog.findings import Severity
from watchdog.model import LedgerView


def run(ledger: LedgerView, **kw: object) -> list:
    return list(StaleStockPush().run(ctx_of(ledger=ledger, **kw)))  # type: ignore[arg-type]


def test_a_recent_push_gives_nothing() -> None:
    assert run(LedgerView(last_success={"stock": NOW - 10 * MINUTE})) == []


def test_an_old_push_is_a_warning_then_critical_with_the_note() -> None:
    [f] = run(LedgerView(last_success={"stock": NOW - HOUR}, notes={"stock": "no designated Stokly location"}))
    assert (f.subject, f.severity) == ("flow:stock", Severity.WARNING)
    assert f.measures == {"last_success_timestamp": int((NOW - HOUR).timestamp())}
    assert "no designated Stokly location" in f.summary
    [g] = run(LedgerView(last_success={"stock": NOW - 3 * HOUR}))
    assert g.severity is Severity.CRITICAL


def test_never_pushed_is_critical_and_thresholds_are_configurable() -> None:
    [f] = run(LedgerView())
    assert (f.severity, f.measures["last_success_timestamp"]) == (Severity.CRITICAL, 0)
    assert run(LedgerView(last_success={"stock": NOW - HOUR}), config={"max_age": "2h"}) == []


def test_the_summary_does_not_change_as_time_passes() -> None:
    ledger = LedgerView(last_success={"stock": NOW - HOUR})
    [a] = run(ledger)
    [b] = run(ledger, now=NOW + 10 * MINUTE)
    assert (a.summary, a.measures) == (b.summary, b.measures)
