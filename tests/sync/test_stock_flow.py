"""Stock, Stokly -> Magento source items, over HTTP."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from tests.sync.kit import Shop, fast_options, line, served_shop, sync
from watchdog.model import StockLevel
from watchdog.stockmath import available_at, expected_source_quantities, open_imported_quantities
from watchdog.store.db import Store
from watchdog.store.models_sync import FlowRunRow
from watchdog.sync.ledger import SKIPPED, Ledger
from watchdog.sync.results import RunOutcome


def _source(shop: Shop, sku: str) -> Decimal | None:
    return shop.magento.source_qty(sku, "wh1")


async def test_the_pushed_quantity_is_the_section_5_6_formula(sqlite_store: Store) -> None:
    with served_shop() as shop:
        shop.stokly.set_stock(shop.items["MUG"], shop.warehouse, 40)
        shop.stokly.set_stock(shop.items["MUG"], shop.shop_location, 7)  # not the designated location
        shop.order(line("MUG", 3))
        await sync(shop, sqlite_store, ("orders",))
        shop.order(line("MUG", 2))  # not imported yet: Magento's own reservation protects it
        summary = await sync(shop, sqlite_store, ("stock",))
        assert summary.flows["stock"].outcome is RunOutcome.OK
        assert shop.stokly.available(shop.items["MUG"], shop.warehouse) == 37  # 3 allocated to the import
        assert _source(shop, "MUG") == 37 + 3  # + the imported order Magento has not shipped
        level = StockLevel(shop.items["MUG"], "MUG", shop.warehouse, Decimal(40), allocated=Decimal(3))
        assert expected_source_quantities(["MUG"], available_at([level], shop.warehouse),
                                          {"MUG": Decimal(3)}) == {"MUG": Decimal(40)}
        assert shop.magento.salable_qty("MUG") == 35  # 40 less both orders' reservations


async def test_only_changes_are_pushed_until_the_full_push(sqlite_store: Store) -> None:
    with served_shop() as shop:
        first = await sync(shop, sqlite_store, ("stock",))
        assert first.flows["stock"].written == 8  # first run: everything (no full push on record)
        shop.stokly.set_stock(shop.items["BOOK"], shop.warehouse, 60)
        shop.magento.set_source_item("CABLE", "wh1", 999)  # edited by hand in Magento
        second = await sync(shop, sqlite_store, ("stock",))
        assert second.flows["stock"].counts() == {"written": 2, "skipped": 7, "failed": 0, "dead": 0}
        assert (_source(shop, "BOOK"), _source(shop, "CABLE")) == (60, 100)
        third = await sync(shop, sqlite_store, ("stock",))
        assert third.flows["stock"].written == 0
        full = await sync(shop, sqlite_store, ("stock",), full_stock=True)
        assert full.flows["stock"].written == 8


async def test_an_unknown_magento_sku_is_recorded_and_never_pushed(sqlite_store: Store) -> None:
    with served_shop() as shop:
        await sync(shop, sqlite_store, ("stock",))
        await sync(shop, sqlite_store, ("stock",))
        assert _source(shop, "GHOST") == 4  # untouched
        assert Ledger(sqlite_store, "acme").values("stock")["GHOST"] == (
            SKIPPED, "Magento SKU 'GHOST' is not in Stokly's item master: never pushed")
        ghost = shop.stokly.add_item("GHOST", "Ghost")  # the item master catches up
        shop.stokly.set_stock(ghost, shop.warehouse, 9)
        await sync(shop, sqlite_store, ("stock",))
        assert _source(shop, "GHOST") == 9
        assert Ledger(sqlite_store, "acme").values("stock")["GHOST"][0] == "confirmed"


async def test_no_designated_location_pushes_nothing_and_says_why(sqlite_store: Store) -> None:
    with served_shop(designated=False) as shop:
        shop.stokly.set_stock(shop.items["MUG"], shop.warehouse, 1)
        summary = await sync(shop, sqlite_store, ("stock",))
        result = summary.flows["stock"]
        assert result.outcome is RunOutcome.SKIPPED
        assert "no designated Stokly location" in (result.note or "")
        assert _source(shop, "MUG") == 100
        with sqlite_store.session() as s:
            row = s.execute(select(FlowRunRow)).scalar_one()
        assert (row.flow, row.outcome, row.note) == ("stock", "skipped", result.note)


async def test_a_designated_location_missing_in_stokly_pushes_nothing(sqlite_store: Store) -> None:
    with served_shop() as shop:
        integration = shop.integration()
        from dataclasses import replace

        gone = replace(integration, stokly=replace(integration.stokly, location_id="no-such-location"))
        summary = await sync(shop, sqlite_store, ("stock",), integration=gone)
        assert summary.flows["stock"].outcome is RunOutcome.SKIPPED
        assert "does not exist in Stokly" in (summary.flows["stock"].note or "")


async def test_large_pushes_use_the_bulk_api(sqlite_store: Store) -> None:
    with served_shop() as shop:
        shop.stokly.set_stock(shop.items["CHAIR"], shop.warehouse, 3)
        summary = await sync(shop, sqlite_store, ("stock",), options=fast_options(stock_bulk_threshold=5))
        assert summary.flows["stock"].written == 8
        assert _source(shop, "CHAIR") == 3
        assert len(shop.magento.bulks) == 1


async def test_the_watchdog_expectation_agrees_after_the_push(sqlite_store: Store) -> None:
    """What the stock_divergence check expects is what was pushed (no divergence after a push)."""
    with served_shop() as shop:
        shop.order(line("MUG", 2))
        await sync(shop, sqlite_store, ("orders", "stock"))
        from tests.sync.kit import FAST_RETRY
        from watchdog.clients import ClientOptions, open_clients

        async with open_clients(shop.integration(), options=ClientOptions(retry=FAST_RETRY)) as c:
            levels = await c.stokly.stock_levels(location_id=shop.warehouse)
            orders = await c.magento.orders()
            sale_orders = await c.stokly.sale_orders()
            items = await c.magento.source_items(source_code="wh1")
        expected = expected_source_quantities([i.sku for i in items if i.sku != "GHOST"],
                                              available_at(levels, shop.warehouse),
                                              open_imported_quantities(orders, sale_orders))
        assert {i.sku: i.quantity for i in items if i.sku != "GHOST"} == expected
