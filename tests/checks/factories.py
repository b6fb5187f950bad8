"""Small builders of model records for pure check tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from watchdog.findings import CheckContext
from watchdog.model import (
    Channel,
    Item,
    MagentoSnapshot,
    Order,
    OrderLine,
    SaleOrder,
    SourceItem,
    StockLevel,
    StoklySnapshot,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
LOC = "loc-main"
D = Decimal


def line(item_id: int, sku: str, qty: int, *, ptype: str = "simple", shipped: int = 0,
         parent: int | None = None) -> OrderLine:
    return OrderLine(item_id=item_id, sku=sku, name=sku, product_type=ptype, qty_ordered=D(qty),
                     qty_shipped=D(shipped), price=D("10"), tax_amount=D("2") * qty, row_total=D("10") * qty,
                     parent_item_id=parent)


def order(entity_id: int, *lines: OrderLine, state: str = "processing", age: timedelta = timedelta(hours=1)) -> Order:
    at = NOW - age
    return Order(entity_id=entity_id, increment_id=f"{entity_id:09d}", state=state, status=state, created_at=at,
                 updated_at=at, currency="GBP", grand_total=D("0"), subtotal=D("0"), tax_amount=D("0"),
                 shipping_amount=D("0"), customer_email="a@example.com", lines=tuple(lines))


def sale_order(increment_id: str) -> SaleOrder:
    return SaleOrder(sale_order_id=f"so-{increment_id}", nice_id=int(increment_id), stage="order",
                     source_reference_id=increment_id, currency="GBP", created_at=NOW)


def context(*, source_items: list[SourceItem] | None = None, levels: list[StockLevel] | None = None,
            items: list[Item] | None = None, orders: list[Order] | None = None,
            sale_orders: list[SaleOrder] | None = None, location: str | None = LOC,
            config: dict[str, Any] | None = None, **magento: Any) -> CheckContext:
    channel = Channel(channel_id="ch-magento", name="Magento", type=5, allocate_sold_location_id=location)
    return CheckContext(
        integration="acme", now=NOW, currency="GBP",
        magento=MagentoSnapshot(taken_at=NOW, source_code="stokly_main", stock_id=1,
                                source_items=tuple(source_items or ()), orders=tuple(orders or ()), **magento),
        stokly=StoklySnapshot(taken_at=NOW, channel_id="ch-magento", location_id=None, channel=channel,
                              items=tuple(items or ()), stock_levels=tuple(levels or ()),
                              sale_orders=tuple(sale_orders or ())),
        config=config or {},
    )
