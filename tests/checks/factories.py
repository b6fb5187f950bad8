"""Small builders of model records for pure check tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from watchdog.findings import CheckContext
from watchdog.model import (
    Channel,
    CreditMemo,
    CreditNote,
    Dispatch,
    DispatchLine,
    Invoice,
    Item,
    LedgerEntry,
    LedgerView,
    Listing,
    Location,
    MagentoSnapshot,
    Order,
    OrderLine,
    Product,
    SaleOrder,
    SaleOrderLine,
    Shipment,
    ShipmentItem,
    SourceItem,
    StockLevel,
    StoklySnapshot,
    Track,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
LOC = "loc-main"
CHANNEL = "ch-magento"
D = Decimal
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


def line(item_id: int, sku: str, qty: int, *, ptype: str = "simple", shipped: int = 0,
         parent: int | None = None) -> OrderLine:
    return OrderLine(item_id=item_id, sku=sku, name=sku, product_type=ptype, qty_ordered=D(qty),
                     qty_shipped=D(shipped), price=D("10"), tax_amount=D("2") * qty, row_total=D("10") * qty,
                     parent_item_id=parent)


def order(entity_id: int, *lines: OrderLine, state: str = "processing", age: timedelta = timedelta(hours=1),
          grand_total: str = "0", tax: str = "0", refunded: str = "0") -> Order:
    at = NOW - age
    return Order(entity_id=entity_id, increment_id=f"{entity_id:09d}", state=state, status=state, created_at=at,
                 updated_at=at, currency="GBP", grand_total=D(grand_total), subtotal=D("0"), tax_amount=D(tax),
                 shipping_amount=D("0"), customer_email="a@example.com", lines=tuple(lines),
                 total_refunded=D(refunded))


def inc(entity_id: int) -> str:
    """The increment_id ``order(entity_id)`` gets."""
    return f"{entity_id:09d}"


def sale_order(increment_id: str | None, *lines: SaleOrderLine, age: timedelta = timedelta(hours=1),
               total: str = "0", tax: str = "0", location: str | None = LOC, stage: str = "order",
               channel: str | None = CHANNEL, nice_id: int | None = None) -> SaleOrder:
    ident = increment_id or f"x{nice_id}"
    return SaleOrder(sale_order_id=f"so-{ident}", nice_id=nice_id or _number(increment_id), stage=stage,
                     source_reference_id=increment_id, currency="GBP", created_at=NOW - age, lines=tuple(lines),
                     source_id=channel, total=D(total), tax=D(tax), allocated_location_id=location)


def _number(increment_id: str | None) -> int:
    return int(increment_id) if increment_id and increment_id.isdigit() else 0


def so_line(line_id: str, sku: str, qty: int, *, parent: str | None = None, status: str = "unprocessed",
            cancelled: int = 0) -> SaleOrderLine:
    return SaleOrderLine(line_id=line_id, item_id=f"i-{sku}", sku=sku, quantity=D(qty), unit_price=D("10"),
                         unit_tax=D("2"), status=status, parent_id=parent, quantity_cancelled=D(cancelled))


def dispatch(dispatch_id: str, increment_id: str, tracking: str, *lines: tuple[str, int],
             age: timedelta = timedelta(hours=3), nice_id: int = 1) -> Dispatch:
    return Dispatch(dispatch_id=dispatch_id, nice_id=nice_id, sale_order_id=f"so-{increment_id}", location_id=LOC,
                    carrier="Royal Mail", tracking_number=tracking, dispatched_at=NOW - age,
                    lines=tuple(DispatchLine(line_id=lid, quantity=D(q)) for lid, q in lines))


def shipment(entity_id: int, order_id: int, *tracks: str, age: timedelta = timedelta(hours=2)) -> Shipment:
    return Shipment(entity_id=entity_id, increment_id=f"{entity_id:09d}", order_id=order_id, created_at=NOW - age,
                    items=(ShipmentItem(order_item_id=1, sku="A", qty=D(1)),),
                    tracks=tuple(Track(track_number=t, title="Royal Mail", carrier_code="custom") for t in tracks))


def memo(entity_id: int, order_id: int, *, total: str, tax: str, age: timedelta = HOUR, state: int = 2) -> CreditMemo:
    at = NOW - age
    return CreditMemo(entity_id=entity_id, increment_id=f"{entity_id:09d}", order_id=order_id, created_at=at,
                      updated_at=at, state=state, currency="GBP", grand_total=D(total), subtotal=D(total) - D(tax),
                      tax_amount=D(tax), items=())


def note(memo_increment: str, *, amount: str, vat: str, nice_id: int = 1, status: str = "open") -> CreditNote:
    return CreditNote(credit_note_id=f"cn-{memo_increment}-{nice_id}", nice_id=nice_id,
                      source_reference_id=f"MAG-CM-{memo_increment}", currency="GBP", amount=D(amount), vat=D(vat),
                      issue_date=NOW, status=status)


def invoice(invoice_id: str, increment_id: str, *, issued: datetime, total: str = "12", tax: str = "2",
            status: str = "paid") -> Invoice:
    return Invoice(sale_invoice_id=invoice_id, nice_id=1, sale_order_id=f"so-{increment_id}", issue_date=issued,
                   currency="GBP", status=status, total=D(total), tax=D(tax))


def product(entity_id: int, sku: str, *, type_id: str = "simple", dynamic: bool = False, status: int = 1) -> Product:
    return Product(entity_id=entity_id, sku=sku, name=sku, type_id=type_id, status=status, dynamic_sku=dynamic)


def item(sku: str, *, status: int = 0) -> Item:
    return Item(item_id=f"i-{sku}", sku=sku, name=sku, status=status)


def listing(sku: str, channel: str = CHANNEL) -> Listing:
    return Listing(listing_id=f"l-{sku}", channel_id=channel, item_id=f"i-{sku}", sku=sku)


def level(sku: str, on_hand: int, *, location: str = LOC, allocated: int = 0) -> StockLevel:
    return StockLevel(item_id=f"i-{sku}", sku=sku, location_id=location, on_hand=D(on_hand), allocated=D(allocated))


def source_item(sku: str, qty: int, source: str = "stokly_main") -> SourceItem:
    return SourceItem(sku=sku, source_code=source, quantity=D(qty))


def location(location_id: str, *, status: int = 0) -> Location:
    return Location(location_id=location_id, name=location_id.upper(), status=status)


def entry(flow: str, source_id: str, state: str = "dead", *, attempts: int = 8,
          error: str | None = "HTTP 400: Could not save a shipment") -> LedgerEntry:
    return LedgerEntry(flow=flow, source_id=source_id, state=state, target_id=None, attempts=attempts,
                       last_error=error, updated_at=NOW - HOUR)


def channel(location: str | None = LOC) -> Channel:
    return Channel(channel_id=CHANNEL, name="Magento UK", type=5, allocate_sold_location_id=location)


def magento_snapshot(**parts: Any) -> MagentoSnapshot:
    """A Magento snapshot with every part read (empty) unless given."""
    defaults: dict[str, Any] = {"products": (), "sources": (), "source_items": (), "orders": (), "shipments": (),
                                "credit_memos": (), "invoices": (), "salable": None}
    defaults.update({k: tuple(v) if isinstance(v, list) else v for k, v in parts.items()})
    return MagentoSnapshot(taken_at=NOW, source_code="stokly_main", stock_id=1, **defaults)


def stokly_snapshot(*, location_id: str | None = None, **parts: Any) -> StoklySnapshot:
    """A Stokly snapshot with every part read (empty, the channel designating LOC) unless given."""
    defaults: dict[str, Any] = {"channel": channel(), "items": (), "locations": (location(LOC),), "stock_levels": (),
                                "listings": (), "sale_orders": (), "dispatches": (), "invoices": (),
                                "credit_notes": ()}
    defaults.update({k: tuple(v) if isinstance(v, list) else v for k, v in parts.items()})
    return StoklySnapshot(taken_at=NOW, channel_id=CHANNEL, location_id=location_id, **defaults)


def ctx_of(magento: MagentoSnapshot | None = None, stokly: StoklySnapshot | None = None, *,
           ledger: LedgerView | None = None, config: dict[str, Any] | None = None,
           now: datetime = NOW) -> CheckContext:
    return CheckContext(integration="acme", now=now, currency="GBP", magento=magento or magento_snapshot(),
                        stokly=stokly or stokly_snapshot(), ledger=ledger or LedgerView(), config=config or {},
                        magento_admin_url="https://shop.example.com/admin")


def context(*, source_items: list[SourceItem] | None = None, levels: list[StockLevel] | None = None,
            items: list[Item] | None = None, orders: list[Order] | None = None,
            sale_orders: list[SaleOrder] | None = None, location: str | None = LOC,
            config: dict[str, Any] | None = None, **magento: Any) -> CheckContext:
    """The stock_divergence tests' context (kept as it was)."""
    return CheckContext(
        integration="acme", now=NOW, currency="GBP",
        magento=MagentoSnapshot(taken_at=NOW, source_code="stokly_main", stock_id=1,
                                source_items=tuple(source_items or ()), orders=tuple(orders or ()), **magento),
        stokly=StoklySnapshot(taken_at=NOW, channel_id=CHANNEL, location_id=None, channel=channel(location),
                              items=tuple(items or ()), stock_levels=tuple(levels or ()),
                              sale_orders=tuple(sale_orders or ())),
        config=config or {},
    )
