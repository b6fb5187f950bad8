"""Catalogue operations: simple, configurable and bundle products (dynamic or fixed SKU)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from .core import StateCore, locked
from .errors import PRODUCT_NOT_FOUND, not_found
from .records import BundleLinkRec, BundleOptionRec, ProductRec
from .specs import BundleOptionSpec

__all__ = ["CatalogOps"]


class CatalogOps(StateCore):
    """Adds and finds products. SKU lookups are case-insensitive, as in MySQL."""

    def find_product(self, sku: str) -> ProductRec | None:
        """The product whose SKU equals ``sku`` ignoring case (MySQL collation), or None."""
        exact = self.products.get(sku)
        if exact is not None:
            return exact
        folded = sku.casefold()
        return next((p for p in self.products.values() if p.sku.casefold() == folded), None)

    def product_or_404(self, sku: str) -> ProductRec:
        """The product, or raises MagentoError 404 with the ProductRepository text."""
        product = self.find_product(sku)
        if product is None:
            raise not_found(PRODUCT_NOT_FOUND)
        return product

    def _new_product(self, sku: str, name: str | None, type_id: str, price: Decimal | int,
                     weight: Decimal | int) -> ProductRec:
        if not sku or self.find_product(sku) is not None:
            raise ValueError(f"product SKU {sku!r} is empty or already exists")
        now = self.now()
        product = ProductRec(id=self.next_id("product"), sku=sku, name=name or sku, type_id=type_id,
                             price=Decimal(price), weight=Decimal(weight), created_at=now, updated_at=now)
        self.products[sku] = product
        return product

    @locked
    def add_simple(self, sku: str, name: str | None = None, *, price: Decimal | int = Decimal("10.00"),
                   weight: Decimal | int = 1, status: int = 1, min_qty: Decimal | int = 0,
                   visibility: int = 4, type_id: str = "simple") -> int:
        """Add a simple (or virtual) product; returns its entity id. Raises ValueError on a duplicate."""
        product = self._new_product(sku, name, type_id, price, weight)
        product.status, product.min_qty, product.visibility = status, Decimal(min_qty), visibility
        return product.id

    @locked
    def add_configurable(self, sku: str, children: Sequence[str], name: str | None = None, *,
                         price: Decimal | int = 0) -> int:
        """Add a configurable whose variants are the existing simple ``children``; returns its id."""
        child_ids = [self._existing(c).id for c in children]
        product = self._new_product(sku, name, "configurable", price, 0)
        product.child_ids = child_ids
        return product.id

    @locked
    def add_bundle(self, sku: str, options: Sequence[BundleOptionSpec], name: str | None = None, *,
                   dynamic_sku: bool = True, ship_together: bool = True, price: Decimal | int = 0) -> int:
        """Add a bundle of existing simple products; returns its id.

        ``dynamic_sku`` (``sku_type`` "0") makes order lines carry ``<sku>-<sel1>-<sel2>``;
        ``ship_together`` is ``shipment_type`` "0" (the parent line is shipped).
        """
        product = self._new_product(sku, name, "bundle", price, 0)
        product.dynamic_sku, product.ship_together = dynamic_sku, ship_together
        for position, spec in enumerate(options, start=1):
            option = BundleOptionRec(self.next_id("bundle_option"), spec.title, position)
            for link_pos, child_sku in enumerate(spec.skus, start=1):
                child = self._existing(child_sku)
                option.links.append(BundleLinkRec(self.next_id("bundle_link"), child.sku, option.option_id,
                                                  Decimal(spec.qty), child.price, link_pos))
            product.bundle_options.append(option)
        return product.id

    def _existing(self, sku: str) -> ProductRec:
        product = self.find_product(sku)
        if product is None:
            raise ValueError(f"product {sku!r} does not exist; add it first")
        return product

    @locked
    def set_product_status(self, sku: str, status: int) -> None:
        """Enable (1) or disable (2) a product."""
        product = self._existing(sku)
        product.status, product.updated_at = status, self.now()
