"""Refunds (Magento credit memos -> Stokly amendments or credit notes), over HTTP."""

from __future__ import annotations

from decimal import Decimal

from tests.sync.kit import Shop, line, served_shop, sync
from watchdog.store.db import Store
from watchdog.sync.ledger import CONFIRMED, QUARANTINED, Ledger


def _cancelled(shop: Shop, order_id: int) -> dict[str, Decimal]:
    so = shop.sale_order(order_id)
    return {shop.stokly.item(ln.item_id).sku: ln.cancelled for ln in so.top_lines}


async def test_a_refund_after_fulfilment_is_a_credit_note_with_its_vat(sqlite_store: Store) -> None:
    with served_shop() as shop:
        order_id = shop.order(line("MUG", 2), line("CHAIR", 1), shipping=5)  # 20% and 5% VAT
        await sync(shop, sqlite_store, ("orders",))
        shop.dispatch(order_id, "RM1")
        await sync(shop, sqlite_store, ("fulfilment",))
        memo_id = shop.magento.refund(order_id, {shop.item_id(order_id, "MUG"): 1,
                                                 shop.item_id(order_id, "CHAIR"): 1})  # and the shipping
        first = await sync(shop, sqlite_store, ("refunds",))
        again = await sync(shop, sqlite_store, ("refunds",))
        assert (first.flows["refunds"].written, again.flows["refunds"].skipped) == (1, 1)
        memo = next(m for m in shop.magento.credit_memos_json() if m["entity_id"] == memo_id)
        [note] = shop.credit_notes(memo_id)
        assert note.spec.reference_id == shop.stokly.invoices()[0].sale_invoice_id  # against the posted invoice
        assert note.amount == Decimal(str(memo["grand_total"]))
        assert abs(note.vat - Decimal(str(memo["tax_amount"]))) < Decimal("0.001")
        assert [(ln.item_id, ln.quantity, ln.unit_tax) for ln in note.spec.lines] == [
            (shop.items["MUG"], 1, Decimal("1.6")), (shop.items["CHAIR"], 1, Decimal("2.25"))]
        assert (note.spec.shipping_cost, note.spec.shipping_tax) == (5, 1)
        assert _cancelled(shop, order_id) == {"MUG": 0, "CHAIR": 0}


async def test_a_refund_before_fulfilment_amends_the_order_and_raises_no_credit_note(sqlite_store: Store) -> None:
    with served_shop() as shop:
        order_id = shop.order(line("MUG", 3), line("BOOK", 1))
        await sync(shop, sqlite_store, ("orders",))
        memo_id = shop.magento.refund(order_id, {shop.item_id(order_id, "MUG"): 2}, shipping_amount=0)
        await sync(shop, sqlite_store, ("refunds",))
        await sync(shop, sqlite_store, ("refunds",))
        assert _cancelled(shop, order_id) == {"MUG": 2, "BOOK": 0}  # cancelled once
        assert shop.credit_notes(memo_id) == []
        assert Ledger(sqlite_store, "acme").entry("refunds", str(memo_id)) == (
            CONFIRMED, f"amend:{shop.sale_order(order_id).sale_order_id}")
        shop.dispatch(order_id, "RM2")  # the rest ships; the posting covers what shipped
        await sync(shop, sqlite_store, ("fulfilment",))
        [invoice] = shop.stokly.invoices()
        assert invoice.total == Decimal("9.6") + Decimal(12)


async def test_a_partly_dispatched_refund_cancels_the_rest_and_credits_the_shipped(sqlite_store: Store) -> None:
    with served_shop() as shop:
        order_id = shop.order(line("MUG", 3))
        await sync(shop, sqlite_store, ("orders",))
        shop.dispatch(order_id, "RM3", {"MUG": 2})
        await sync(shop, sqlite_store, ("fulfilment",))
        memo_id = shop.magento.refund(order_id, {shop.item_id(order_id, "MUG"): 2}, shipping_amount=0)
        await sync(shop, sqlite_store, ("refunds",))
        assert _cancelled(shop, order_id) == {"MUG": 1}  # the undispatched unit
        assert shop.credit_notes(memo_id) == []  # the dispatched one waits for the invoice
        await sync(shop, sqlite_store, ("fulfilment", "refunds"))  # nothing open: posted, then credited
        [invoice] = shop.stokly.invoices()
        assert invoice.total == Decimal("19.2")
        [note] = shop.credit_notes(memo_id)
        assert [(ln.quantity, ln.unit_price) for ln in note.spec.lines] == [(1, 8)]
        assert note.amount == Decimal("9.6")
        assert _cancelled(shop, order_id) == {"MUG": 1}


async def test_refunds_before_fulfilment_can_be_held_for_a_person(sqlite_store: Store) -> None:
    with served_shop() as shop:
        order_id = shop.order(line("MUG", 1))
        await sync(shop, sqlite_store, ("orders",))
        memo_id = shop.magento.refund(order_id)
        summary = await sync(shop, sqlite_store, ("refunds",),
                             integration=shop.integration(refund_before_fulfilment="hold"))
        assert summary.flows["refunds"].dead == 1
        assert _cancelled(shop, order_id) == {"MUG": 0}
        assert shop.credit_notes(memo_id) == []
        [letter] = Ledger(sqlite_store, "acme").dead_letters("refunds")
        assert letter.state == QUARANTINED
        assert "refund_before_fulfilment = hold" in (letter.last_error or "")


async def test_two_refunds_of_one_order_are_each_applied_once(sqlite_store: Store) -> None:
    with served_shop() as shop:
        order_id = shop.order(line("MUG", 4))
        await sync(shop, sqlite_store, ("orders",))
        mug = shop.item_id(order_id, "MUG")
        first = shop.magento.refund(order_id, {mug: 1}, shipping_amount=0)
        second = shop.magento.refund(order_id, {mug: 2}, shipping_amount=0)
        for _ in range(3):
            await sync(shop, sqlite_store, ("refunds",))
        assert _cancelled(shop, order_id) == {"MUG": 3}
        ledger = Ledger(sqlite_store, "acme")
        assert [ledger.entry("refunds", str(m)) for m in (first, second)] == [
            (CONFIRMED, f"amend:{shop.sale_order(order_id).sale_order_id}")] * 2
