"""Settings of the simulated Stokly service (credentials, token lifetime, rate limit, consistency).

``StoklySimSettings`` is frozen; the running app holds it in a ``SettingsBox`` so that
``/_sim/settings`` (and tests) can swap in a changed copy atomically. The box also holds the
active read-shape rules (``ShapeRules``, changed by ``/_sim/shape`` or ``set_shape``).
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal

from watchdog.simulators.stokly.shape import ShapeRules
from watchdog.stokly_assumed import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    RATE_LIMIT_REQUESTS,
    RATE_LIMIT_WINDOW_S,
    TOKEN_LIFETIME_S,
)

__all__ = ["TUNABLE", "SettingsBox", "StoklySimSettings"]

#: Settings that ``/_sim/settings`` may change at run time (credentials may not).
TUNABLE = ("token_lifetime_s", "rate_limit", "rate_window_s", "rate_limit_scope", "consistency_delay_s",
           "default_page_size", "max_page_size")


@dataclass(frozen=True)
class StoklySimSettings:
    """How the simulated Stokly behaves. ``rate_limit=0`` turns the limit off (the header stays)."""

    account_key: str = "acme"
    client_id: str = "simclient0000000000000000a"
    client_secret: str = field(default="sim-secret", repr=False)
    token_lifetime_s: float = TOKEN_LIFETIME_S
    rate_limit: int = RATE_LIMIT_REQUESTS
    rate_window_s: float = RATE_LIMIT_WINDOW_S
    rate_limit_scope: Literal["account", "token"] = "account"
    consistency_delay_s: float = 0.0
    default_page_size: int = DEFAULT_PAGE_SIZE
    max_page_size: int = MAX_PAGE_SIZE

    def __post_init__(self) -> None:
        if self.token_lifetime_s <= 0 or self.rate_window_s <= 0:
            raise ValueError("token_lifetime_s and rate_window_s must be positive")
        if self.rate_limit < 0 or self.consistency_delay_s < 0:
            raise ValueError("rate_limit and consistency_delay_s must not be negative")
        if not 1 <= self.default_page_size <= self.max_page_size:
            raise ValueError("default_page_size must be between 1 and max_page_size")
        if self.rate_limit_scope not in ("account", "token"):
            raise ValueError("rate_limit_scope must be 'account' or 'token'")

    def public(self) -> dict[str, Any]:
        """The settings as JSON, without the client secret."""
        data = asdict(self)
        data.pop("client_secret")
        return data


class SettingsBox:
    """The current settings of a running app; ``update`` swaps in a validated copy."""

    def __init__(self, settings: StoklySimSettings, shape: ShapeRules | None = None) -> None:
        self._lock = threading.Lock()
        self._current = settings
        self._shape = shape or ShapeRules()

    @property
    def current(self) -> StoklySimSettings:
        return self._current

    @property
    def shape(self) -> ShapeRules:
        """The active read-shape rules (``ShapeRules()`` serves every field)."""
        return self._shape

    def set_shape(self, rules: ShapeRules) -> ShapeRules:
        """Serve reads through ``rules`` from the next request on; returns them."""
        with self._lock:
            self._shape = rules
            return rules

    def update(self, **changes: Any) -> StoklySimSettings:
        """Apply changes to tunable settings; raises ValueError for an unknown or bad one."""
        unknown = set(changes) - set(TUNABLE)
        if unknown:
            raise ValueError(f"cannot change {', '.join(sorted(unknown))}; tunable: {', '.join(TUNABLE)}")
        types = {f.name: f.type for f in fields(StoklySimSettings)}
        for name, value in changes.items():
            expected = {"float": (int, float), "int": (int,)}.get(str(types[name]))
            if expected and (isinstance(value, bool) or not isinstance(value, expected)):
                raise ValueError(f"{name} must be a{'n integer' if expected == (int,) else ' number'}")
        with self._lock:
            self._current = replace(self._current, **changes)
            return self._current
