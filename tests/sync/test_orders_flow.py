"""Orders, Magento -> Stokly, against both simulators over HTTP."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from prometheus_client import CollectorRegistry

from tests.sync.kit import FAST_RETRY, Shop, fast_options, line, served_shop, sync
from watchdog.clients import ClientOptions, open_clients
from watchdog.metrics import Metrics
from watchdog.secret import Secret
from watchdog.simulators.faults import FaultRule
from watchdog.store.db import Store
from watchdog.sync import Worker
from watchdog.sync.ledger import CONFIRMED, QUARANTINED, Ledger
from watchdog.sync.results import RunOutcome


def _stokly_lines(shop: Shop, order_id: int) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    so = shop.sale_order(order_id)
    return [(shop.stokly.item(ln.item_id).sku, ln.quantity, ln.unit_price, ln.unit_tax) for ln in so.top_lines]


async def test_orders_land_once_with_lines_tax_shipping_and_customers(sqlite_store: Store) -> None:
    with served_shop() as shop:
        mixed = shop.order(line("MUG", 3), line("BOOK", 1), line("CHAIR", 1))  # 20%, 0% and 5% VAT
        tee = shop.order(line("TEE", 2, child_sku="TEE-M"), guest=True, email="Guest@Example.com")
        desk = shop.order(line("DESK", 1, selections=("RAM", "MONITOR")), customer_id=7)
        first = await sync(shop, sqlite_store, ("orders",))
        again = await sync(shop, sqlite_store, ("orders",))

        assert first.flows["orders"].counts() == {"written": 3, "skipped": 0, "failed": 0, "dead": 0}
        assert again.flows["orders"].counts() == {"written": 0, "skipped": 3, "failed": 0, "dead": 0}
        assert len(shop.stokly.sale_orders()) == 3
        for order_id in (mixed, tee, desk):
            magento, so = shop.magento.order_json(order_id), shop.sale_order(order_id)
            assert so.total == Decimal(str(magento["grand_total"]))
            assert abs(so.tax - Decimal(str(magento["tax_amount"]))) < Decimal("0.001")
            assert so.allocated_location_id == shop.warehouse
            assert so.shipping.cost == Decimal(5)
            assert so.shipping.tax == Decimal(1)
        assert [(sku, qty, tax) for sku, qty, _, tax in _stokly_lines(shop, mixed)] == [
            ("MUG", 3, Decimal("1.6")), ("BOOK", 1, 0), ("CHAIR", 1, Decimal("2.25"))]
        assert _stokly_lines(shop, tee) == [("TEE-M", 2, 20, 4)]  # the configurable's child, counted once
        assert [sku for sku, *_ in _stokly_lines(shop, desk)] == ["DESK"]  # the bundle, as the Stokly kit
        customers = {c.barcode: c for c in shop.stokly.customers()}
        assert set(customers) == {"MAG-C-7", "MAG-G-guest@example.com"}  # one per buyer, reused
        registered = customers["MAG-C-7"].customer_id
        assert shop.sale_order(mixed).customer_id == shop.sale_order(desk).customer_id == registered


async def test_bad_orders_are_quarantined_with_a_reason_and_the_rest_goes_on(sqlite_store: Store) -> None:
    with served_shop() as shop:
        good = shop.order(line("MUG", 1))
        unknown = shop.order(line("GHOST", 1), line("MUG", 1))
        dynamic = shop.order(line("PC", 1, selections=("RAM", "MONITOR")))
        negative = shop.order(line("BOOK", 2))
        malformed = shop.order(line("CHAIR", 1))
        shop.magento.orders[negative].items[0].qty_ordered = Decimal(-2)
        shop.magento.orders[malformed].items[0].sku = None  # type: ignore[assignment]
        also_good = shop.order(line("BOOK", 1))
        summary = await sync(shop, sqlite_store, ("orders",))

        assert summary.flows["orders"].counts() == {"written": 2, "skipped": 0, "failed": 0, "dead": 4}
        assert summary.flows["orders"].outcome is RunOutcome.PARTIAL
        assert {so.source_reference_id for so in shop.stokly.sale_orders()} == {
            shop.increment(good), shop.increment(also_good)}  # nothing partial of the bad ones
        letters = {d.source_id: d for d in Ledger(sqlite_store, "acme").dead_letters("orders")}
        assert {k: v.state for k, v in letters.items()} == dict.fromkeys(
            map(str, (unknown, dynamic, negative, malformed)), QUARANTINED)
        assert "SKU 'GHOST'" in (letters[str(unknown)].last_error or "")
        assert "dynamic-SKU bundle" in (letters[str(dynamic)].last_error or "")
        assert "quantities must be positive" in (letters[str(negative)].last_error or "")
        assert "cannot be read" in (letters[str(malformed)].last_error or "")


async def test_a_replayed_order_goes_through_check_before_create(sqlite_store: Store) -> None:
    with served_shop() as shop:
        ghost = shop.order(line("GHOST", 1))
        await sync(shop, sqlite_store, ("orders",))
        shop.stokly.add_item("GHOST", "Ghost")  # the merchant fixes the item master
        integration = shop.integration()
        async with open_clients(integration, options=ClientOptions(retry=FAST_RETRY)) as clients:
            worker = Worker(integration, sqlite_store, clients.magento, clients.stokly, options=fast_options())
            assert (await worker.replay("orders", str(ghost))).value == "written"
            assert (await worker.replay("orders", str(ghost))).value == "skipped"  # found, not created again
        assert len(shop.stokly.sale_orders()) == 1
        entry = Ledger(sqlite_store, "acme").entry("orders", str(ghost))
        assert entry == (CONFIRMED, shop.sale_order(ghost).sale_order_id)


async def test_an_order_already_in_stokly_is_adopted_not_duplicated(sqlite_store: Store) -> None:
    with served_shop() as shop:
        order_id = shop.order(line("MUG", 1))
        from watchdog.simulators.stokly import LineSpec

        existing = shop.stokly.create_sale_order(shop.channel, shop.increment(order_id),
                                                 [LineSpec(shop.items["MUG"], Decimal(1))])
        summary = await sync(shop, sqlite_store, ("orders",))
        assert summary.flows["orders"].skipped == 1
        assert len(shop.stokly.sale_orders()) == 1
        assert Ledger(sqlite_store, "acme").entry("orders", str(order_id)) == (CONFIRMED, existing)


async def test_pending_orders_wait_for_an_importable_state(sqlite_store: Store) -> None:
    with served_shop() as shop:
        pending = shop.magento.place_order([line("MUG", 1)], invoice=False)  # new / pending
        await sync(shop, sqlite_store, ("orders",))
        assert shop.stokly.sale_orders() == []
        shop.magento.create_invoice(pending)  # now processing (and updated)
        await sync(shop, sqlite_store, ("orders",))
        assert shop.sale_order(pending).source_reference_id == shop.increment(pending)


async def test_the_observer_hears_every_record_and_run(sqlite_store: Store) -> None:
    metrics = Metrics(CollectorRegistry(), integrations={"acme": "GBP"})
    with served_shop() as shop:
        shop.order(line("MUG", 1))
        shop.order(line("GHOST", 1))
        integration = shop.integration()
        async with open_clients(integration, options=ClientOptions(retry=FAST_RETRY)) as clients:
            worker = Worker(integration, sqlite_store, clients.magento, clients.stokly, options=fast_options(),
                            observer=metrics)
            await worker.run(["orders"])
    sample = metrics.registry.get_sample_value
    labels = {"integration": "acme", "flow": "orders"}
    assert sample("watchdog_sync_records_total", {**labels, "outcome": "confirmed"}) == 1
    assert sample("watchdog_sync_records_total", {**labels, "outcome": "quarantined"}) == 1
    assert sample("watchdog_sync_runs_total", {**labels, "outcome": "partial"}) == 1
    assert sample("watchdog_sync_lag_seconds_count", labels) == 1


async def test_a_refused_write_is_a_dead_letter_with_its_exchange_redacted(sqlite_store: Store) -> None:
    with served_shop() as shop:
        order_id = shop.order(line("MUG", 1), email="secret.buyer@example.com")
        shop.stokly_faults.add(FaultRule("status", route=r"POST /v2/saleorders$", status=400, count=1))
        summary = await sync(shop, sqlite_store, ("orders",))
        assert summary.flows["orders"].dead == 1
        [letter] = Ledger(sqlite_store, "acme").dead_letters("orders")
        assert (letter.source_id, letter.state, letter.error_class) == (str(order_id), "dead", "person")
        last = letter.detail["last"]
        assert last["request"]["route"] == "POST /v2/saleorders"
        assert last["request"]["body"]["sourceReferenceId"] == shop.increment(order_id)
        assert last["response"]["status"] == 400
        assert shop.token not in repr(letter.detail)
        assert shop.stokly.sale_orders() == []


async def test_refused_credentials_fail_the_run_not_the_records(sqlite_store: Store) -> None:
    with served_shop() as shop:
        shop.order(line("MUG", 1))
        integration = shop.integration()
        wrong = replace(integration, stokly=replace(integration.stokly, client_secret=Secret("wrong")))
        summary = await sync(shop, sqlite_store, ("orders", "stock"), integration=wrong)
        assert {name: r.outcome for name, r in summary.flows.items()} == {
            "orders": RunOutcome.FAILED, "stock": RunOutcome.FAILED}
        assert "401" in (summary.flows["orders"].note or "")
        assert Ledger(sqlite_store, "acme").dead_letters() == []  # nothing was given up on
        again = await sync(shop, sqlite_store, ("orders",))
        assert again.flows["orders"].written == 1
