"""posting_sequence as a pure function."""

from __future__ import annotations

from datetime import UTC, datetime

from checks.posting_sequence import PostingSequence, issued_before
from tests.checks.factories import HOUR, MINUTE, NOW, D, ctx_of, dispatch, inc, invoice, sale_order, stokly_snapshot
from watchdog.findings import Severity

MIDNIGHT = datetime(2026, 11, 26, tzinfo=UTC)


def run(dispatches: list, invoices: list) -> list:
    sale_orders = [sale_order(inc(n), total="30", tax="5") for n in range(1, 6)]
    ctx = ctx_of(stokly=stokly_snapshot(sale_orders=sale_orders, dispatches=dispatches, invoices=invoices))
    return list(PostingSequence().run(ctx))


def test_midnight_dates_compare_by_day() -> None:
    assert not issued_before(MIDNIGHT, MIDNIGHT.replace(hour=15))
    assert issued_before(MIDNIGHT.replace(day=25), MIDNIGHT.replace(hour=1))
    assert issued_before(MIDNIGHT.replace(hour=9), MIDNIGHT.replace(hour=10))


def test_an_invoice_after_dispatch_gives_nothing() -> None:
    assert run([dispatch("d1", inc(1), "RM1", age=5 * HOUR)], [invoice("i1", inc(1), issued=NOW - 2 * HOUR)]) == []


def test_an_invoice_before_dispatch_or_without_one() -> None:
    dispatches = [dispatch("d1", inc(1), "RM1", age=2 * HOUR)]
    invoices = [invoice("i1", inc(1), issued=NOW - 5 * HOUR, total="30", tax="5"),
                invoice("i2", inc(2), issued=NOW - 3 * HOUR), invoice("i3", inc(3), issued=NOW - 10 * MINUTE),
                invoice("i4", inc(4), issued=NOW - 3 * HOUR, status="void")]
    found = {f.subject: f for f in run(dispatches, invoices)}
    assert sorted(found) == ["invoice:i1", "invoice:i2"]  # i3 is inside the settle window, i4 is void
    assert found["invoice:i1"].measures == {"amount": D("30"), "tax": D("5")}
    assert found["invoice:i1"].severity is Severity.WARNING
    assert "nothing is dispatched" in found["invoice:i2"].summary


def test_a_dispatch_not_invoiced_within_a_day() -> None:
    dispatches = [dispatch("d1", inc(1), "RM1", age=30 * HOUR), dispatch("d2", inc(2), "RM2", age=2 * HOUR),
                  dispatch("d5", inc(5), "RM5", age=30 * HOUR)]
    [f] = run(dispatches, [invoice("i5", inc(5), issued=NOW - HOUR)])
    assert (f.subject, f.measures) == ("order:000000001", {"amount": D("30"), "tax": D("5")})
