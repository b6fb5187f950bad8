"""MSI: sources, stocks, links, source items, reservations and salable quantity.

``salable = sum(quantity of in-stock source items in enabled sources linked to the stock)
+ sum(reservations) - min_qty`` (``reference/magento-api.md`` 6.2, 6.3, 13.3).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from .catalog import CatalogOps
from .core import locked
from .errors import Phrase, aggregate, bad_request
from .records import ZERO, OrderRec, SourceItemRec, SourceRec, StockRec
from .specs import Reservation

__all__ = ["DeductionFailed", "InventoryOps"]

NO_SOURCE_ITEMS = "Can't check requested quantity for products without Source Items support."
INPUT_EMPTY = "Input data is empty"
CANNOT_SAVE_SOURCE_ITEM = "Could not save Source Item"
NOT_EMPTY = '"%field" can not be empty.'
NO_WHITESPACE = '"%field" can not contain whitespaces.'
NUMERIC = '"%field" should be numeric.'
KNOWN_STATUS = '"%field" should a known status.'  # sic, MSI's text


class DeductionFailed(Exception):
    """A source cannot give the quantity a shipment needs."""


class InventoryOps(CatalogOps):
    """Sources, stocks and source items; the MSI arithmetic used by orders and shipments."""

    def bootstrap_inventory(self) -> None:
        """The MSI defaults every store has: source ``default`` in stock 1 for website ``base``."""
        self.sources["default"] = SourceRec("default", "Default Source")
        self.stocks[1] = StockRec(1, "Default Stock", [("website", "base")])
        self.links[(1, "default")] = 1

    @locked
    def add_source(self, code: str, name: str | None = None, *, enabled: bool = True,
                   country_id: str = "GB", postcode: str = "") -> None:
        """Add (or replace) an MSI source."""
        self.sources[code] = SourceRec(code, name or code, enabled, country_id, postcode)

    @locked
    def set_source_enabled(self, code: str, enabled: bool) -> None:
        """Enable or disable a source (disabled sources do not count towards salable qty)."""
        self.sources[code].enabled = enabled

    @locked
    def add_stock(self, stock_id: int, name: str, *, channels: Sequence[tuple[str, str]] = ()) -> None:
        """Add (or replace) a stock with its sales channels, e.g. ``[("website", "uk")]``."""
        self.stocks[stock_id] = StockRec(stock_id, name, list(channels))

    @locked
    def link_source(self, stock_id: int, source_code: str, priority: int | None = None) -> None:
        """Assign a source to a stock (raises KeyError for an unknown stock or source)."""
        if stock_id not in self.stocks or source_code not in self.sources:
            raise KeyError(f"unknown stock {stock_id} or source {source_code!r}")
        taken = [p for (s, _), p in self.links.items() if s == stock_id]
        self.links[(stock_id, source_code)] = priority if priority is not None else len(taken) + 1

    @locked
    def unlink_source(self, stock_id: int, source_code: str) -> None:
        """Remove a stock-source link (if any)."""
        self.links.pop((stock_id, source_code), None)

    def linked_sources(self, stock_id: int, *, enabled_only: bool = False) -> list[str]:
        """Source codes linked to ``stock_id``, by priority."""
        codes = sorted((p, c) for (s, c), p in self.links.items() if s == stock_id)
        return [c for _, c in codes if not enabled_only or self.sources[c].enabled]

    # ------------------------------------------------------------ source items

    @locked
    def set_source_item(self, sku: str, source_code: str, quantity: Decimal | int, status: int = 1) -> None:
        """Upsert the absolute quantity of ``sku`` at ``source_code``."""
        key = (sku, source_code)
        if key in self.source_items:
            self.source_items[key].quantity, self.source_items[key].status = Decimal(quantity), status
        else:
            self.source_items[key] = SourceItemRec(sku, source_code, Decimal(quantity), status)

    @locked
    def source_qty(self, sku: str, source_code: str) -> Decimal | None:
        """The source item quantity, or None when the SKU is not assigned to the source."""
        item = self.source_items.get((sku, source_code))
        return item.quantity if item else None

    @locked
    def save_source_items(self, items: Sequence[Any]) -> None:
        """``POST /V1/inventory/source-items``: validate all, then upsert all.

        Raises MagentoError 400 with MSI's texts (empty input, validation, unknown source).
        """
        if not items:
            raise bad_request(INPUT_EMPTY)
        parsed = [self._validated_source_item(raw) for raw in items]
        if any(code not in self.sources for _, code, _, _ in parsed):
            raise bad_request(CANNOT_SAVE_SOURCE_ITEM)  # the foreign key fails in the DB
        for sku, code, qty, status in parsed:
            self.set_source_item(sku, code, qty, status)

    def _validated_source_item(self, raw: Any) -> tuple[str, str, Decimal, int]:
        data: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        sku, code = str(data.get("sku") or "").strip(), str(data.get("source_code") or "")
        errors: list[Phrase] = []
        if not sku:
            errors.append(Phrase(NOT_EMPTY, {"field": "sku"}))
        if not code.strip():
            errors.append(Phrase(NOT_EMPTY, {"field": "source_code"}))
        elif any(c.isspace() for c in code):
            errors.append(Phrase(NO_WHITESPACE, {"field": "source_code"}))
        quantity = _number(data.get("quantity"))
        if quantity is None:
            errors.append(Phrase(NUMERIC, {"field": "quantity"}))
        status = _number(data.get("status"))
        if status is None:
            errors.append(Phrase(NUMERIC, {"field": "status"}))
        elif status not in (0, 1):
            errors.append(Phrase(KNOWN_STATUS, {"field": "status"}))
        if errors:
            raise aggregate(400, errors, first_prefix="Validation Failed: ")
        return str(data["sku"]), code, quantity or ZERO, int(status or 0)

    @locked
    def delete_source_items(self, items: Sequence[Any]) -> None:
        """``POST /V1/inventory/source-items-delete``: unassign; unknown pairs are ignored."""
        if not items:
            raise bad_request(INPUT_EMPTY)
        for raw in items:
            if isinstance(raw, Mapping):
                self.source_items.pop((str(raw.get("sku")), str(raw.get("source_code"))), None)

    # ------------------------------------------------------------ salable

    @locked
    def salable_qty(self, sku: str, stock_id: int = 1) -> Decimal:
        """``get-product-salable-quantity``. Raises MagentoError 404 (unknown SKU) or 400 (composite)."""
        product = self.product_or_404(sku)
        if not product.has_source_items:
            raise bad_request(NO_SOURCE_ITEMS)
        items = [self.source_items[(product.sku, c)] for c in self.linked_sources(stock_id, enabled_only=True)
                 if (product.sku, c) in self.source_items]
        if not any(i.status == 1 for i in items):
            return ZERO  # not in the stock index, or not salable
        on_hand = sum((i.quantity for i in items if i.status == 1), ZERO)
        return on_hand + self.reserved(product.sku, stock_id) - product.min_qty

    def reserved(self, sku: str, stock_id: int) -> Decimal:
        """Sum of reservations for ``sku`` on ``stock_id`` (negative while orders are open)."""
        return sum((r.quantity for r in self.reservations if r.sku == sku and r.stock_id == stock_id), ZERO)

    @locked
    def reservations_for(self, sku: str | None = None) -> list[Reservation]:
        """The reservation rows (all, or for one SKU), oldest first."""
        return [r for r in self.reservations if sku is None or r.sku == sku]

    def reserve(self, order: OrderRec, sku: str, quantity: Decimal, event_type: str) -> None:
        """Append a reservation row for ``order`` (negative ``quantity`` reserves)."""
        if quantity == 0:
            return
        self.reservations.append(Reservation(self.next_id("reservation"), order.stock_id, sku, quantity,
                                             event_type, str(order.entity_id), order.increment_id))

    def check_deductions(self, source_code: str, needs: Mapping[str, Decimal]) -> None:
        """Raise DeductionFailed unless ``source_code`` holds every quantity in ``needs``."""
        for sku, qty in needs.items():
            item = self.source_items.get((sku, source_code))
            if item is None or item.quantity - qty < 0:
                raise DeductionFailed("Not all of your products are available in the requested quantity.")

    def deduct(self, source_code: str, needs: Mapping[str, Decimal]) -> None:
        """Take ``needs`` from ``source_code`` (after ``check_deductions``); empty items go out of stock."""
        for sku, qty in needs.items():
            item = self.source_items[(sku, source_code)]
            item.quantity -= qty
            product = self.find_product(sku)
            if item.quantity <= (product.min_qty if product else ZERO):
                item.status = 0

    def restock(self, source_code: str, sku: str, qty: Decimal) -> None:
        """Return ``qty`` of ``sku`` to ``source_code`` (credit memo with return to stock)."""
        item = self.source_items.get((sku, source_code))
        if item is None:
            self.source_items[(sku, source_code)] = SourceItemRec(sku, source_code, qty, 1)
        else:
            item.quantity += qty
            item.status = 1 if item.quantity > 0 else item.status


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None

