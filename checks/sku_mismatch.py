"""sku_mismatch: SKUs the two systems do not share, so orders fail to import or stock never syncs.

Subjects are ``sku:<SKU as Magento spells it>`` (or as Stokly spells it, for the reverse):

- a Magento stock product (simple or virtual, enabled) whose SKU is not an active Stokly
  item. When a Stokly SKU equals it but for case or surrounding/inner whitespace, the
  summary names the near-miss (``near_miss`` = 1);
- a Stokly listing on the Magento channel whose SKU is not a Magento product (the reverse);
- a bundle with a dynamic SKU: its order lines carry a composed SKU ("BUNDLE-RAM-12GB")
  that no Stokly item has. ``allow_dynamic_bundles = true`` accepts them.

All warnings, owned by ecommerce (the catalogue is theirs). Measure ``near_miss``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar

from checks._common import STOCK_TYPES, magento_link, stokly_link
from watchdog.findings import Check, CheckContext, Finding, Severity, Team, need
from watchdog.model import Item, Product

__all__ = ["SkuMismatch", "normalise_sku"]

ENABLED = 1


def normalise_sku(sku: str) -> str:
    """The SKU as compared for near-misses: no whitespace anywhere, case-folded."""
    return sku.translate(_NO_SPACE).casefold()


_NO_SPACE = dict.fromkeys(map(ord, " \t\n\r\f\v\u00a0"))


class _NearMisses:
    """Normalised SKU -> SKU, built on first use (most runs have no miss at all)."""

    def __init__(self, skus: Iterable[str]) -> None:
        self._skus = skus
        self._index: dict[str, str] | None = None

    def get(self, sku: str) -> str | None:
        if self._index is None:
            self._index = {normalise_sku(s): s for s in self._skus}
        return self._index.get(normalise_sku(sku))


class SkuMismatch:
    id: ClassVar[str] = "sku_mismatch"
    owner: ClassVar[Team] = Team.ECOMMERCE
    runbook: ClassVar[str] = "docs/runbooks/sku_mismatch.md"
    needs: ClassVar[frozenset[str]] = frozenset({"magento.products", "stokly.items", "stokly.listings"})

    def run(self, ctx: CheckContext) -> Iterable[Finding]:
        products = need(ctx.magento.products, "magento.products")
        items = {i.sku: i for i in need(ctx.stokly.items, "stokly.items") if i.active}
        magento_skus = {p.sku for p in products}
        near = _NearMisses(items.keys() - magento_skus)  # a near-miss partner is missing on the other side
        for product in products:
            if product.status != ENABLED:
                continue
            if product.type_id in STOCK_TYPES and product.sku not in items:
                yield self._unknown_to_stokly(ctx, product, near.get(product.sku))
            elif product.type_id == "bundle" and product.dynamic_sku and not ctx.setting("allow_dynamic_bundles",
                                                                                          False):
                yield self._dynamic_bundle(ctx, product)
        yield from self._not_in_magento(ctx, magento_skus, items)

    def _unknown_to_stokly(self, ctx: CheckContext, product: Product, stokly_sku: str | None) -> Finding:
        if stokly_sku is not None:
            summary = (f"Magento SKU {product.sku!r} differs from Stokly's {stokly_sku!r} only by case or spaces: "
                       "orders for it will not import and its stock will not sync; correct the SKU in Magento")
        else:
            summary = (f"Magento SKU {product.sku!r} ({product.name}) is not an item in Stokly: orders for it will not "
                       "import and its stock will not sync; create the item or correct the SKU")
        return Finding(check=self.id, subject=f"sku:{product.sku}", severity=Severity.WARNING, owner=self.owner,
                       summary=summary, measures={"near_miss": int(stokly_sku is not None)},
                       links=magento_link(ctx, f"catalog/product/edit/id/{product.entity_id}/"))

    def _dynamic_bundle(self, ctx: CheckContext, product: Product) -> Finding:
        return Finding(
            check=self.id, subject=f"sku:{product.sku}", severity=Severity.WARNING, owner=self.owner,
            summary=(f"Magento bundle {product.sku!r} uses a dynamic SKU: its order lines carry composed SKUs "
                     "no Stokly item has; set its SKU type to Fixed (or allow dynamic bundles for this check)"),
            measures={"near_miss": 0}, links=magento_link(ctx, f"catalog/product/edit/id/{product.entity_id}/"),
        )

    def _not_in_magento(self, ctx: CheckContext, magento_skus: set[str],
                        items: Mapping[str, Item]) -> Iterable[Finding]:
        near = _NearMisses(magento_skus - items.keys())
        seen: set[str] = set()
        for listing in need(ctx.stokly.listings, "stokly.listings"):
            sku = listing.sku
            if listing.channel_id != ctx.stokly.channel_id or sku in magento_skus or sku in seen:
                continue
            seen.add(sku)
            if near.get(sku) is not None:
                continue  # the Magento side already reports this near-miss
            item = items.get(sku)
            yield Finding(
                check=self.id, subject=f"sku:{sku}", severity=Severity.WARNING, owner=self.owner,
                summary=(f"Stokly lists SKU {sku!r} on the Magento channel but Magento has no such product: "
                         "create the product in Magento or remove the listing"),
                measures={"near_miss": 0},
                links=stokly_link(ctx, f"items/{item.item_id}") if item else stokly_link(ctx, "listings"),
            )


_: type[Check] = SkuMismatch
