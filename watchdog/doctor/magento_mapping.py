"""Magento's side of the mapping: the MSI source exists and is enabled, the stock exists, the two
are linked, and every configured import state is a Magento order state. GET requests only.

Stocks and stock-source links are read only here (the service never needs them): when their ACL
is missing the link is reported as unverified (warn), naming the resource that would let doctor see it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from watchdog.config import MagentoConfig, SyncConfig
from watchdog.connectors.magento import MagentoClient
from watchdog.connectors.magento_types import SearchFilter, criteria
from watchdog.doctor.magento_acl import resource_named
from watchdog.doctor.reads import Probe, read
from watchdog.doctor.verdicts import Check, Verdict

__all__ = ["STATES", "mapping_checks", "state_check"]

SYSTEM = "magento"
#: Magento's order states: a closed set (reference/magento-api.md 8.1); statuses are open-ended.
STATES = ("new", "pending_payment", "processing", "complete", "closed", "canceled", "holded", "payment_review")
#: Default statuses whose name is not their state's.
STATUS_STATE = {"pending": "new", "fraud": "processing or payment_review", "on_hold": "holded"}
STOCKS = "Stores > Inventory > Stocks"


def _items(probe: Probe) -> list[dict[str, Any]]:
    items = probe.body.get("items") if probe.ok and isinstance(probe.body, dict) else None
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _unverified(what: str, probe: Probe) -> Check:
    resource = resource_named(probe.route, probe.error_body)
    if probe.refused:
        return Check(SYSTEM, "mapping", what, Verdict.WARN, f"could not be verified: {probe.message()}",
                     f"grant {resource} so doctor can see it, or check {STOCKS} in the admin")
    return Check(SYSTEM, "mapping", what, Verdict.WARN, f"could not be verified: {probe.error}",
                 "run doctor again")


def source_check(config: MagentoConfig, probe: Probe) -> Check:
    """The configured source exists (and is enabled)."""
    what = f"MSI source {config.source_code!r}"
    if not probe.ok:
        return _unverified(what, probe)
    found = [i for i in _items(probe) if i.get("source_code") == config.source_code]
    if not found:
        return Check(SYSTEM, "mapping", what, Verdict.FAIL, "does not exist in Magento",
                     "set [integrations.magento] source_code to the code of the source Stokly's location feeds "
                     "(Stores > Inventory > Sources)")
    if found[0].get("enabled") is False:
        return Check(SYSTEM, "mapping", what, Verdict.FAIL, "exists but is disabled: Magento sells none of its stock",
                     "enable it (Stores > Inventory > Sources)")
    return Check(SYSTEM, "mapping", what, Verdict.PASS, f"exists and is enabled ({found[0].get('name', '')})")


def stock_check(config: MagentoConfig, probe: Probe) -> Check:
    """The configured stock exists."""
    what = f"MSI stock {config.stock_id}"
    if probe.status == 404:
        return Check(SYSTEM, "mapping", what, Verdict.FAIL, "does not exist in Magento",
                     f"set [integrations.magento] stock_id to the stock the store sells from ({STOCKS})")
    if not probe.ok:
        return _unverified(what, probe)
    name = probe.body.get("name", "") if isinstance(probe.body, dict) else ""
    return Check(SYSTEM, "mapping", what, Verdict.PASS, f"exists ({name})")


def link_check(config: MagentoConfig, probe: Probe) -> Check:
    """The source is linked to the stock (else its quantities never reach the salable quantity)."""
    what = f"source {config.source_code!r} linked to stock {config.stock_id}"
    if not probe.ok:
        return _unverified(what, probe)
    if not _items(probe):
        return Check(SYSTEM, "mapping", what, Verdict.FAIL,
                     "not linked: Magento does not count the source's quantities in what it sells",
                     f"assign the source to the stock ({STOCKS} > the stock > Sources)")
    priority = _items(probe)[0].get("priority")
    return Check(SYSTEM, "mapping", what, Verdict.PASS, f"linked (priority {priority})")


def state_check(state: str) -> Check:
    """One configured import state against Magento's fixed set of order states."""
    what = f"import state {state!r}"
    if state in STATES:
        return Check(SYSTEM, "mapping", what, Verdict.PASS,
                     "a Magento order state (Magento has no route listing states: checked against its fixed set)")
    hint = f"; {state!r} is a status of state {STATUS_STATE[state]!r}" if state in STATUS_STATE else ""
    return Check(SYSTEM, "mapping", what, Verdict.FAIL, f"not a Magento order state{hint}: no order would be imported",
                 f"use order states in [integrations.sync] import_states: {', '.join(STATES)}")


async def mapping_checks(config: MagentoConfig, sync: SyncConfig, client: MagentoClient,
                         lists: dict[str, Probe]) -> list[Check]:
    """Source, stock, their link and the import states."""
    stock = await read(client, f"/rest/V1/inventory/stocks/{config.stock_id}", "GET /V1/inventory/stocks/{stockId}")
    groups: Sequence[Sequence[SearchFilter]] = [[SearchFilter("stock_id", str(config.stock_id))],
                                                [SearchFilter("source_code", config.source_code)]]
    links = await read(client, "/rest/V1/inventory/stock-source-links", "GET /V1/inventory/stock-source-links",
                       criteria(groups, [], 5, 1))
    return [source_check(config, lists["GET /V1/inventory/sources"]), stock_check(config, stock),
            link_check(config, links), *[state_check(s) for s in sync.import_states]]
