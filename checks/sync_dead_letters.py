"""sync_dead_letters: records the sync worker gave up on and a person must look at.

One finding per sync-ledger entry whose state is in ``states`` (default ``dead`` and
``quarantined``), subject ``ledger:<flow>:<source id>``. Warning; critical for the flows
in ``critical_flows`` (default ``orders`` and ``refunds``: a customer or the VAT return
waits on them). The summary carries the worker's last error. Measure ``attempts``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from watchdog.findings import Check, CheckContext, Finding, Severity, Team
from watchdog.model import LedgerEntry

__all__ = ["SyncDeadLetters"]

MAX_ERROR = 160


class SyncDeadLetters:
    id: ClassVar[str] = "sync_dead_letters"
    owner: ClassVar[Team] = Team.PLATFORM
    runbook: ClassVar[str] = "docs/runbooks/sync_dead_letters.md"
    needs: ClassVar[frozenset[str]] = frozenset({"ledger"})

    def run(self, ctx: CheckContext) -> Iterable[Finding]:
        states = set(ctx.setting("states", ["dead", "quarantined"]))
        critical = set(ctx.setting("critical_flows", ["orders", "refunds"]))
        seen: set[tuple[str, str]] = set()
        for entry in ctx.ledger.entries:
            key = (entry.flow, entry.source_id)
            if entry.state in states and key not in seen:
                seen.add(key)
                yield self._finding(entry, Severity.CRITICAL if entry.flow in critical else Severity.WARNING)

    def _finding(self, entry: LedgerEntry, severity: Severity) -> Finding:
        error = (entry.last_error or "no error recorded").splitlines()[0][:MAX_ERROR]
        return Finding(
            check=self.id, subject=f"ledger:{entry.flow}:{entry.source_id}", severity=severity, owner=self.owner,
            summary=(f"The {entry.flow} sync gave up on {entry.source_id} ({entry.state} after {entry.attempts} "
                     f"attempt(s)): {error}; fix the cause, then retry the record"),
            measures={"attempts": entry.attempts},
        )


_: type[Check] = SyncDeadLetters
