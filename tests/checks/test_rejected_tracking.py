"""rejected_tracking as a pure function."""

from __future__ import annotations

from checks.rejected_tracking import RejectedTracking, normalise_tracking
from tests.checks.factories import (
    MINUTE,
    D,
    ctx_of,
    dispatch,
    entry,
    inc,
    magento_snapshot,
    order,
    sale_order,
    shipment,
    stokly_snapshot,
)
from watchdog.findings import Severity
from watchdog.model import LedgerView


def run(dispatches: list, shipments: list, **kw: object) -> list:
    orders = [order(1, state="complete"), order(2)]
    ctx = ctx_of(magento_snapshot(orders=orders, shipments=shipments),
                 stokly_snapshot(sale_orders=[sale_order(inc(1)), sale_order(inc(2))], dispatches=dispatches),
                 **kw)  # type: ignore[arg-type]
    return list(RejectedTracking().run(ctx))


def test_a_track_in_magento_matches_whatever_the_spacing_and_case() -> None:
    assert normalise_tracking(" rm 123 gb ") == "RM123GB"
    assert run([dispatch("d1", inc(1), "RM 123 GB", ("l1", 1))], [shipment(50, 1, "rm123gb")]) == []


def test_a_hand_made_shipment_is_named() -> None:
    [f] = run([dispatch("d1", inc(1), "RM123GB", ("l1", 2))], [shipment(50, 1)])
    assert (f.subject, f.severity, f.measures) == ("dispatch:d1", Severity.WARNING, {"units": D(2)})
    assert "shipment 000000050 was created by hand" in f.summary
    assert f.links["magento_magento"].endswith("/sales/shipment/view/shipment_id/50/")


def test_no_shipment_at_all_says_so_with_the_sync_error() -> None:
    ledger = LedgerView(entries=(entry("fulfilment", "d2", "failed", error="Not all of your products"),))
    [f] = run([dispatch("d2", inc(2), "RM9", ("l1", 1))], [], ledger=ledger)
    assert "has no Magento shipment" in f.summary
    assert "Not all of your products" in f.summary


def test_dispatches_without_tracking_in_flight_or_of_unknown_orders_are_skipped() -> None:
    dispatches = [dispatch("d1", inc(1), "", ("l1", 1)), dispatch("d2", inc(2), "RM1", age=5 * MINUTE),
                  dispatch("d3", "000000404", "RM2")]
    assert run(dispatches, []) == []


def test_a_shipment_carrying_one_of_our_numbers_is_not_hand_made() -> None:
    dispatches = [dispatch("d1", inc(1), "RM1", ("l1", 1)), dispatch("d2", inc(1), "RM2", ("l2", 1), nice_id=2)]
    [f] = run(dispatches, [shipment(50, 1, "RM1")])
    assert f.subject == "dispatch:d2"
    assert "by hand" not in f.summary
