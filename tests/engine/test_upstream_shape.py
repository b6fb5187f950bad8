"""What the engine makes of unreadable upstream shapes: upstream_shape findings, checks that say what they
could not judge, and findings of records that could not be judged kept as they were."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

from checks.order_totals_mismatch import OrderTotalsMismatch
from tests.checks.factories import NOW, magento_snapshot, order, sale_order, stokly_snapshot
from tests.engine.support import integration
from watchdog.engine import RunSummary, run_checks
from watchdog.findings import fingerprint
from watchdog.model import LedgerView, MagentoSnapshot, ShapeProblem, StoklySnapshot
from watchdog.registry import registry_of
from watchdog.store.db import Store
from watchdog.store.finding_queries import findings_json

MIN = timedelta(minutes=5)
TAX = ShapeProblem("stokly", "/v2/saleorders", "tax", "a number", "absent", 2, 2, "saleOrderId=so-1", False)
ASIDE = ShapeProblem("stokly", "/v2/shipments", "shipmentId", "a readable record", "is missing", 1, 1000,
                     "niceId=7", True)


def snaps(total_1: str = "12", *, tax_known: bool = True, total_known: bool = True,
          shape: tuple[ShapeProblem, ...] = (), stokly_errors: dict[str, str] | None = None,
          ) -> tuple[MagentoSnapshot, StoklySnapshot]:
    orders = [order(1, grand_total="10", tax="2", age=timedelta(days=1)),
              order(2, grand_total="20", tax="4", age=timedelta(days=1))]
    sales = [sale_order("000000001", total=total_1, tax="2", age=timedelta(days=1)),
             sale_order("000000002", total="20", tax="4", age=timedelta(days=1))]
    if not tax_known:
        sales = [replace(s, tax=None, unknown=frozenset({"tax"})) for s in sales]
    if not total_known:
        sales = [replace(s, total=None, unknown=frozenset({"total"})) for s in sales]
    return (magento_snapshot(orders=orders),
            stokly_snapshot(sale_orders=sales, shape=shape, errors=stokly_errors or {}))


def run(store: Store, at: int, **kw: Any) -> RunSummary:
    magento, stokly = snaps(**kw)
    return run_checks(store, integration(), magento, stokly, LedgerView(), NOW + at * MIN,
                      registry=registry_of([("order_totals_mismatch", "checks", OrderTotalsMismatch)]))


def open_findings(store: Store) -> dict[tuple[str, str], dict[str, Any]]:
    return {(f["check"], f["subject"]): f for f in findings_json(store) if f["status"] == "open"}


def test_each_route_and_field_problem_is_one_finding_naming_it(store: Store) -> None:
    summary = run(store, 0, shape=(TAX, ASIDE), tax_known=False)
    found = open_findings(store)
    tax = found[("upstream_shape", "shape:stokly:/v2/saleorders:tax")]
    assert tax["owner"] == "platform"
    assert tax["severity"] == "warning"
    assert "GET /v2/saleorders" in tax["summary"]
    assert "'tax' absent in 2 of 2 records" in tax["summary"]
    assert "saleOrderId=so-1" in tax["summary"]
    assert tax["runbook"] == "docs/runbooks/upstream_shape.md"
    aside = found[("upstream_shape", "shape:stokly:/v2/shipments:shipmentId")]
    assert "1 of 1000 records set aside" in aside["summary"]
    assert "niceId=7" in aside["summary"]
    assert aside["measures"] == {"records": 1, "read": 1000}
    assert summary.checks["upstream_shape"].open == 2


def test_a_check_says_once_what_it_could_not_judge_and_judges_the_rest(store: Store) -> None:
    summary = run(store, 0, total_1="15", tax_known=False)
    result = summary.checks["order_totals_mismatch"]
    assert result.outcome == "ok"
    assert result.limits == ("Stokly sale orders carry no readable tax: order tax is not compared (totals are) "
                             "(2 records)",)
    assert summary.checks_json()["order_totals_mismatch"]["limits"] == list(result.limits)
    mismatch = open_findings(store)[("order_totals_mismatch", "order:000000001")]
    assert mismatch["measures"] == {"difference": -5}  # the total is judged; no made-up tax difference
    assert "tax unknown" in mismatch["summary"]


def test_records_that_could_not_be_judged_keep_their_findings(store: Store) -> None:
    run(store, 0, total_1="15")
    fp = fingerprint("acme", "order_totals_mismatch", "order:000000001")
    for at in (1, 2, 3):  # totals unreadable: more runs than the flap damping, and still open
        summary = run(store, at, total_1="12", total_known=False)
    assert summary.checks["order_totals_mismatch"].outcome == "ok"
    assert "their totals are not compared" in summary.checks["order_totals_mismatch"].limits[0]
    assert ("order_totals_mismatch", "order:000000001") in open_findings(store)
    for at in (4, 5):  # readable again and equal: resolves as usual
        run(store, at, total_1="10")
    assert not [f for f in findings_json(store) if f["fingerprint"] == fp and f["status"] == "open"]


def test_shape_findings_resolve_only_when_both_systems_were_read(store: Store) -> None:
    run(store, 0, shape=(TAX,), tax_known=False)
    for at in (1, 2, 3):  # the problem is gone, but Stokly's invoices could not be read: not all clear
        run(store, at, stokly_errors={"invoices": "stokly /v0/invoices HTTP 503 (transient): down"})
    assert ("upstream_shape", "shape:stokly:/v2/saleorders:tax") in open_findings(store)
    for at in (4, 5):
        run(store, at)
    assert ("upstream_shape", "shape:stokly:/v2/saleorders:tax") not in open_findings(store)


def test_not_evaluated_and_source_unreachable_say_the_route_and_cause(store: Store) -> None:
    magento, stokly = snaps()
    stokly = replace(stokly, sale_orders=None,
                     errors={"sale_orders": "stokly /v2/saleorders HTTP 401 (permanent): invalid token"})
    summary = run_checks(store, integration(), magento, stokly, LedgerView(), NOW,
                         registry=registry_of([("order_totals_mismatch", "checks", OrderTotalsMismatch)]))
    error = summary.checks["order_totals_mismatch"].error or ""
    assert "stokly.sale_orders (stokly /v2/saleorders HTTP 401 (permanent): invalid token)" in error
    unreachable = open_findings(store)[("source_unreachable", "system:stokly")]
    assert "/v2/saleorders HTTP 401" in unreachable["summary"]
    assert "invalid token" in unreachable["summary"]
    assert "order_totals_mismatch" in unreachable["summary"]
    assert Decimal(str(unreachable["measures"]["checks_blocked"])) == 1
