"""Read both systems into immutable snapshots, concurrently and in bulk.

Each part (source items, orders in the window, dispatches, ...) is read with paged
bulk calls, never one call per record; salable quantity is asked only for the few
SKUs that already look divergent ("suspects"). A part that fails is left as None
with the reason in ``errors``; checks that need it are NOT_EVALUATED instead of
reporting on half the truth. Reads are tolerant (``watchdog.connectors.shape``): a
record that cannot be read is set aside and a field that cannot be read is unknown,
each noted in the snapshot's ``shape``; a read fails only when most records are bad.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from watchdog.config import IntegrationConfig
from watchdog.connectors.http import UpstreamError
from watchdog.connectors.magento import MagentoClient
from watchdog.connectors.shape import ShapeLog, collecting
from watchdog.connectors.stokly import StoklyClient
from watchdog.model import MagentoSnapshot, ShapeProblem, StoklySnapshot
from watchdog.stockmath import available_at, expected_source_quantities, open_imported_quantities, unknown_at

__all__ = ["SnapshotPolicy", "take_snapshots"]

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class SnapshotPolicy:
    """How far back the order-shaped parts reach, and how many suspects get a salable read."""

    window: timedelta = timedelta(hours=72)
    max_salable_suspects: int = 50


async def take_snapshots(
    integration: IntegrationConfig,
    magento: MagentoClient,
    stokly: StoklyClient,
    now: datetime,
    policy: SnapshotPolicy | None = None,
) -> tuple[MagentoSnapshot, StoklySnapshot]:
    """Both snapshots, read concurrently. Never raises for an unreachable system."""
    policy = policy or SnapshotPolicy()
    since = now - policy.window
    (m_parts, m_errors, m_shape), (s_parts, s_errors, s_shape) = await asyncio.gather(
        _read_parts(_magento_parts(integration, magento, since)),
        _read_parts(_stokly_parts(integration, stokly, since)),
    )
    m_snap = MagentoSnapshot(taken_at=now, source_code=integration.magento.source_code,
                             stock_id=integration.magento.stock_id, errors=m_errors, shape=m_shape, **m_parts)
    s_snap = StoklySnapshot(taken_at=now, channel_id=integration.stokly.channel_id,
                            location_id=integration.stokly.location_id, errors=s_errors, shape=s_shape, **s_parts)
    for system, errors in (("magento", m_errors), ("stokly", s_errors)):
        for part, why in errors.items():
            log.warning("%s: %s %s could not be read: %s", integration.name, system, part, why)
    salable = await _salable_for_suspects(magento, m_snap, s_snap, policy.max_salable_suspects)
    if salable is not None:
        m_snap = _replace(m_snap, salable=salable)
    return m_snap, s_snap


def _replace(snap: MagentoSnapshot, **changes: Any) -> MagentoSnapshot:
    fields = {name: getattr(snap, name) for name in snap.__dataclass_fields__}
    return MagentoSnapshot(**{**fields, **changes})


def _magento_parts(integration: IntegrationConfig, m: MagentoClient,
                   since: datetime) -> dict[str, Callable[[], Awaitable[Any]]]:
    source = integration.magento.source_code
    return {
        "products": lambda: _tuple(m.products()),
        "sources": lambda: _tuple(m.sources()),
        "source_items": lambda: _tuple(m.source_items(source_code=source)),
        "orders": lambda: _tuple(m.orders(updated_from=since)),
        "shipments": lambda: _tuple(m.shipments()),
        "credit_memos": lambda: _tuple(m.credit_memos(updated_from=since)),
        "invoices": lambda: _tuple(m.invoices()),
    }


def _stokly_parts(integration: IntegrationConfig, s: StoklyClient,
                  since: datetime) -> dict[str, Callable[[], Awaitable[Any]]]:
    channel_id = integration.stokly.channel_id
    return {
        "channel": lambda: s.channel(channel_id),
        "items": lambda: _tuple(s.items()),
        "locations": lambda: _tuple(s.locations()),
        "stock_levels": lambda: _tuple(s.stock_levels()),
        "listings": lambda: _tuple(s.listings(channel_id)),
        "sale_orders": lambda: _tuple(s.sale_orders(created_from=since - timedelta(days=1))),
        "dispatches": lambda: _tuple(s.dispatches(since=since)),
        "invoices": lambda: _tuple(s.invoices(issued_from=since)),
        "credit_notes": lambda: _tuple(s.credit_notes(since=since)),
    }


async def _tuple(awaitable: Awaitable[list[T]]) -> tuple[T, ...]:
    return tuple(await awaitable)


async def _read_parts(
    parts: Mapping[str, Callable[[], Awaitable[Any]]],
) -> tuple[dict[str, Any], dict[str, str], tuple[ShapeProblem, ...]]:
    """Every part, concurrently: (values, part -> why it failed, shape problems met)."""
    names = list(parts)
    with collecting(ShapeLog()) as shape:
        results = await asyncio.gather(*(parts[n]() for n in names), return_exceptions=True)
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, result in zip(names, results, strict=True):
        if isinstance(result, UpstreamError):
            errors[name] = str(result)
            values[name] = None
        elif isinstance(result, BaseException):
            if not isinstance(result, Exception):
                raise result
            log.exception("reading %s failed unexpectedly", name, exc_info=result)
            errors[name] = f"{type(result).__name__}: could not read"
            values[name] = None
        else:
            values[name] = result
    return values, errors, shape.problems()


async def _salable_for_suspects(magento: MagentoClient, m: MagentoSnapshot, s: StoklySnapshot,
                                limit: int) -> dict[str, Decimal] | None:
    """Salable quantity for the SKUs whose source quantity already differs from the expectation."""
    location = s.designated_location_id
    if (limit <= 0 or not location or m.source_items is None or s.stock_levels is None or m.orders is None
            or s.sale_orders is None):
        return None
    current = {si.sku: si.quantity for si in m.source_items if si.source_code == m.source_code}
    expected = expected_source_quantities(current, available_at(s.stock_levels, location),
                                          open_imported_quantities(m.orders, s.sale_orders))
    unknown = unknown_at(s.stock_levels, location)
    suspects = sorted(sku for sku, qty in current.items() if qty != expected[sku] and sku not in unknown)[:limit]
    answers = await asyncio.gather(*(magento.salable_qty(sku, m.stock_id) for sku in suspects),
                                   return_exceptions=True)
    salable: dict[str, Decimal] = {}
    for sku, answer in zip(suspects, answers, strict=True):
        if isinstance(answer, Decimal):
            salable[sku] = answer
        elif isinstance(answer, UpstreamError):
            log.info("salable quantity of a suspect SKU unavailable: %s", answer)
        elif isinstance(answer, BaseException):
            raise answer
    return salable
