"""Magento: the credentials, every route the service reads (a small page each, parsed by the
connector's own readers), the MSI mapping and the import states. GET requests only.

A route answering 401/403 names the ACL resource to grant. When no route answers at all the
credentials fail and the routes are not judged one by one (each would only repeat the refusal).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from watchdog.config import MagentoConfig, SyncConfig
from watchdog.connectors.http import UpstreamError
from watchdog.connectors.magento import PRODUCT_FIELDS, MagentoClient
from watchdog.connectors.magento_parse import (
    parse_credit_memo,
    parse_invoice,
    parse_order,
    parse_page,
    parse_product,
    parse_shipment,
    parse_source,
    parse_source_item,
)
from watchdog.connectors.magento_types import SearchFilter, criteria
from watchdog.doctor.magento_acl import WRITE_ACL, resource_named
from watchdog.doctor.magento_mapping import mapping_checks
from watchdog.doctor.reads import Probe, read
from watchdog.doctor.verdicts import Check, Verdict

__all__ = ["magento_checks"]

SMALL = 5
SYSTEM = "magento"
Parse = Callable[[Any, str], object]
UNPARSED = frozenset({"GET /V1/inventory/get-product-salable-quantity/{sku}/{stockId}",
                      "GET /V1/bulk/{bulkUuid}/status"})
ADMIN_ACL = "System > Extensions > Integrations > (the integration) > API, or the admin user's role"


def _page(filters: Sequence[SearchFilter] = (), sort: str = "entity_id", direction: str = "DESC") -> list[
        tuple[str, str]]:
    return criteria([[f] for f in filters], [(sort, direction)], SMALL, 1)


def _parsed(probe: Probe, parse: Parse, *, single: bool = False) -> Probe:
    """``probe`` failed if its body does not parse with the connector's reader."""
    if not probe.ok:
        return probe
    try:
        for item in [probe.body] if single else parse_page(probe.body, probe.route)[0]:
            parse(item, probe.route)
    except UpstreamError as exc:
        return probe.failed(str(exc))
    return probe


async def _list(client: MagentoClient, route: str, params: Any, parse: Parse) -> Probe:
    path = route.removeprefix("GET /V1")
    return _parsed(await read(client, f"/rest/V1{path}", route, params), parse)


async def _lists(client: MagentoClient, config: MagentoConfig) -> list[Probe]:
    source = SearchFilter("source_code", config.source_code)
    products = [*_page(sort="entity_id", direction="ASC"), ("fields", PRODUCT_FIELDS)]
    first = await _list(client, "GET /V1/inventory/sources", _page([source], "source_code", "ASC"), parse_source)
    if first.status is None or first.failed_on:  # no answer, or the sign-in failed: do not wait out every
        return [first]  # other read's timeout, nor lock an admin account with repeated wrong passwords
    return [
        first,
        await _list(client, "GET /V1/products", products, parse_product),
        await _list(client, "GET /V1/inventory/source-items", _page([source], "sku", "ASC"), parse_source_item),
        await _list(client, "GET /V1/orders", _page(), parse_order),
        await _list(client, "GET /V1/shipments", _page(), parse_shipment),
        await _list(client, "GET /V1/creditmemos", _page(), parse_credit_memo),
        await _list(client, "GET /V1/invoices", _page(), parse_invoice),
    ]


def _first(probe: Probe, key: str) -> Any:
    """``items[0][key]`` of a list answer, or None."""
    items = probe.body.get("items") if probe.ok and isinstance(probe.body, dict) else None
    return items[0].get(key) if isinstance(items, list) and items and isinstance(items[0], dict) else None


async def _single(client: MagentoClient, route: str, path: str | None, parse: Parse | None) -> Probe:
    if path is None:
        return Probe(route, status=None, error="nothing to read")
    probe = await read(client, f"/rest/V1{path}", route)
    return _parsed(probe, parse, single=True) if parse else probe


async def _singles(client: MagentoClient, config: MagentoConfig, lists: dict[str, Probe]) -> list[Probe]:
    order, memo = _first(lists["GET /V1/orders"], "entity_id"), _first(lists["GET /V1/creditmemos"], "entity_id")
    sku = _first(lists["GET /V1/inventory/source-items"], "sku")
    salable = "GET /V1/inventory/get-product-salable-quantity/{sku}/{stockId}"
    return [
        await _single(client, "GET /V1/orders/{id}", f"/orders/{order}" if order else None, parse_order),
        await _single(client, "GET /V1/creditmemo/{id}", f"/creditmemo/{memo}" if memo else None,
                      parse_credit_memo),
        await _single(client, salable, f"/inventory/get-product-salable-quantity/{sku}/{config.stock_id}"
                      if isinstance(sku, str) else None, None),
        await _single(client, "GET /V1/bulk/{bulkUuid}/status", f"/bulk/{uuid.uuid4()}/status", None),
    ]


# ---------------------------------------------------------------------- verdicts


def _auth_name(config: MagentoConfig) -> str:
    return {"bearer": 'access token (auth = "bearer")', "admin": 'admin sign-in (auth = "admin")'}.get(
        config.auth, 'OAuth 1.0a (auth = "oauth1")')


def _credentials_fix(config: MagentoConfig, probes: Sequence[Probe]) -> str:
    if all(p.status == 404 for p in probes):
        return "set [integrations.magento] base_url to the store's root URL (the one /rest/V1 hangs under)"
    if config.auth == "admin":
        return ("check [integrations.magento] username and the password its password_env names; an admin with "
                "two-factor authentication cannot sign in through the API: use an integration (auth = \"oauth1\")")
    if config.auth == "bearer":
        return ("check the token its token_env names; an integration's access token is accepted on its own only "
                "when the store allows it (oauth/consumer/enable_integration_as_bearer = 1: Stores > "
                "Configuration > Services > OAuth > Consumer Settings; off by default since 2.4.4): otherwise set "
                "auth = \"oauth1\" with the integration's four values")
    return ("check the four OAuth values (System > Extensions > Integrations > (the integration) > Integration "
            "Details) and re-authorise a reset integration; a refused timestamp means this machine's clock is off")


def credential_check(config: MagentoConfig, probes: Sequence[Probe]) -> Check:
    """Pass when any route answered; else fail with Magento's own words and what to check."""
    answered = [p for p in probes if p.ok]
    if answered:
        return Check(SYSTEM, "credentials", _auth_name(config), Verdict.PASS,
                     f"accepted ({len(answered)} of {len(probes)} reads answered)")
    said = next((p for p in probes if p.status is not None), probes[0])
    return Check(SYSTEM, "credentials", _auth_name(config), Verdict.FAIL,
                 f"no read answered; Magento said: {said.message()}", _credentials_fix(config, probes))


def _permitted(probe: Probe) -> bool:
    """A read whose ACL passed: it answered, or refused only the record (404/400)."""
    return probe.ok or probe.status in (400, 404)


def route_check(probe: Probe, lists: dict[str, Probe]) -> Check:
    """The verdict on one route: answered and parsed, refused (naming the ACL resource), or failed."""
    route = probe.route
    if probe.ok:
        return Check(SYSTEM, "route", route, Verdict.PASS, "answered" if route in UNPARSED else "answered and parsed")
    if probe.refused:
        resource = resource_named(route, probe.error_body)
        return Check(SYSTEM, "route", route, Verdict.FAIL, f"refused (HTTP {probe.status}): {probe.message()}",
                     f"grant the ACL resource {resource} ({ADMIN_ACL})")
    if probe.malformed:
        return Check(SYSTEM, "route", route, Verdict.FAIL, f"answered, but does not parse: {probe.error}",
                     "tell us (send this line): the connector cannot read this store's answer")
    if probe.error == "nothing to read":
        return _nothing_to_read(route, lists)
    if route.endswith(("{bulkUuid}/status", "{stockId}")) and _permitted(probe):
        return Check(SYSTEM, "route", route, Verdict.PASS,
                     f"permitted (HTTP {probe.status} for the record asked: {probe.message()})")
    return Check(SYSTEM, "route", route, Verdict.FAIL, f"could not be read: {probe.error}",
                 "run doctor again; if it persists, look up Magento's report id in the store's logs")


def _nothing_to_read(route: str, lists: dict[str, Probe]) -> Check:
    twin = {"GET /V1/orders/{id}": "GET /V1/orders", "GET /V1/creditmemo/{id}": "GET /V1/creditmemos"}.get(route)
    if twin and lists[twin].ok:
        return Check(SYSTEM, "route", route, Verdict.PASS,
                     f"not read (no record yet); it needs the same ACL resource as {twin}, which answered")
    if twin and lists[twin].refused:
        resource = resource_named(twin, lists[twin].error_body)
        return Check(SYSTEM, "route", route, Verdict.FAIL,
                     f"not read; it needs the same ACL resource as {twin}, which was refused",
                     f"grant the ACL resource {resource} ({ADMIN_ACL})")
    return Check(SYSTEM, "route", route, Verdict.WARN, "not read: no record to read it with",
                 "run doctor again once the store holds one (its ACL resource is not verified)")


def write_check() -> Check:
    """What doctor cannot verify without writing: the resources the sync's writes need."""
    needed = "; ".join(f"{route}: {resource}" for route, resource in WRITE_ACL.items())
    return Check(SYSTEM, "route", "write permissions", Verdict.WARN, f"not tested (doctor never writes): {needed}",
                 f"make sure the integration holds these resources ({ADMIN_ACL})")


def _stopped(config: MagentoConfig, first: Probe) -> Check:
    """The first read failed before reaching its route: no answer at all, or a failed sign-in."""
    if first.status is None:
        return Check(SYSTEM, "credentials", _auth_name(config), Verdict.FAIL,
                     f"Magento could not be reached: {first.error}",
                     "check [integrations.magento] base_url and that this machine can reach it")
    return Check(SYSTEM, "credentials", _auth_name(config), Verdict.FAIL,
                 f"{first.message()} (nothing else was read)", _credentials_fix(config, [first]))


async def magento_checks(config: MagentoConfig, sync: SyncConfig, client: MagentoClient) -> list[Check]:
    """Every Magento check of one integration, in reading order."""
    lists = {p.route: p for p in await _lists(client, config)}
    if len(lists) == 1:
        return [_stopped(config, next(iter(lists.values())))]
    singles = await _singles(client, config, lists)
    credentials = credential_check(config, [*lists.values(), *singles])
    if credentials.verdict is Verdict.FAIL:
        return [credentials, Check(SYSTEM, "route", "every route and the MSI mapping", Verdict.FAIL,
                                   "not checked: Magento accepted no request", "fix the credentials first")]
    routes = [route_check(p, lists) for p in [*lists.values(), *singles]]
    return [credentials, *routes, write_check(), *await mapping_checks(config, sync, client, lists)]
