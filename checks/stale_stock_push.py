"""stale_stock_push: the last successful stock push is older than its threshold (the "sync illusion").

Reads only the sync ledger view: ``last_success["stock"]`` (flow name: ``flow``). Older
than ``max_age`` (default 30m) is a warning, older than ``critical_after`` (default 2h)
critical; no successful push on record at all is critical. The latest note of the flow
(e.g. "no designated Stokly location") goes into the summary: it says why nothing moved.
Measure ``last_success_timestamp`` (Unix seconds; 0 = never). Neither it nor the summary
carries the age, so the finding does not churn while it stands (the age is ``now`` minus it).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import ClassVar

from watchdog.findings import Check, CheckContext, Finding, Severity, Team

__all__ = ["StaleStockPush"]


class StaleStockPush:
    id: ClassVar[str] = "stale_stock_push"
    owner: ClassVar[Team] = Team.PLATFORM
    runbook: ClassVar[str] = "docs/runbooks/stale_stock_push.md"
    needs: ClassVar[frozenset[str]] = frozenset({"ledger"})

    def run(self, ctx: CheckContext) -> Iterable[Finding]:
        flow = ctx.setting("flow", "stock")
        last = ctx.ledger.last_success.get(flow)
        if last is not None and ctx.now - last <= ctx.duration("max_age", timedelta(minutes=30)):
            return
        critical = last is None or ctx.now - last > ctx.duration("critical_after", timedelta(hours=2))
        yield Finding(
            check=self.id, subject=f"flow:{flow}", severity=Severity.CRITICAL if critical else Severity.WARNING,
            owner=self.owner, summary=self._summary(ctx, flow, last),
            measures={"last_success_timestamp": int(last.timestamp()) if last is not None else 0},
        )

    def _summary(self, ctx: CheckContext, flow: str, last: datetime | None) -> str:
        note = ctx.ledger.notes.get(flow)
        why = f" (last run: {note})" if note else ""
        if last is None:
            return f"No successful {flow} push is on record{why}: Magento shows quantities Stokly never sent"
        return (f"The last successful {flow} push was at {last:%Y-%m-%d %H:%M} UTC{why}: Magento may be selling "
                "from quantities that no longer hold")


_: type[Check] = StaleStockPush
