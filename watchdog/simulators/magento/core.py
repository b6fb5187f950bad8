"""Storage of the simulated store: tables, id sequences, the lock and the clock.

``StateCore`` is the base of the operation classes (catalog, inventory, sales, shipping,
refunds, access) that ``MagentoState`` combines. Every public operation runs under one
re-entrant lock, so the HTTP app (one thread) and in-process callers (others) can share it.
"""

from __future__ import annotations

import functools
import random
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from .records import (
    AdminTokenRec,
    AdminUserRec,
    BulkRec,
    CreditMemoRec,
    IntegrationRec,
    InvoiceRec,
    OrderRec,
    ProductRec,
    ShipmentRec,
    SourceItemRec,
    SourceRec,
    StockRec,
    TrackRec,
)
from .settings import SimSettings
from .specs import Reservation

__all__ = ["Clock", "StateCore", "locked", "utc_now"]

Clock = Callable[[], datetime]
F = TypeVar("F", bound=Callable[..., Any])


def utc_now() -> datetime:
    """The wall clock in UTC (the default clock)."""
    return datetime.now(UTC)


def locked(method: F) -> F:
    """Run ``method`` while holding the state's lock."""

    @functools.wraps(method)
    def wrapper(self: StateCore, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            return method(self, *args, **kwargs)

    return cast(F, wrapper)


class StateCore:
    """Tables of one Magento instance. Not thread-safe by itself: use ``lock`` (or ``@locked``)."""

    def __init__(self, *, seed: int = 0, clock: Clock = utc_now, settings: SimSettings | None = None) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.settings = settings or SimSettings()
        self.rng = random.Random(seed)
        self._sequences: dict[str, int] = {}
        self.products: dict[str, ProductRec] = {}
        self.sources: dict[str, SourceRec] = {}
        self.stocks: dict[int, StockRec] = {}
        self.links: dict[tuple[int, str], int] = {}  # (stock_id, source_code) -> priority
        self.source_items: dict[tuple[str, str], SourceItemRec] = {}
        self.reservations: list[Reservation] = []
        self.orders: dict[int, OrderRec] = {}
        self.shipments: dict[int, ShipmentRec] = {}
        self.tracks: dict[int, TrackRec] = {}
        self.invoices: dict[int, InvoiceRec] = {}
        self.credit_memos: dict[int, CreditMemoRec] = {}
        self.bulks: dict[str, BulkRec] = {}
        self.integrations: dict[int, IntegrationRec] = {}
        self.admin_users: dict[str, AdminUserRec] = {}
        self.admin_tokens: dict[str, AdminTokenRec] = {}
        self.nonces: set[tuple[int, str]] = set()

    def now(self) -> datetime:
        """The simulated current time (timezone-aware UTC, whole seconds like Magento's columns)."""
        return self.clock().astimezone(UTC).replace(microsecond=0)

    def next_id(self, sequence: str) -> int:
        """The next value of ``sequence`` (1, 2, ...), one sequence per table."""
        value = self._sequences.get(sequence, 0) + 1
        self._sequences[sequence] = value
        return value

    def random_token(self, length: int = 32) -> str:
        """A deterministic (seeded) lowercase alphanumeric token, like Magento's OAuth helper."""
        alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
        return "".join(self.rng.choice(alphabet) for _ in range(length))

    def random_uuid(self) -> str:
        """A deterministic (seeded) UUID4 string."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def product_by_id(self, product_id: int) -> ProductRec | None:
        """The product with this entity id, or None."""
        return next((p for p in self.products.values() if p.id == product_id), None)
