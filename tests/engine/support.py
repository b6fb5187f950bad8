"""Shared builders for engine tests: an integration config and small fake checks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any, ClassVar

from checks.stock_divergence import StockDivergence
from tests.checks.factories import CHANNEL, NOW, item, level, magento_snapshot, source_item, stokly_snapshot
from watchdog.config import IntegrationConfig, MagentoConfig, StoklyConfig
from watchdog.findings import CheckContext, Finding, Severity, Team, need
from watchdog.model import LedgerView, MagentoSnapshot, StoklySnapshot
from watchdog.registry import Registry, registry_of
from watchdog.secret import Secret

__all__ = ["NOW", "Boom", "integration", "registry", "snapshots"]


def integration(checks: Mapping[str, Mapping[str, Any]] | None = None, name: str = "acme") -> IntegrationConfig:
    magento = MagentoConfig(base_url="https://shop.example.com", auth="bearer", source_code="stokly_main",
                            bearer_token=Secret("t"))
    stokly = StoklyConfig(base_url="https://api.stok.ly", account_key=Secret("a"), client_id=Secret("b"),
                          client_secret=Secret("c"), channel_id=CHANNEL)
    return IntegrationConfig(name=name, currency="GBP", timezone="Europe/London", magento=magento, stokly=stokly,
                             checks=MappingProxyType(dict(checks or {})))


class Boom:
    """A fake check: one finding per source item above 100 units; crashes on the SKU "BOOM"."""

    id: ClassVar[str] = "boom"
    owner: ClassVar[Team] = Team.PLATFORM
    runbook: ClassVar[str] = "docs/runbooks/check_failed.md"
    needs: ClassVar[frozenset[str]] = frozenset({"magento.source_items"})

    def run(self, ctx: CheckContext) -> Iterable[Finding]:
        for si in need(ctx.magento.source_items, "magento.source_items"):
            if si.sku == "BOOM":
                raise RuntimeError("division by zero, somewhere")
            if si.quantity > 100:
                yield Finding(check=self.id, subject=f"sku:{si.sku}", severity=Severity.INFO, owner=self.owner,
                              summary=f"{si.sku} is big", measures={"qty": si.quantity})


def registry() -> Registry:
    return registry_of([("stock_divergence", "checks", StockDivergence), ("boom", "tests", Boom)])


def snapshots(magento_qty: dict[str, int], *, stokly_ok: bool = True,
              stokly_qty: int = 5) -> tuple[MagentoSnapshot, StoklySnapshot, LedgerView]:
    """Magento source quantities per SKU against Stokly holding ``stokly_qty`` of each."""
    skus = sorted(magento_qty)
    magento = magento_snapshot(source_items=[source_item(s, q) for s, q in magento_qty.items()])
    if stokly_ok:
        stokly = stokly_snapshot(items=[item(s) for s in skus], stock_levels=[level(s, stokly_qty) for s in skus])
    else:
        stokly = stokly_snapshot(items=[item(s) for s in skus], stock_levels=None,
                                 errors={"stock_levels": "HTTP 503 after 4 attempts"})
    return magento, stokly, LedgerView()
