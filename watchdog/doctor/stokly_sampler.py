"""Reads a small page of every Stokly route the service uses, keeping the raw records.

``Sampler`` reads through ``StoklyBase.request`` (the client's own auth, timeouts, retries and
rate limit), one page of at most ``SAMPLE`` records per route, newest first where a sort field
is known, with the same filters the connector uses. Every read is kept as a ``Probe`` for the
route checks; the records of the reads that answered are kept per ``READ_SHAPES`` route for
the calibration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from watchdog.config import StoklyConfig
from watchdog.connectors.http import UpstreamError
from watchdog.connectors.stokly import StoklyClient
from watchdog.connectors.stokly_base import all_of, literal
from watchdog.connectors.stokly_parse import list_envelope, single_record
from watchdog.doctor.reads import Probe, read
from watchdog.stokly_assumed import (
    ACCOUNT_SHIPMENTS_PATH,
    CHANNEL_ALLOCATE_SOLD_LOCATION,
    CREDIT_NOTE,
    CREDIT_NOTES_PATH,
    REFERENCE_TYPE_SALE_INVOICE,
    SHIPMENT,
    SHIPMENTS_PATH,
)

__all__ = ["SAMPLE", "Sampler", "StoklySamples", "sample_stokly"]

SAMPLE = 50  # records per route
LINE_ORDERS = 10  # sale orders whose lines are read, at most
Record = Mapping[str, Any]


class Sampler:
    """Collects probes and raw records; see the module docstring."""

    def __init__(self, client: StoklyClient) -> None:
        self.client = client
        self.probes: list[Probe] = []
        self.records: dict[str, list[Record]] = {}
        self.designated: str | None = None  # the configured location, else the channel's Allocate Sold one

    async def page(self, path: str, route: str, *, filter: str | None = None, sort: str | None = None,
                   size: int = SAMPLE, probe: bool = True, keep: bool = True) -> list[Record]:
        """One page of ``path`` (newest first when ``sort`` is given); [] when it failed.

        ``probe``: judge the read as a route; ``keep``: calibrate the route with its records.
        """
        params: dict[str, Any] = {"page": 0, "size": size}
        if filter:
            params["filter"] = filter
        if sort:
            params.update(sortField=sort, sortDirection="DESC")
        answer = await read(self.client, path, route, params)
        records: list[Record] = []
        if answer.ok:
            try:
                records = list_envelope(answer.body, route)[0]
            except UpstreamError as exc:
                answer = answer.failed(str(exc))
        if probe:
            self.probes.append(answer)
        if keep and answer.ok:
            self.records.setdefault(route, []).extend(records)
        return records

    async def one(self, path: str, route: str) -> tuple[Probe, Record | None]:
        """One record (``{"data": {...}}``); the probe says why there is none."""
        probe = await read(self.client, path, route)
        if not probe.ok:
            return probe, None
        try:
            return probe, single_record(probe.body, route)
        except UpstreamError as exc:
            return probe.failed(str(exc)), None

    def nothing(self, route: str) -> None:
        """Note that ``route`` had nothing to be read with (no id to put in its path)."""
        self.records.setdefault(route, [])


def _ids(records: list[Record], key: str) -> list[str]:
    return [r[key] for r in records if isinstance(r.get(key), str) and "}" not in r[key]]


@dataclass(frozen=True)
class StoklySamples:
    """What one sampling pass read: the channel, the locations, every route's probes and records."""

    channel_probe: Probe
    channel: Record | None
    locations: list[Record]
    designated: str | None
    probes: list[Probe]
    records: dict[str, list[Record]]


async def _lookup(s: Sampler, where: str, size: int) -> list[Record]:
    """A few items of one format, to find ids for the structure routes (not judged, not calibrated)."""
    return await s.page("/v0/items", "/v0/items", filter=where, size=size, probe=False, keep=False)


async def _structure(s: Sampler) -> None:
    """Kit components and variants of a few items (read only for items of those formats)."""
    kits = _ids(await _lookup(s, "[format]=={1}", 5), "itemId")
    if kits:
        await s.page("/v0/composing-items", "/v0/composing-items",
                     filter=f"[itemId]=*{{{','.join(map(literal, kits))}}}")
    else:
        s.nothing("/v0/composing-items")
    parents = _ids(await _lookup(s, "[format]=={2}", 1), "itemId")
    if parents:
        await s.page(f"/v0/items/{parents[0]}/children", "/v0/items/{id}/children")
    else:
        s.nothing("/v0/items/{id}/children")


async def _stock(s: Sampler, config: StoklyConfig, channel: Record | None) -> list[Record]:
    locations = await s.page("/v0/locations", "/v0/locations", size=1000)
    alloc = channel.get(CHANNEL_ALLOCATE_SOLD_LOCATION) if channel else None
    s.designated = config.location_id or (alloc if isinstance(alloc, str) and alloc else None)
    where = all_of("[binId]=={UNASSIGNED}", "[locationId]!={UNASSIGNED}",
                   f"[locationId]=={{{literal(s.designated)}}}" if s.designated and "}" not in s.designated else None)
    if s.designated and any(r.get("locationId") == s.designated for r in locations):
        await s.page(f"/v0/locations/{s.designated}/bins", "/v0/locations/{id}/bins")
    else:
        s.nothing("/v0/locations/{id}/bins")
    await s.page("/v1/inventory-records", "/v1/inventory-records", filter=where)
    return locations


async def _orders(s: Sampler) -> None:
    orders = _ids(await s.page("/v2/saleorders", "/v2/saleorders", sort="niceId"), "saleOrderId")
    if not orders:
        s.nothing("/v2/saleorders/{id}/items")
        return
    probe, _ = await s.one(f"/v2/saleorders/{orders[0]}", "/v2/saleorders/{id}")
    s.probes.append(probe)
    for order_id in orders[:LINE_ORDERS]:
        if len(s.records.get("/v2/saleorders/{id}/items", [])) >= SAMPLE:
            break
        await s.page(f"/v2/saleorders/{order_id}/items", "/v2/saleorders/{id}/items")
    await s.page(SHIPMENTS_PATH.format(sale_order_id=orders[0]), SHIPMENTS_PATH, keep=False)


async def _documents(s: Sampler) -> None:
    await s.page("/v0/invoices", "/v0/invoices", sort="niceId")
    await s.page(ACCOUNT_SHIPMENTS_PATH, ACCOUNT_SHIPMENTS_PATH, sort=SHIPMENT.dispatched_at)
    await s.page(CREDIT_NOTES_PATH, CREDIT_NOTES_PATH, sort=CREDIT_NOTE.nice_id,
                 filter=f"[{CREDIT_NOTE.reference_type}]=={{{REFERENCE_TYPE_SALE_INVOICE}}}")


async def sample_stokly(config: StoklyConfig, client: StoklyClient) -> StoklySamples:
    """Read every route once (GET only) and return what came back."""
    s = Sampler(client)
    channel = await s.one(f"/v0/channels/{config.channel_id}", "/v0/channels/{id}")
    await s.page("/v0/channels", "/v0/channels")
    locations = await _stock(s, config, channel[1])
    await s.page("/v0/items", "/v0/items")
    await _structure(s)
    await s.page(f"/v0/channels/{config.channel_id}/listings", "/v0/channels/{id}/listings", filter="[status]!={2}")
    await s.page("/v0/customers", "/v0/customers")
    await _orders(s)
    await _documents(s)
    return StoklySamples(channel[0], channel[1], locations, s.designated, s.probes, s.records)
