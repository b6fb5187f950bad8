"""The pure parts of the flows: order mapping, shipment and refund plans, redaction, progress."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from watchdog.model import (
    Address,
    CreditMemo,
    CreditMemoItem,
    Dispatch,
    DispatchLine,
    Item,
    ItemFormat,
    Order,
    OrderLine,
    SaleOrder,
    SaleOrderLine,
    Shipment,
    Track,
)
from watchdog.secret import MASK, Secret
from watchdog.sync.order_mapping import customer_key, order_draft, order_problems, sold_lines
from watchdog.sync.progress import ProgressBar
from watchdog.sync.redact import Redactor
from watchdog.sync.refund_plan import RefundPlan, plan_refund
from watchdog.sync.shipment_plan import carrier_code, carries_any, dispatched_skus, plan_shipment

T = datetime(2025, 5, 12, 9, 0, tzinfo=UTC)
D = Decimal


def ln(item_id: int, sku: str, qty: str, net: str, tax: str, *, kind: str = "simple", parent: int | None = None,
       shipped: str = "0", refunded: str = "0", canceled: str = "0") -> OrderLine:
    q = D(qty)
    return OrderLine(item_id=item_id, sku=sku, name=sku, product_type=kind, qty_ordered=q,
                     price=D(net) / q if q else D(0), tax_amount=D(tax), row_total=D(net), qty_shipped=D(shipped),
                     qty_refunded=D(refunded), qty_canceled=D(canceled), parent_item_id=parent)


def order(*lines: OrderLine, customer_id: int | None = 7, email: str = "Jane@Example.com") -> Order:
    net = sum((x.row_total for x in lines if x.parent_item_id is None), D(0))
    tax = sum((x.tax_amount for x in lines if x.parent_item_id is None), D(0))
    return Order(entity_id=1, increment_id="000000001", state="processing", status="processing", created_at=T,
                 updated_at=T, currency="GBP", grand_total=net + tax + D(6), subtotal=net, tax_amount=tax + D(1),
                 shipping_amount=D(5), shipping_tax_amount=D(1), customer_email=email, lines=lines,
                 total_paid=net + tax + D(6), customer_id=customer_id, customer_is_guest=customer_id is None,
                 customer_firstname="Jane", customer_lastname="Doe",
                 shipping_address=Address("Jane", "Doe", ("1 High St", "Flat 2"), "Leeds", "", "LS1", "GB"))


ITEMS = {sku: Item(f"id-{sku}", sku, sku) for sku in ("MUG", "BOOK", "TEE-S", "DESK", "RAM", "MONITOR")}
ITEMS["TEE"] = Item("id-TEE", "TEE", "Tee", format=ItemFormat.VARIABLE)


def known(o: Order) -> dict[str, Item | None]:
    return {x.sku: ITEMS.get(x.sku) for x in sold_lines(o)}


# ------------------------------------------------------------------ orders


def test_configurable_and_bundle_lines_are_counted_once() -> None:
    o = order(ln(1, "TEE-S", "2", "40", "8", kind="configurable"), ln(2, "TEE-S", "2", "0", "0", parent=1),
              ln(3, "DESK", "1", "110", "22", kind="bundle"), ln(4, "RAM", "1", "0", "0", parent=3),
              ln(5, "MONITOR", "1", "0", "0", parent=3))
    assert [(s.order_item_id, s.sku, s.quantity) for s in sold_lines(o)] == [(1, "TEE-S", 2), (3, "DESK", 1)]
    assert order_problems(o, known(o)) == []


def test_dynamic_price_bundles_take_their_selections_money() -> None:
    o = order(ln(3, "DESK", "1", "0", "0", kind="bundle"), ln(4, "RAM", "1", "30", "6", parent=3),
              ln(5, "MONITOR", "1", "90", "18", parent=3))
    [desk] = sold_lines(o)
    assert (desk.net, desk.tax) == (D(120), D(24))


def test_tax_is_split_per_line_and_totals_match_magento() -> None:
    o = order(ln(1, "MUG", "3", "10", "2"), ln(2, "BOOK", "1", "12", "0"))
    draft = order_draft(o, known(o), channel_id="ch", customer_id="c1")
    mug, book = draft.lines
    assert (mug.unit_price, mug.unit_tax, mug.line_price, mug.line_tax) == (
        D("3.333333"), D("0.666667"), D(10), D(2))
    assert (book.unit_tax, book.line_tax) == (D(0), D(0))
    gross = sum((x.line_total for x in draft.lines), D(0))
    assert draft.shipping is not None
    assert gross + draft.shipping.cost + draft.shipping.tax == o.grand_total
    assert draft.shipping.address.line2 == "Flat 2"
    assert draft.payments[0].amount == o.grand_total
    assert draft.source_reference_id == "000000001"


def test_cancelled_quantities_are_left_out_pro_rata() -> None:
    o = order(ln(1, "MUG", "4", "40", "8", canceled="1"))
    [mug] = sold_lines(o)
    assert (mug.quantity, mug.net, mug.tax) == (D(3), D(30), D(6))


@pytest.mark.parametrize(("lines", "reason"), [
    ((ln(1, "GHOST", "1", "3", "0"),), "SKU 'GHOST' (line 1) is not in Stokly's item master"),
    ((ln(1, "TEE", "1", "20", "4", kind="configurable"),), "is a variable (parent) item"),
    ((ln(1, "MUG", "-2", "-8", "0"),), "has quantity -2; quantities must be positive"),
    ((ln(1, "", "1", "8", "0"),), "line 1 has no SKU"),
    ((ln(3, "PC-RAM-MONITOR", "1", "150", "30", kind="bundle"), ln(4, "RAM", "1", "0", "0", parent=3),
      ln(5, "MONITOR", "1", "0", "0", parent=3)), "is a dynamic-SKU bundle"),
])
def test_bad_orders_are_refused_with_a_reason(lines: tuple[OrderLine, ...], reason: str) -> None:
    o = order(*lines)
    problems = order_problems(o, known(o))
    assert any(reason in p for p in problems), problems


def test_every_problem_is_reported_at_once() -> None:
    o = order(ln(1, "GHOST", "1", "3", "0"), ln(2, "NOPE", "1", "3", "0"), ln(3, "MUG", "1", "8", "1.6"))
    assert len(order_problems(o, known(o))) == 2


def test_customers_registered_by_id_guests_by_email() -> None:
    assert customer_key(order(customer_id=7)).barcode == "MAG-C-7"
    assert customer_key(order(customer_id=None)).barcode == "MAG-G-jane@example.com"
    assert customer_key(order(customer_id=None, email="")).barcode == "MAG-GUEST"


# ------------------------------------------------------------------ shipments


def so_line(line_id: str, sku: str, qty: str, *, parent: str | None = None, cancelled: str = "0") -> SaleOrderLine:
    return SaleOrderLine(line_id, f"id-{sku}", sku, D(qty), D(10), D(2), parent_id=parent,
                         quantity_cancelled=D(cancelled))


def sale_order(*lines: SaleOrderLine) -> SaleOrder:
    return SaleOrder("so-1", 1, "order", "000000001", "GBP", T, lines)


def dispatch(*parts: tuple[str, str], tracking: str = "RM 123 GB") -> Dispatch:
    return Dispatch("d-1", 1, "so-1", "wh", "Royal Mail", tracking, T, tuple(DispatchLine(i, D(q)) for i, q in parts))


def test_dispatches_ship_parent_items_capped_at_what_is_left() -> None:
    o = order(ln(1, "TEE-S", "2", "40", "8", kind="configurable", shipped="1"), ln(2, "TEE-S", "2", "0", "0",
                                                                                   parent=1),
              ln(3, "DESK", "1", "110", "22", kind="bundle"), ln(4, "RAM", "1", "0", "0", parent=3))
    so = sale_order(so_line("a", "TEE-S", "2"), so_line("b", "DESK", "1"), so_line("c", "RAM", "1", parent="b"))
    units = dispatched_skus(dispatch(("a", "2"), ("b", "1"), ("c", "1")), so)
    assert units == {"TEE-S": D(2), "DESK": D(1)}
    plan = plan_shipment(o, units)
    assert [(i.order_item_id, i.qty) for i in plan.items] == [(1, D(1)), (3, D(1))]
    assert plan.short == {"TEE-S": D(1)}
    assert plan_shipment(o, {"NOPE": D(1)}).missing == ("NOPE",)


def test_tracking_numbers_and_carriers() -> None:
    shipment = Shipment(5, "5", 1, T, (), (Track("rm123gb", "RM", "custom"),))
    assert carries_any(shipment, ["RM 123 GB"])
    assert not carries_any(shipment, ["RM999", " "])
    assert (carrier_code("UPS Ground"), carrier_code("Fed Ex"), carrier_code("Royal Mail")) == (
        "ups", "fedex", "custom")


# ------------------------------------------------------------------ refunds


def memo(*items: tuple[int, str, str, str, str], shipping: str = "0", grand: str = "0") -> CreditMemo:
    memo_items = tuple(CreditMemoItem(i, sku, D(q), D(net) / D(q), D(tax), D(net)) for i, sku, q, net, tax in items)
    return CreditMemo(9, "000000009", 1, T, T, 2, "GBP", D(grand), D(0), D(0), memo_items, shipping_amount=D(shipping),
                      shipping_tax_amount=D(shipping) / 5)


def test_refunds_cancel_open_units_first_and_credit_the_dispatched_rest() -> None:
    o = order(ln(1, "MUG", "3", "30", "6"), ln(2, "BOOK", "1", "12", "0"))
    so = sale_order(so_line("a", "MUG", "3"), so_line("b", "BOOK", "1"))
    m = memo((1, "MUG", "2", "20", "4"), (2, "BOOK", "1", "12", "0"), shipping="5", grand="43")
    plan = plan_refund(m, o, so, {"a": D(2), "b": D(1)})
    assert plan.cancel == {"a": D(1)}
    assert [(c.sku, c.quantity, c.unit_price, c.unit_tax) for c in plan.credit] == [
        ("MUG", D(1), D(10), D(2)), ("BOOK", D(1), D(12), D(0))]
    assert plan.refund_amount == D(12) + D(12) + D(5) + D(1)
    assert RefundPlan.from_json(plan.to_json()) == plan


def test_a_refund_after_full_fulfilment_is_all_credit_for_the_memo_total() -> None:
    o = order(ln(1, "MUG", "3", "30", "6"))
    plan = plan_refund(memo((1, "MUG", "3", "30", "6"), shipping="5", grand="42"), o,
                       sale_order(so_line("a", "MUG", "3")), {"a": D(3)})
    assert (plan.cancel, plan.refund_amount, plan.shipping_tax) == ({}, D(42), D(1))


def test_a_refund_before_fulfilment_only_cancels() -> None:
    o = order(ln(1, "MUG", "3", "30", "6"))
    plan = plan_refund(memo((1, "MUG", "3", "30", "6"), grand="36"), o,
                       sale_order(so_line("a", "MUG", "3", cancelled="0")), {})
    assert (plan.cancel, plan.credit) == ({"a": D(3)}, ())
    unknown = plan_refund(memo((1, "GHOST", "1", "3", "0")), order(ln(1, "GHOST", "1", "3", "0")),
                          sale_order(so_line("a", "MUG", "3")), {})
    assert unknown.unmatched == ("GHOST",)


# ------------------------------------------------------------------ redaction and progress


def test_dead_letters_never_hold_a_secret() -> None:
    redact = Redactor([Secret("s3cr3t-token-value"), None, "abc"])
    cleaned = redact({"Authorization": "Bearer x", "body": {"note": "token s3cr3t-token-value leaked", "qty": 2},
                      "client_secret": "zzz", "items": list(range(60)), "raw": b"abc s3cr3t-token-value"})
    assert cleaned["Authorization"] == MASK
    assert cleaned["client_secret"] == MASK
    assert cleaned["body"] == {"note": f"token {MASK} leaked", "qty": 2}
    assert cleaned["raw"] == f"abc {MASK}"  # values shorter than 4 characters are not treated as secrets
    assert len(cleaned["items"]) == 51
    assert "s3cr3t" not in repr(redact)


def test_progress_lines_on_a_log_stream() -> None:
    stream, now = io.StringIO(), [0.0]
    bar = ProgressBar(stream, log_every_s=10, clock=lambda: now[0])
    bar.update("orders", 0)
    now[0] = 20.0
    bar.update("orders", 400)
    bar.update("orders", 401)  # too soon for another line
    bar.finish("orders")
    assert stream.getvalue() == "orders: 400 record(s), 20/s\n"
