"""The Magento 2.4 REST connector: typed, paged, retried, and honest about ambiguous writes.

``MagentoClient(base_url, auth)`` calls ``<base_url>/rest/V1/...`` and returns ``watchdog.model``
records. Lists are paged with ``pageSize`` <= 300 until ``total_count`` is reached (never "until an
empty page": Magento 2.3 repeats the last page). SKU and id lists travel as one ``in`` filter per
batch (a bare ``,`` inside a SKU falls back to ``eq`` filters, at most 10 per group so a signed
request verifies under both of Magento's parameter orders). ``iter_changed`` reads a changed-since
feed with a keyset on (``updated_at``, ``entity_id``), so records sharing one timestamp are each
read once however many there are.

Errors: ``UpstreamError`` with Magento's message rendered for people (placeholders substituted).
429/503 and (for reads and idempotent writes) 500/502/504 are TRANSIENT and retried; for
non-idempotent writes (ship, refund, invoice, track, comment) a timeout or a 500/502/504 is
AMBIGUOUS: read the target back before trying again. ``is_already_shipped`` recognises the 400 a
repeated ship gets.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar
from urllib.parse import quote

import httpx

from watchdog.connectors.http import (
    TRANSIENT_STATUSES,
    ApiClient,
    ErrorKind,
    RequestObserver,
    RetryPolicy,
    UpstreamError,
    gather_all,
    parse_retry_after,
    to_decimal,
)
from watchdog.connectors.magento_json import Ctx, int_of, obj, text
from watchdog.connectors.magento_oauth import (
    SIGN_IN_ROUTE,
    BearerAuth,
    MagentoAdminAuth,
    MagentoOAuth1,
    require_secure_transport,
)
from watchdog.connectors.magento_parse import (
    configurable_links,
    parse_bulk_status,
    parse_credit_memo,
    parse_id,
    parse_invoice,
    parse_order,
    parse_page,
    parse_product,
    parse_shipment,
    parse_source,
    parse_source_item,
    parse_track,
    render_error,
)
from watchdog.connectors.magento_types import (
    AdminLogin,
    BearerToken,
    BulkOperation,
    BulkStatus,
    ChangeFeed,
    Groups,
    ItemQty,
    MagentoAuth,
    OAuth1Credentials,
    SearchFilter,
    ShipRequest,
    criteria,
    is_already_shipped,
    number,
    renews,
    source_item_body,
    timestamp_value,
    updated_groups,
    value_groups,
)
from watchdog.connectors.shape import fail_if_mostly_unreadable, read_rows
from watchdog.model import CreditMemo, MagentoInvoice, Order, Product, Shipment, Source, SourceItem, Track
from watchdog.secret import Secret

__all__ = [
    "CREDIT_MEMOS", "INVOICES", "ORDERS", "PRODUCT_FIELDS", "SHIPMENTS", "AdminLogin", "BearerToken", "BulkOperation",
    "BulkStatus", "ChangeFeed", "ItemQty", "MagentoAuth", "MagentoClient", "OAuth1Credentials", "SearchFilter",
    "ShipRequest", "is_already_shipped",
]

T = TypeVar("T")
MAX_PAGE_SIZE = 300
#: What ``products()`` reads of each product (``parse_product``): a real catalogue's products carry
#: dozens of attributes, descriptions and media besides, which a snapshot need not download
PRODUCT_FIELDS = ("items[id,sku,name,type_id,status,custom_attributes,"
                  "extension_attributes[configurable_product_links,bundle_product_options]],total_count")
SOURCE_ITEMS_PER_CALL = 20
NON_IDEMPOTENT = frozenset({
    "POST /V1/order/{orderId}/ship", "POST /V1/order/{orderId}/refund", "POST /V1/order/{orderId}/invoice",
    "POST /V1/shipment/track", "POST /V1/orders/{id}/comments",
})


ORDERS: ChangeFeed[Order] = ChangeFeed("/orders", parse_order)
CREDIT_MEMOS: ChangeFeed[CreditMemo] = ChangeFeed("/creditmemos", parse_credit_memo)
SHIPMENTS: ChangeFeed[Shipment] = ChangeFeed("/shipments", parse_shipment)
INVOICES: ChangeFeed[MagentoInvoice] = ChangeFeed("/invoices", parse_invoice)


REFUSED_FIXED = (" (credentials refused; a token or OAuth 1.0a credentials cannot be renewed automatically: check"
                 " the integration is active, its credentials and its API resources)")
REFUSED_AFTER_SIGN_IN = " (refused again after a fresh admin sign-in: check the admin user's role resources)"


def _as_is(item: Any, index: int) -> Any:
    return item


def _httpx_auth(base_url: str, auth: MagentoAuth, transport: httpx.AsyncBaseTransport | None,
                timeout_s: float) -> httpx.Auth:
    """The httpx auth for ``auth``. Raises ValueError for OAuth 1.0a over plain http."""
    if isinstance(auth, BearerToken):
        return BearerAuth(auth.token)
    if isinstance(auth, AdminLogin):
        return MagentoAdminAuth(auth.username, auth.password, base_url, transport=transport, timeout_s=timeout_s)
    require_secure_transport(base_url)
    return MagentoOAuth1(auth.consumer_key, auth.consumer_secret, auth.access_token, auth.access_token_secret)


class _Seen(NamedTuple):
    record: Any
    stamp: str
    entity_id: int


class MagentoClient(ApiClient):
    """Async Magento REST client; see the module docstring for paging, retries and errors."""

    system = "magento"

    def __init__(self, base_url: str, auth: MagentoAuth, *, timeout_s: float = 15.0, concurrency: int = 8,
                 rate_per_s: float = 0.0, retry: RetryPolicy | None = None,
                 transport: httpx.AsyncBaseTransport | None = None, observer: RequestObserver | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, page_size: int = MAX_PAGE_SIZE,
                 store_code: str = "default", integration: str = "") -> None:
        self.auth = _httpx_auth(base_url, auth, transport, timeout_s)
        self.renews_auth = renews(auth)
        super().__init__(base_url, timeout_s=timeout_s, concurrency=concurrency, rate_per_s=rate_per_s,
                         retry=retry, auth=self.auth, transport=transport, observer=observer, sleep=sleep,
                         integration=integration)
        self.page_size = max(1, min(MAX_PAGE_SIZE, page_size))
        self.store_code = store_code

    async def aclose(self) -> None:
        await super().aclose()
        if isinstance(self.auth, MagentoAdminAuth):
            await self.auth.aclose()

    def error_for(self, route: str, status: int, body: Any, response: httpx.Response) -> UpstreamError:
        """Magento's error rendered for people, classified transient / permanent / ambiguous.

        A 401 says whether the credentials could be renewed (an admin sign-in already was, once).
        """
        if status in (500, 502, 504) and route in NON_IDEMPOTENT:
            kind = ErrorKind.AMBIGUOUS
        elif status in TRANSIENT_STATUSES:
            kind = ErrorKind.TRANSIENT
        else:
            kind = ErrorKind.PERMANENT
        message = render_error(body) if isinstance(body, dict) else f"HTTP {status} without a Magento error body"
        if status == 401 and route != SIGN_IN_ROUTE:
            message += REFUSED_AFTER_SIGN_IN if self.renews_auth else REFUSED_FIXED
        return UpstreamError(self.system, route, message, kind=kind, status=status, body=body,
                             retry_after=parse_retry_after(response))

    async def _get(self, path: str, route: str, params: Any = None) -> Any:
        return await self.request("GET", f"/rest/V1{path}", route=route, params=params)

    async def _post(self, path: str, route: str, body: Any, *, idempotent: bool) -> Any:
        return await self.request("POST", f"/rest/V1{path}", route=route, json_body=body, idempotent=idempotent)

    async def _search(self, path: str, route: str, groups: Groups = (),
                      sort: Sequence[tuple[str, str]] = (("entity_id", "ASC"),),
                      parse: Callable[[Any, int], T] = _as_is, fields: str | None = None) -> list[T]:
        """Every item matching ``groups``, each through ``parse(item, index)`` as its page arrives.

        Page 1 gives ``total_count``; the other pages are then read concurrently (the client's
        ``concurrency`` bounds how many at once), so a long list costs about pages / concurrency
        round trips, and only the pages in flight are held as raw JSON. ``fields`` (Magento's
        ``?fields=`` filter, e.g. ``items[sku,name],total_count``) trims what each page carries.
        """
        first, total, aside = await self._search_page(path, route, groups, sort, 1, parse, fields)
        pages = -(-total // self.page_size)
        if pages <= 1 or not (first or aside):
            fail_if_mostly_unreadable(self.system, route, len(first) + aside, aside)
            return first
        rest = await gather_all(self._search_page(path, route, groups, sort, n, parse, fields)
                                for n in range(2, pages + 1))
        aside += sum(a for _, _, a in rest)
        found = [*first, *(item for items, _, _ in rest for item in items)]
        fail_if_mostly_unreadable(self.system, route, len(found) + aside, aside)
        return found

    async def _search_page(self, path: str, route: str, groups: Groups, sort: Sequence[tuple[str, str]], page: int,
                           parse: Callable[[Any, int], T], fields: str | None = None) -> tuple[list[T], int, int]:
        params = criteria(groups, sort, self.page_size, page)
        if fields:
            params.append(("fields", fields))
        items, total = parse_page(await self._get(path, route, params), route)
        offset = (page - 1) * self.page_size
        index = itertools.count(offset)
        parsed, aside = read_rows(items, lambda item: parse(item, next(index)), self.system, route)
        return parsed, total, aside

    async def _search_batches(self, path: str, route: str, fixed: Groups, field_name: str,
                              values: Sequence[str] | None, sort: Sequence[tuple[str, str]],
                              parse: Callable[[Any, int], T]) -> list[T]:
        if values is None:
            return await self._search(path, route, fixed, sort, parse)
        batches = [await self._search(path, route, [*fixed, group], sort, parse)
                   for group in value_groups(field_name, values)]
        return [item for batch in batches for item in batch]

    # ------------------------------------------------------------------ auth and catalogue

    async def admin_token(self, username: str, password: Secret) -> str:
        """An admin bearer token (valid 4 h). Raises UpstreamError (401 wrong credentials, 400 2FA)."""
        route = SIGN_IN_ROUTE
        token = await self._post("/integration/admin/token", route,
                                 {"username": username, "password": password.reveal()}, idempotent=True)
        return text({"token": token}, "token", Ctx(route))

    async def products(self) -> list[Product]:
        """Every product; configurable children resolved to SKUs from the same list."""
        route = "GET /V1/products"
        links: dict[int, list[Any]] = {}  # configurable entity id -> its child ids, resolved once all are read

        def parse(raw: Any, index: int) -> Product:
            product = parse_product(raw, route)
            if product.type_id == "configurable":
                links[product.entity_id] = configurable_links(raw)
            return product

        found = await self._search("/products", route, parse=parse, fields=PRODUCT_FIELDS)
        if not links:
            return found
        sku_by_id = {p.entity_id: p.sku for p in found}
        return [replace(p, configurable_children=tuple(sku_by_id[i] for i in links[p.entity_id]
                                                       if isinstance(i, int) and i in sku_by_id))
                if p.entity_id in links else p for p in found]

    async def product(self, sku: str) -> Product:
        """One product by SKU. Raises UpstreamError 404 when unknown."""
        route = "GET /V1/products/{sku}"
        return parse_product(await self._get(f"/products/{quote(sku, safe='')}", route), route)

    async def sources(self) -> list[Source]:
        """Every MSI source."""
        route = "GET /V1/inventory/sources"
        return await self._search("/inventory/sources", route, sort=(("source_code", "ASC"),),
                                  parse=lambda s, i: parse_source(s, route))

    # ------------------------------------------------------------------ stock

    async def source_items(self, *, source_code: str | None = None,
                           skus: Sequence[str] | None = None) -> list[SourceItem]:
        """Source items, optionally of one source and/or a SKU list (one ``in`` filter per batch)."""
        route = "GET /V1/inventory/source-items"
        fixed = [[SearchFilter("source_code", source_code)]] if source_code else []
        return await self._search_batches("/inventory/source-items", route, fixed, "sku", skus,
                                          (("sku", "ASC"), ("source_code", "ASC")),
                                          lambda r, i: parse_source_item(r, Ctx(route, f"items[{i}]")))

    async def save_source_items(self, items: Sequence[SourceItem]) -> None:
        """Absolute upsert in chunks of <= 20 (idempotent, so retried). Raises the first chunk's error."""
        chunks = [items[i:i + SOURCE_ITEMS_PER_CALL] for i in range(0, len(items), SOURCE_ITEMS_PER_CALL)]
        results = await asyncio.gather(*(self._save_chunk(c) for c in chunks), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def _save_chunk(self, chunk: Sequence[SourceItem]) -> None:
        route = "POST /V1/inventory/source-items"
        body = {"sourceItems": [source_item_body(i) for i in chunk]}
        answer = await self._post("/inventory/source-items", route, body, idempotent=True)
        if answer is not None and answer != []:
            raise Ctx(route).fail(f"is {answer!r}, expected []")

    async def save_source_items_bulk(self, items: Sequence[SourceItem]) -> str:
        """Queue the upsert on the async bulk API (operations of <= 20 items); returns the bulk uuid."""
        route = "POST /async/bulk/V1/inventory/source-items"
        body = [{"sourceItems": [source_item_body(i) for i in items[n:n + SOURCE_ITEMS_PER_CALL]]}
                for n in range(0, len(items), SOURCE_ITEMS_PER_CALL)]
        answer = obj(await self.request("POST", f"/rest/{self.store_code}/async/bulk/V1/inventory/source-items",
                                        route=route, json_body=body, idempotent=True, expect=(202,)), Ctx(route))
        if answer.get("errors") is True:
            raise UpstreamError(self.system, route, "Magento rejected part of the bulk request",
                                kind=ErrorKind.PERMANENT, status=202, body=answer)
        return text(answer, "bulk_uuid", Ctx(route))

    async def bulk_status(self, bulk_uuid: str) -> BulkStatus:
        """Progress of a bulk request."""
        route = "GET /V1/bulk/{bulkUuid}/status"
        return parse_bulk_status(await self._get(f"/bulk/{quote(bulk_uuid, safe='')}/status", route), route)

    async def salable_qty(self, sku: str, stock_id: int) -> Decimal:
        """Salable quantity (source qty + reservations - min qty). 404 unknown SKU, 400 composite."""
        route = "GET /V1/inventory/get-product-salable-quantity/{sku}/{stockId}"
        value = await self._get(f"/inventory/get-product-salable-quantity/{quote(sku, safe='')}/{stock_id}", route)
        return to_decimal(value, "body", system=self.system, route=route)

    # ------------------------------------------------------------------ orders

    async def order(self, entity_id: int) -> Order:
        """One order by entity id (not increment id)."""
        route = "GET /V1/orders/{id}"
        return parse_order(await self._get(f"/orders/{entity_id}", route), route)

    async def orders(self, *, updated_from: datetime | None = None, updated_to: datetime | None = None,
                     states: Sequence[str] | None = None, increment_ids: Sequence[str] | None = None) -> list[Order]:
        """Orders matching every given condition, by entity id."""
        route = "GET /V1/orders"
        fixed = updated_groups(updated_from, updated_to)
        if states:
            fixed.append([SearchFilter("state", ",".join(states), "in")])
        return await self._search_batches("/orders", route, fixed, "increment_id", increment_ids,
                                          (("entity_id", "ASC"),), lambda o, i: parse_order(o, route))

    async def add_comment(self, order_id: int, comment: str, *, notify: bool = False) -> bool:
        """Add an order status-history comment (non-idempotent); Magento answers ``true``."""
        route = "POST /V1/orders/{id}/comments"
        body = {"statusHistory": {"comment": comment, "is_customer_notified": int(notify), "is_visible_on_front": 0,
                                  "parent_id": order_id}}
        return await self._post(f"/orders/{order_id}/comments", route, body, idempotent=False) is True

    async def iter_changed(self, feed: ChangeFeed[T], since: datetime, until: datetime | None = None, *,
                           filters: Sequence[SearchFilter] = ()) -> AsyncIterator[T]:
        """Records with ``since <= updated_at <= until`` in (updated_at, entity_id) order, each once.

        Keyset paging: every request asks for page 1 after the last (updated_at, entity_id) seen,
        first draining ties at the current timestamp by ``entity_id``. Records updated meanwhile
        reappear later at their new position (read them again; never lose them). Each filter is its
        own group after two of ours: keep ``filters`` to 7 or fewer so a signed request stays below
        11 groups, which verifies whichever parameter order the Magento release sorts by.
        """
        extra: list[list[SearchFilter]] = [[f] for f in filters] + updated_groups(None, until)
        stamp, last_id = timestamp_value(since), 0
        while True:
            while True:  # drain everything at exactly `stamp` after `last_id`
                tie = [[SearchFilter("updated_at", stamp)], [SearchFilter("entity_id", str(last_id), "gt")], *extra]
                seen, total = await self._feed_page(feed, tie, (("entity_id", "ASC"),))
                for entry in seen:
                    last_id = entry.entity_id
                    yield entry.record
                if total <= len(seen):
                    break
            later = [[SearchFilter("updated_at", stamp, "gt")], *extra]
            seen, total = await self._feed_page(feed, later, (("updated_at", "ASC"), ("entity_id", "ASC")))
            for entry in seen:
                stamp, last_id = entry.stamp, entry.entity_id
                yield entry.record
            if total <= len(seen):
                return

    async def _feed_page(self, feed: ChangeFeed[T], groups: Groups,
                         sort: Sequence[tuple[str, str]]) -> tuple[list[_Seen], int]:
        body = await self._get(feed.path, feed.route, criteria(groups, sort, self.page_size, 1))
        raw_items, total = parse_page(body, feed.route)
        seen = []
        for i, raw in enumerate(raw_items):
            ctx = Ctx(feed.route, f"items[{i}]")
            rec = obj(raw, ctx)
            seen.append(_Seen(feed.parse(raw, feed.route), text(rec, "updated_at", ctx), int_of(rec, "entity_id", ctx)))
        return seen, total

    # ------------------------------------------------------------------ shipments

    async def ship(self, order_id: int, request: ShipRequest) -> int:
        """Create a shipment; returns its id. Not idempotent: a timeout or 5xx is AMBIGUOUS.

        A 400 for which ``is_already_shipped`` holds means nothing was left to ship.
        """
        route = "POST /V1/order/{orderId}/ship"
        body: dict[str, Any] = {"notify": request.notify}
        if request.items:
            body["items"] = [{"order_item_id": i.order_item_id, "qty": number(i.qty)} for i in request.items]
        if request.tracks:
            body["tracks"] = [{"track_number": t.track_number, "title": t.title, "carrier_code": t.carrier_code}
                              for t in request.tracks]
        if request.comment:
            body["appendComment"] = True
            body["comment"] = {"comment": request.comment, "is_visible_on_front": 0}
        if request.source_code:
            body["arguments"] = {"extension_attributes": {"source_code": request.source_code}}
        return parse_id(await self._post(f"/order/{order_id}/ship", route, body, idempotent=False), route)

    async def shipments(self, *, order_id: int | None = None, order_ids: Sequence[int] | None = None) -> list[Shipment]:
        """Shipments (all, of one order, or of several orders) with items and tracks."""
        route = "GET /V1/shipments"
        ids = [str(i) for i in order_ids] if order_ids is not None else None
        if order_id is not None:
            ids = [str(order_id)]
        return await self._search_batches("/shipments", route, [], "order_id", ids, (("entity_id", "ASC"),),
                                          lambda s, i: parse_shipment(s, route))

    async def add_track(self, order_id: int, shipment_id: int, track: Track) -> Track:
        """Attach a track to an existing shipment (non-idempotent); returns the saved track."""
        route = "POST /V1/shipment/track"
        entity = {"order_id": order_id, "parent_id": shipment_id, "track_number": track.track_number,
                  "title": track.title, "carrier_code": track.carrier_code, "weight": 0, "qty": 0,
                  "description": track.description or ""}
        return parse_track(await self._post("/shipment/track", route, {"entity": entity}, idempotent=False), route)

    # ------------------------------------------------------------------ refunds and invoices

    async def credit_memos(self, *, updated_from: datetime | None = None, updated_to: datetime | None = None,
                           order_id: int | None = None) -> list[CreditMemo]:
        """Credit memos matching every given condition."""
        route = "GET /V1/creditmemos"
        groups = updated_groups(updated_from, updated_to)
        if order_id is not None:
            groups.append([SearchFilter("order_id", str(order_id))])
        return await self._search("/creditmemos", route, groups, parse=lambda m, i: parse_credit_memo(m, route))

    async def credit_memo(self, entity_id: int) -> CreditMemo:
        """One credit memo."""
        route = "GET /V1/creditmemo/{id}"
        return parse_credit_memo(await self._get(f"/creditmemo/{entity_id}", route), route)

    async def refund(self, order_id: int, items: Sequence[ItemQty], *, shipping_amount: Decimal = Decimal(0),
                     return_to_stock: bool = False, adjustment_positive: Decimal = Decimal(0),
                     adjustment_negative: Decimal = Decimal(0), notify: bool = False) -> int:
        """Offline refund -> credit memo id (non-idempotent). Empty ``items`` refunds everything left."""
        route = "POST /V1/order/{orderId}/refund"
        arguments: dict[str, Any] = {"shipping_amount": number(shipping_amount),
                                     "adjustment_positive": number(adjustment_positive),
                                     "adjustment_negative": number(adjustment_negative)}
        if return_to_stock:
            arguments["extension_attributes"] = {"return_to_stock_items": [i.order_item_id for i in items]}
        body = {"items": [{"order_item_id": i.order_item_id, "qty": number(i.qty)} for i in items],
                "notify": notify, "arguments": arguments}
        return parse_id(await self._post(f"/order/{order_id}/refund", route, body, idempotent=False), route)

    async def invoices(self, *, order_id: int | None = None) -> list[MagentoInvoice]:
        """Invoices (all, or of one order)."""
        route = "GET /V1/invoices"
        groups = [[SearchFilter("order_id", str(order_id))]] if order_id is not None else []
        return await self._search("/invoices", route, groups, parse=lambda v, i: parse_invoice(v, route))

    async def create_invoice(self, order_id: int, *, capture: bool = True, items: Sequence[ItemQty] = ()) -> int:
        """Invoice the order (everything, or ``items``); returns the invoice id (non-idempotent)."""
        route = "POST /V1/order/{orderId}/invoice"
        body: dict[str, Any] = {"capture": capture, "notify": False}
        if items:
            body["items"] = [{"order_item_id": i.order_item_id, "qty": number(i.qty)} for i in items]
        return parse_id(await self._post(f"/order/{order_id}/invoice", route, body, idempotent=False), route)
