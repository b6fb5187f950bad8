"""sku_mismatch as a pure function."""

from __future__ import annotations

from checks.sku_mismatch import SkuMismatch, normalise_sku
from tests.checks.factories import ctx_of, item, listing, magento_snapshot, product, stokly_snapshot


def run(products: list, items: list, listings: list = (), **kw: object) -> list:  # type: ignore[assignment]
    ctx = ctx_of(magento_snapshot(products=products), stokly_snapshot(items=items, listings=list(listings)), **kw)  # type: ignore[arg-type]
    return list(SkuMismatch().run(ctx))


def test_shared_skus_and_parents_give_nothing() -> None:
    products = [product(1, "A"), product(2, "CONF", type_id="configurable"), product(3, "BUN", type_id="bundle")]
    assert run(products, [item("A")], [listing("A"), listing("CONF")]) == []


def test_a_magento_sku_unknown_to_stokly() -> None:
    [f] = run([product(1, "A"), product(2, "Z")], [item("A")])
    assert (f.subject, f.measures) == ("sku:Z", {"near_miss": 0})
    assert f.links["magento"].endswith("/catalog/product/edit/id/2/")


def test_case_and_whitespace_near_misses_are_named() -> None:
    assert normalise_sku(" ab c-1 ") == "abc-1"
    found = run([product(1, "abc-1"), product(2, "XY 2 ")], [item("ABC-1"), item("XY2")], [listing("XY2")])
    assert sorted((f.subject, f.measures["near_miss"]) for f in found) == [("sku:XY 2 ", 1), ("sku:abc-1", 1)]
    assert "'ABC-1'" in next(f.summary for f in found if f.subject == "sku:abc-1")


def test_a_deleted_stokly_item_counts_as_unknown_and_disabled_products_are_skipped() -> None:
    [f] = run([product(1, "A"), product(2, "B", status=2)], [item("A", status=1)])
    assert f.subject == "sku:A"


def test_dynamic_bundles_unless_allowed() -> None:
    products = [product(1, "BUN", type_id="bundle", dynamic=True)]
    [f] = run(products, [])
    assert f.subject == "sku:BUN"
    assert "dynamic SKU" in f.summary
    assert run(products, [], config={"allow_dynamic_bundles": True}) == []


def test_a_stokly_listing_magento_does_not_have() -> None:
    [f] = run([product(1, "A")], [item("A"), item("B")], [listing("A"), listing("B"), listing("C", channel="ebay")])
    assert f.subject == "sku:B"
    assert f.links["stokly"].endswith("/items/i-B")
