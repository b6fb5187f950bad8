"""The parse context spells out the path of a bad field only when an error needs it."""

from __future__ import annotations

import pytest

from watchdog.connectors.http import MalformedResponse
from watchdog.connectors.magento_json import Ctx, dec, int_of, text
from watchdog.connectors.magento_parse import parse_product

ROUTE = "GET /V1/products"


def test_paths_of_members_and_elements() -> None:
    ctx = Ctx(ROUTE)
    assert ctx.at("items").at(3).at("sku").path == "items[3].sku"
    assert Ctx(ROUTE, "items[0]").at("extension_attributes").at("links").at(1).path == \
        "items[0].extension_attributes.links[1]"
    assert ctx.path == ""
    assert ctx.at(0).path == "[0]"
    assert "body" in str(ctx.fail("is a list, expected an object"))


@pytest.mark.parametrize(("record", "reader", "message"), [
    ({"qty": "lots"}, lambda r, c: dec(r, "qty", c), "'items[2].qty' is not a number"),
    ({"qty": True}, lambda r, c: dec(r, "qty", c), "'items[2].qty' is not a number"),
    ({"id": 1.5}, lambda r, c: int_of(r, "id", c), "'items[2].id' is 1.5, expected an integer"),
    ({"id": False}, lambda r, c: int_of(r, "id", c), "'items[2].id' is a bool, expected an integer"),
    ({"sku": 7}, lambda r, c: text(r, "sku", c), "'items[2].sku' is a int, expected a string"),
])
def test_fast_paths_still_refuse_what_they_must(record: dict[str, object], reader: object, message: str) -> None:
    with pytest.raises(MalformedResponse, match=message.replace("[", r"\[").replace("]", r"\]")):
        reader(record, Ctx(ROUTE).at("items").at(2))  # type: ignore[operator]


def test_a_bad_link_deep_in_a_product_is_named_by_its_path() -> None:
    product = {"id": 1, "sku": "KIT", "type_id": "bundle", "extension_attributes": {
        "bundle_product_options": [{"product_links": [{"sku": "A"}, {"sku": 5}]}]}}
    with pytest.raises(MalformedResponse,
                       match=r"'extension_attributes\.bundle_product_options\[0\]\.product_links\[1\]\.sku'"):
        parse_product(product, ROUTE)


def test_strings_are_interned_and_numbers_reuse_their_decimal() -> None:
    a, b = text({"sku": "".join(["MUG", "-1"])}, "sku", Ctx(ROUTE)), text({"sku": "MUG-1"}, "sku", Ctx(ROUTE))
    assert a is b
    assert dec({"q": 2.5}, "q", Ctx(ROUTE)) is dec({"q": 2.5}, "q", Ctx(ROUTE))
