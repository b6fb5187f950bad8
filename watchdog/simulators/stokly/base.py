"""The core of the simulated Stokly account: tables, lock, clock, seeded ids, deferred writes.

The domain mixins (catalogue, stock, sales, fulfilment) build on ``StateBase``; every public
method of theirs runs under one re-entrant lock, so the HTTP server thread and a test or a
trading simulation in another thread see a consistent account.
"""

from __future__ import annotations

import functools
import random
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Concatenate, ParamSpec, TypeVar

from watchdog.simulators.stokly.records import (
    NotFound,
    SimAdjustment,
    SimBin,
    SimChannel,
    SimCreditNote,
    SimCustomer,
    SimDispatch,
    SimError,
    SimInvoice,
    SimItem,
    SimListing,
    SimLocation,
    SimMovement,
    SimSaleOrder,
)
from watchdog.stokly_assumed import MSG_NOT_FOUND

__all__ = ["Clock", "StateBase", "locked", "utc_now"]

Clock = Callable[[], datetime]
P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S", bound="StateBase")
T = TypeVar("T")


def utc_now() -> datetime:
    """The wall clock, timezone-aware UTC."""
    return datetime.now(UTC)


def locked(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """Run a state method under the state's lock."""

    @functools.wraps(method)
    def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper


@dataclass(frozen=True, slots=True)
class _Pending:
    due: datetime
    seq: int
    write: Callable[[], object]
    label: str


class StateBase:
    """Tables of one simulated Stokly account. Deterministic for a given ``seed`` and clock."""

    def __init__(self, *, account_key: str = "acme", seed: int = 0, clock: Clock | None = None) -> None:
        self.account_key = account_key
        self.clock: Clock = clock or utc_now
        self._lock = threading.RLock()
        self._rng = random.Random(seed)
        self._nice: dict[str, int] = {}
        self._items: dict[str, SimItem] = {}
        self._locations: dict[str, SimLocation] = {}
        self._bins: dict[str, SimBin] = {}
        self._stock: dict[tuple[str, str], Decimal] = {}  # (itemId, binId) -> on hand
        self._movements: list[SimMovement] = []
        self._adjustments: dict[str, SimAdjustment] = {}
        self._channels: dict[str, SimChannel] = {}
        self._listings: dict[str, SimListing] = {}
        self._customers: dict[str, SimCustomer] = {}
        self._orders: dict[str, SimSaleOrder] = {}
        self._invoices: dict[str, SimInvoice] = {}
        self._dispatches: dict[str, SimDispatch] = {}
        self._credit_notes: dict[str, SimCreditNote] = {}
        self._pending: list[_Pending] = []
        self._seq = 0
        self.rejected_writes: list[str] = []  # deferred writes that failed when applied (label: message)

    # ------------------------------------------------------------------ ids and time

    def now(self) -> datetime:
        """The account's clock (UTC)."""
        return self.clock()

    @locked
    def new_id(self) -> str:
        """A fresh lowercase UUID v4, drawn from the seeded generator."""
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _next_nice(self, kind: str) -> int:
        self._nice[kind] = self._nice.get(kind, 0) + 1
        return self._nice[kind]

    # ------------------------------------------------------------------ eventual consistency

    @locked
    def defer(self, delay_s: float, write: Callable[[], object], label: str = "write") -> None:
        """Apply ``write`` once ``delay_s`` seconds of the clock have passed (at the next ``settle``)."""
        self._seq += 1
        self._pending.append(_Pending(self.now() + timedelta(seconds=delay_s), self._seq, write, label))

    @locked
    def settle(self) -> int:
        """Apply every deferred write that is due, oldest first; returns how many ran.

        A write that fails (SimError) is dropped and recorded in ``rejected_writes``, as an
        asynchronous Stokly would silently not process it.
        """
        now = self.now()
        due = sorted((p for p in self._pending if p.due <= now), key=lambda p: (p.due, p.seq))
        self._pending = [p for p in self._pending if p.due > now]
        for pending in due:
            try:
                pending.write()
            except SimError as exc:
                self.rejected_writes.append(f"{pending.label}: {exc.message}")
        return len(due)

    @locked
    def pending_writes(self) -> int:
        """How many accepted writes are not visible yet."""
        return len(self._pending)

    # ------------------------------------------------------------------ lookups

    @staticmethod
    def _get(table: dict[str, T], key: str) -> T:
        """``table[key]``; raises NotFound with Stokly's (assumed) text."""
        try:
            return table[key]
        except KeyError:
            raise NotFound(MSG_NOT_FOUND) from None
