"""Fulfilment (Stokly dispatches -> Magento shipments) and postings (Stokly invoices), over HTTP."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

from tests.sync.kit import Shop, line, served_shop, sync
from watchdog.simulators.faults import FaultRule
from watchdog.simulators.magento import TrackSpec
from watchdog.store.db import Store
from watchdog.sync.ledger import CONFIRMED, QUARANTINED, Ledger


def _shipped(shop: Shop, order_id: int) -> dict[str, Decimal]:
    items = shop.magento.order_json(order_id)["items"]
    return {i["sku"] + ("" if i.get("parent_item_id") else "*"): Decimal(str(i.get("qty_shipped", 0))) for i in items}


async def test_partial_dispatches_become_partial_shipments_then_one_invoice(sqlite_store: Store) -> None:
    with served_shop() as shop:
        order_id = shop.order(line("MUG", 3), line("BOOK", 1))
        await sync(shop, sqlite_store, ("orders",))
        first = shop.dispatch(order_id, "RM100", {"MUG": 2})
        summary = await sync(shop, sqlite_store, ("fulfilment",))
        assert summary.flows["fulfilment"].written == 1
        assert summary.flows["postings"].failed == 1  # waits: 2 units not dispatched yet
        assert shop.stokly.invoices() == []
        assert _shipped(shop, order_id) == {"MUG*": 2, "BOOK*": 0}
        [shipment] = shop.shipments(order_id)
        assert shipment["extension_attributes"]["source_code"] == "wh1"
        assert [t["track_number"] for t in shipment["tracks"]] == ["RM100"]

        second = shop.dispatch(order_id, "RM200")
        await sync(shop, sqlite_store, ("fulfilment",))
        await sync(shop, sqlite_store, ("fulfilment",))
        assert _shipped(shop, order_id) == {"MUG*": 3, "BOOK*": 1}
        assert sorted(shop.tracks(order_id)) == ["RM100", "RM200"]
        assert shop.magento.order_json(order_id)["state"] == "complete"
        [invoice] = shop.stokly.invoices()
        assert invoice.sale_order_id == shop.sale_order(order_id).sale_order_id
        assert invoice.total == Decimal("40.8")  # 3 x 9.60 + 12.00: the goods, posted after fulfilment
        ledger = Ledger(sqlite_store, "acme")
        assert [(ledger.entry("fulfilment", d) or ("",))[0] for d in (first, second)] == [CONFIRMED] * 2


async def test_configurables_ship_by_parent_item_and_bundles_by_the_bundle(sqlite_store: Store) -> None:
    with served_shop() as shop:
        tee = shop.order(line("TEE", 2, child_sku="TEE-S"))
        desk = shop.order(line("DESK", 1, selections=("RAM", "MONITOR")))
        await sync(shop, sqlite_store, ("orders",))
        shop.dispatch(tee, "TEE-TRACK")
        shop.dispatch(desk, "DESK-TRACK")
        await sync(shop, sqlite_store, ("fulfilment",))
        parent = shop.item_id(tee, "TEE-S")
        [shipment] = shop.shipments(tee)
        assert [(i["order_item_id"], i["qty"]) for i in shipment["items"]] == [(parent, 2)]
        assert _shipped(shop, tee) == {"TEE-S*": 2, "TEE-S": 2}
        assert _shipped(shop, desk) == {"DESK*": 1, "RAM": 1, "MONITOR": 1}
        assert shop.magento.source_qty("RAM", "wh1") == 99  # the selection left the mapped source


async def test_a_hand_made_shipment_is_a_rejected_tracking_update(sqlite_store: Store) -> None:
    with served_shop() as shop:
        order_id = shop.order(line("MUG", 1))
        await sync(shop, sqlite_store, ("orders",))
        manual = shop.magento.ship_manually(order_id)
        dispatch = shop.dispatch(order_id, "RM555")
        summary = await sync(shop, sqlite_store, ("fulfilment",))
        assert summary.flows["fulfilment"].dead == 1
        assert len(shop.shipments(order_id)) == 1
        assert shop.tracks(order_id) == []
        [letter] = Ledger(sqlite_store, "acme").dead_letters("fulfilment")
        assert (letter.source_id, letter.state, letter.target_id) == (dispatch, QUARANTINED, str(manual))
        assert "created by hand without tracking RM555" in (letter.last_error or "")


async def test_tracking_is_attached_to_a_hand_made_shipment_when_configured(sqlite_store: Store) -> None:
    with served_shop() as shop:
        order_id = shop.order(line("MUG", 1))
        await sync(shop, sqlite_store, ("orders",))
        manual = shop.magento.ship_manually(order_id, tracks=[TrackSpec("OTHER-1")])
        shop.dispatch(order_id, "RM556")
        integration = shop.integration(attach_tracking_to_existing_shipment=True)
        await sync(shop, sqlite_store, ("fulfilment",), integration=integration)
        await sync(shop, sqlite_store, ("fulfilment",), integration=integration)
        [shipment] = shop.shipments(order_id)
        assert shipment["entity_id"] == manual
        assert [t["track_number"] for t in shipment["tracks"]] == ["OTHER-1", "RM556"]  # added once
        assert len(shop.stokly.invoices()) == 1


async def test_a_timed_out_ship_is_read_back_not_sent_twice(sqlite_store: Store) -> None:
    with served_shop() as shop:
        order_id = shop.order(line("MUG", 2))
        await sync(shop, sqlite_store, ("orders",))
        shop.dispatch(order_id, "RM700", {"MUG": 1})
        # the ship lands, but its answer is cut off: the client cannot tell
        shop.magento_faults.add(FaultRule("truncated", route=r"POST .*/order/\d+/ship", count=1))
        summary = await sync(shop, sqlite_store, ("fulfilment",))
        assert summary.flows["fulfilment"].written == 1
        assert shop.tracks(order_id) == ["RM700"]
        # an answer that never came (a gateway error): checked again on the next run, then shipped once
        shop.dispatch(order_id, "RM701", {"MUG": 1})
        shop.magento_faults.add(FaultRule("status", route=r"POST .*/order/\d+/ship", status=502, count=1))
        first = await sync(shop, sqlite_store, ("fulfilment",))
        again = await sync(shop, sqlite_store, ("fulfilment",))
        assert (first.flows["fulfilment"].failed, again.flows["fulfilment"].written) == (1, 1)
        assert sorted(shop.tracks(order_id)) == ["RM700", "RM701"]
        assert len(shop.shipments(order_id)) == 2


async def test_a_refunded_order_is_never_over_shipped(sqlite_store: Store) -> None:
    with served_shop() as shop:
        order_id = shop.order(line("MUG", 2))
        await sync(shop, sqlite_store, ("orders",))
        shop.dispatch(order_id, "RM800")  # Stokly ships 2
        shop.magento.refund(order_id, {shop.item_id(order_id, "MUG"): 1})  # Magento refunded 1 meanwhile
        await sync(shop, sqlite_store, ("fulfilment",))
        assert _shipped(shop, order_id) == {"MUG*": 1}
        assert shop.tracks(order_id) == ["RM800"]


async def test_the_ambiguous_400_is_read_back_and_a_hand_made_shipment_recorded(sqlite_store: Store) -> None:
    with served_shop() as shop:
        order_id = shop.order(line("MUG", 1))
        await sync(shop, sqlite_store, ("orders",))
        dispatch = shop.dispatch(order_id, "RM900")
        # someone ships the order by hand while our ship request is on its way
        slow = shop.magento_faults.add(FaultRule("latency", route=r"POST .*/order/\d+/ship", latency_s=0.3,
                                                 count=1))
        manual: list[int] = []

        def person() -> None:
            deadline = time.monotonic() + 10
            while slow.fired == 0 and time.monotonic() < deadline:
                time.sleep(0.002)
            manual.append(shop.magento.ship_manually(order_id))

        hand = threading.Thread(target=person)
        hand.start()
        summary = await sync(shop, sqlite_store, ("fulfilment",))
        hand.join()
        assert slow.fired == 1  # our request did meet the hand-made shipment
        assert summary.flows["fulfilment"].dead == 1
        assert len(shop.shipments(order_id)) == 1
        [letter] = Ledger(sqlite_store, "acme").dead_letters("fulfilment")
        assert (letter.source_id, letter.target_id) == (dispatch, str(manual[0]))
        assert "rejected tracking" in (letter.last_error or "")


async def test_a_dispatch_without_tracking_is_shipped_once_and_named_in_the_comment(sqlite_store: Store) -> None:
    """A collection or a letter: Stokly sends no tracking keys at all; it is a normal dispatch, shipped once."""
    with served_shop() as shop:
        order_id = shop.order(line("MUG", 1))
        await sync(shop, sqlite_store, ("orders",))
        dispatch_id = shop.dispatch(order_id, "")
        summary = await sync(shop, sqlite_store, ("fulfilment",))
        assert summary.flows["fulfilment"].written == 1
        [shipment] = shop.shipments(order_id)
        assert shipment.get("tracks", []) == []
        assert any(dispatch_id in c["comment"] for c in shipment["comments"])
        assert _shipped(shop, order_id) == {"MUG*": 1}
        assert (Ledger(sqlite_store, "acme").entry("fulfilment", dispatch_id) or ("",))[0] == CONFIRMED


async def test_a_timed_out_untracked_ship_is_found_by_its_comment_not_sent_twice(sqlite_store: Store) -> None:
    with served_shop() as shop:
        order_id = shop.order(line("MUG", 2))
        await sync(shop, sqlite_store, ("orders",))
        shop.dispatch(order_id, "", {"MUG": 1})
        shop.magento_faults.add(FaultRule("truncated", route=r"POST .*/order/\d+/ship", count=1))
        summary = await sync(shop, sqlite_store, ("fulfilment",))
        assert summary.flows["fulfilment"].written == 1
        assert len(shop.shipments(order_id)) == 1
        assert _shipped(shop, order_id) == {"MUG*": 1}
