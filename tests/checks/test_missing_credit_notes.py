"""missing_credit_notes as a pure function."""

from __future__ import annotations

from datetime import timedelta

from checks.missing_credit_notes import MissingCreditNotes
from tests.checks.factories import (
    MINUTE,
    NOW,
    D,
    ctx_of,
    inc,
    invoice,
    magento_snapshot,
    memo,
    note,
    order,
    sale_order,
    stokly_snapshot,
)
from watchdog.findings import Severity

ORDERS = [order(1), order(2), order(3)]
SALE_ORDERS = [sale_order(inc(1)), sale_order(inc(2)), sale_order(inc(3))]
INVOICES = [invoice("inv-1", inc(1), issued=NOW), invoice("inv-2", inc(2), issued=NOW)]  # order 3: not invoiced


def run(memos: list, notes: list, **kw: object) -> list:
    ctx = ctx_of(magento_snapshot(orders=ORDERS, credit_memos=memos),
                 stokly_snapshot(sale_orders=SALE_ORDERS, invoices=INVOICES, credit_notes=notes), **kw)  # type: ignore[arg-type]
    return list(MissingCreditNotes().run(ctx))


def test_a_matching_note_gives_nothing() -> None:
    assert run([memo(10, 1, total="24.00", tax="4.00")], [note(inc(10), amount="24.00", vat="4.00")]) == []


def test_no_note_after_settle_carries_the_vat_still_overstated() -> None:
    [f] = run([memo(10, 1, total="24.00", tax="4.00")], [])
    assert (f.subject, f.severity) == ("creditmemo:000000010", Severity.WARNING)
    assert f.measures == {"vat": D("4.00"), "amount": D("24.00")}
    assert f.links["magento"].endswith("/sales/creditmemo/view/creditmemo_id/10/")


def test_no_note_for_a_day_is_critical() -> None:
    [f] = run([memo(10, 1, total="24", tax="4", age=timedelta(days=2))], [])
    assert f.severity is Severity.CRITICAL


def test_amounts_that_differ_by_a_cent_or_more() -> None:
    memos = [memo(10, 1, total="24.00", tax="4.00"), memo(11, 2, total="10.00", tax="1.67")]
    notes = [note(inc(10), amount="20.00", vat="3.33"), note(inc(11), amount="10.00", vat="1.665")]
    [f] = run(memos, notes)
    assert f.measures == {"vat": D("0.67"), "amount": D("4.00")}
    assert "overstated by GBP 0.67" in f.summary


def test_a_duplicate_note_over_credits() -> None:
    notes = [note(inc(10), amount="24", vat="4", nice_id=1), note(inc(10), amount="24", vat="4", nice_id=2)]
    [f] = run([memo(10, 1, total="24", tax="4")], notes)
    assert f.measures == {"vat": D("-4"), "amount": D("-24")}
    assert "understated" in f.summary
    assert "2 notes" in f.summary


def test_in_flight_canceled_and_uninvoiced_memos_are_skipped() -> None:
    memos = [memo(10, 1, total="1", tax="0.2", age=5 * MINUTE), memo(11, 2, total="1", tax="0.2", state=3),
             memo(12, 3, total="1", tax="0.2")]
    assert run(memos, [note("x", amount="1", vat="1", status="void")]) == []


def test_a_memo_of_an_order_stokly_does_not_know_still_needs_a_note() -> None:
    [f] = run([memo(10, 77, total="5", tax="1")], [])
    assert f.subject == "creditmemo:000000010"
