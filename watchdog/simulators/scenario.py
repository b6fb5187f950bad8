"""Scenario files: a merchant for both simulators, with failure modes injected on top.

A scenario is a small TOML file::

    [merchant]
    seed = 7
    simple_skus = 40          # plain simple products
    configurables = 3         # each with ``variants`` simple children
    variants = 3
    bundles = 2               # fixed-SKU bundles (Stokly kits)
    orders = 60
    shipped_share = 0.5       # imported orders dispatched in Stokly and shipped in Magento
    refunded_share = 0.2      # of those, refunded in Magento with a Stokly credit note
    history = "6h"            # orders spread over this much time before "now"

    [[inject]]
    mode = "stock_divergence" # see MODES
    count = 2

    [stokly.shape]            # optional: what the Stokly simulator leaves out of its reads
    confirmed_only = true     # (see watchdog.simulators.stokly.shape.ShapeRules)
    drop = [{route = "/v2/saleorders", field = "tax"}]
    rename = [{route = "/v2/shipments", field = "trackingNumber", to = "tracking_no"}]

``build_merchant`` (in ``watchdog.simulators.merchant``) turns it into a Magento and a
Stokly simulator state that agree everywhere except where a failure was injected,
and returns the ground truth: the exact findings a correct watchdog must report,
and nothing else.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from watchdog.durations import parse_duration
from watchdog.simulators.clock import SimClock
from watchdog.simulators.stokly.shape import ShapeError, ShapeRules, parse_rules

__all__ = [
    "MODES",
    "Expected",
    "Injection",
    "ScenarioError",
    "ScenarioSpec",
    "SimClock",
    "builtin_scenario",
    "load_scenario",
    "parse_scenario",
]

#: Injectable failure modes, named by the check that must report them.
MODES = (
    "stock_divergence",  # Magento's source quantity edited away from what Stokly allows (alternating over/under)
    "missing_orders",  # a paid Magento order older than the settle window that never reached Stokly
    "rejected_tracking",  # Stokly dispatched with tracking; a person shipped by hand in Magento first
    "missing_credit_notes",  # a Magento refund after fulfilment with no Stokly credit note
    "unlocated_stock",  # stock held at a Stokly location that feeds no Magento source
    "sku_mismatch",  # a Magento product whose SKU is a case/whitespace near-miss of a Stokly SKU
    "order_status_drift",  # dispatched in Stokly without tracking, never shipped in Magento
)

SCENARIOS = Path(__file__).parent / "scenarios"


class ScenarioError(ValueError):
    """A scenario file is unreadable or has a bad key; the message names file, key and reason."""


@dataclass(frozen=True)
class Injection:
    mode: str
    count: int = 1


@dataclass(frozen=True)
class ScenarioSpec:
    seed: int = 7
    currency: str = "GBP"
    simple_skus: int = 40
    configurables: int = 3
    variants: int = 3
    bundles: int = 2
    orders: int = 60
    shipped_share: float = 0.5
    refunded_share: float = 0.2
    in_flight_orders: int = 2
    history: timedelta = timedelta(hours=6)
    injections: tuple[Injection, ...] = ()
    stokly_shape: ShapeRules = field(default_factory=ShapeRules)


@dataclass(frozen=True)
class Expected:
    """One finding a correct watchdog must report: its check, subject and the measures to match."""

    check: str
    subject: str
    measures: Mapping[str, Decimal] = field(default_factory=dict)


def load_scenario(path: str | Path) -> ScenarioSpec:
    """Read a scenario TOML file. Raises ScenarioError naming the file and key."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read scenario: {exc}") from None
    return parse_scenario(raw, str(path))


def builtin_scenario(name: str = "demo") -> ScenarioSpec:
    """One of the scenarios shipped in ``watchdog/simulators/scenarios/``."""
    return load_scenario(SCENARIOS / f"{name}.toml")


def parse_scenario(raw: Mapping[str, Any], source: str = "<scenario>") -> ScenarioSpec:
    """Validate a parsed scenario document. Raises ScenarioError naming the key."""
    merchant = raw.get("merchant", {})
    if not isinstance(merchant, Mapping):
        raise ScenarioError(f"{source}: merchant: must be a table")
    unknown = set(raw) - {"merchant", "inject", "stokly"}
    if unknown:
        raise ScenarioError(f"{source}: {sorted(unknown)[0]}: unknown key")
    defaults = ScenarioSpec()
    values: dict[str, Any] = {}
    for key, value in merchant.items():
        if key not in ScenarioSpec.__dataclass_fields__ or key in ("injections", "stokly_shape"):
            raise ScenarioError(f"{source}: merchant.{key}: unknown key")
        values[key] = _coerce(source, f"merchant.{key}", value, getattr(defaults, key))
    return ScenarioSpec(**values, injections=_injections(raw.get("inject", []), source),
                        stokly_shape=_stokly_shape(raw.get("stokly", {}), source))


def _coerce(source: str, key: str, value: Any, default: Any) -> Any:
    if isinstance(default, timedelta):
        try:
            return parse_duration(str(value))
        except ValueError as exc:
            raise ScenarioError(f"{source}: {key}: {exc}") from None
    if isinstance(default, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1
        if not ok:
            raise ScenarioError(f"{source}: {key}: must be a share between 0 and 1")
        return float(value)
    if isinstance(default, int):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ScenarioError(f"{source}: {key}: must be a non-negative integer")
        return value
    if not isinstance(value, str):
        raise ScenarioError(f"{source}: {key}: must be a string")
    return value


def _injections(raw: Any, source: str) -> tuple[Injection, ...]:
    if not isinstance(raw, list):
        raise ScenarioError(f"{source}: inject: must be an array of tables ([[inject]])")
    out: list[Injection] = []
    for i, item in enumerate(raw):
        key = f"inject[{i}]"
        if not isinstance(item, Mapping) or set(item) - {"mode", "count"}:
            raise ScenarioError(f"{source}: {key}: expected only 'mode' and 'count'")
        mode, count = item.get("mode"), item.get("count", 1)
        if mode not in MODES:
            raise ScenarioError(f"{source}: {key}.mode: {mode!r} is not one of {', '.join(MODES)}")
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ScenarioError(f"{source}: {key}.count: must be a positive integer")
        out.append(Injection(mode, count))
    return tuple(out)


def _stokly_shape(raw: Any, source: str) -> ShapeRules:
    """``[stokly.shape]``: the simulator's read-shape rules (``parse_rules``)."""
    if not isinstance(raw, Mapping):
        raise ScenarioError(f"{source}: stokly: must be a table")
    unknown = sorted(set(raw) - {"shape"})
    if unknown:
        raise ScenarioError(f"{source}: stokly.{unknown[0]}: unknown key")
    try:
        return parse_rules(raw.get("shape", {}))
    except ShapeError as exc:
        key = "stokly.shape" if exc.key == "shape" else f"stokly.shape.{exc.key}"
        raise ScenarioError(f"{source}: {key}: {exc.reason}") from None
