"""What a sync run reports: per-record outcomes, per-flow results, the run's summary.

``SyncSummary.counts()`` is the ``"sync"`` section of the demo's ``summary.json``
(design.md section 9): per flow ``written``, ``skipped``, ``failed``, ``dead``.
``record_flow_run`` writes one ``flow_run`` row per flow run, which the watchdog's
``stale_stock_push`` and ``unlocated_stock`` checks and the metrics read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from watchdog.store.db import Store
from watchdog.store.models_sync import FlowRunRow

__all__ = ["FlowResult", "Outcome", "RunOutcome", "SyncSummary", "Tally", "record_flow_run"]


class Outcome(StrEnum):
    """What became of one record in one run."""

    WRITTEN = "written"  # this run wrote it to the target
    SKIPPED = "skipped"  # nothing to do: already there, unchanged, or held by another worker
    FAILED = "failed"  # will be retried
    DEAD = "dead"  # given up: a person must look
    QUARANTINED = "quarantined"  # the source record is bad: a person must fix it


class RunOutcome(StrEnum):
    """How a flow run went (the ``flow_run.outcome`` vocabulary)."""

    OK = "ok"
    PARTIAL = "partial"  # some records failed, were given up or quarantined (the ledger has them)
    FAILED = "failed"  # the run could not do its job (unreadable feed, refused credentials, a bug)
    SKIPPED = "skipped"  # the run had nothing it could do (e.g. no designated location)


@dataclass
class Tally:
    """Counts of one flow run (mutable while the run goes; frozen into a ``FlowResult``)."""

    written: int = 0
    skipped: int = 0
    failed: int = 0
    dead: int = 0
    quarantined: int = 0

    def add(self, outcome: Outcome, count: int = 1) -> None:
        if outcome is Outcome.WRITTEN:
            self.written += count
        elif outcome is Outcome.SKIPPED:
            self.skipped += count
        elif outcome is Outcome.FAILED:
            self.failed += count
        else:
            self.dead += count  # quarantined records are dead letters too
            self.quarantined += count if outcome is Outcome.QUARANTINED else 0

    @property
    def seen(self) -> int:
        return self.written + self.skipped + self.failed + self.dead


@dataclass(frozen=True)
class FlowResult:
    """One run of one flow. ``dead`` includes ``quarantined``."""

    flow: str
    outcome: RunOutcome
    started_at: datetime
    finished_at: datetime
    written: int = 0
    skipped: int = 0
    failed: int = 0
    dead: int = 0
    quarantined: int = 0
    note: str | None = None

    @classmethod
    def of(cls, flow: str, tally: Tally, started_at: datetime, finished_at: datetime, *,
           aborted: str | None = None, note: str | None = None) -> FlowResult:
        """The result of a run that counted ``tally``; ``aborted`` names why it stopped early."""
        if aborted is not None:
            outcome, note = RunOutcome.FAILED, aborted
        else:  # records that failed are the ledger's to retry or report; the run itself did its job
            outcome = RunOutcome.PARTIAL if tally.failed or tally.dead else RunOutcome.OK
        return cls(flow, outcome, started_at, finished_at, tally.written, tally.skipped, tally.failed, tally.dead,
                   tally.quarantined, note)

    def counts(self) -> dict[str, int]:
        return {"written": self.written, "skipped": self.skipped, "failed": self.failed, "dead": self.dead}


@dataclass(frozen=True)
class SyncSummary:
    """Every flow run of one ``run_flows`` call, in the order they ran."""

    integration: str
    flows: Mapping[str, FlowResult] = field(default_factory=dict)

    def counts(self) -> dict[str, dict[str, int]]:
        """``{flow: {"written", "skipped", "failed", "dead"}}`` for summary.json."""
        return {name: result.counts() for name, result in self.flows.items()}

    @property
    def ok(self) -> bool:
        """True when no flow run failed outright (partial runs and dead letters are reported, not fatal)."""
        return all(r.outcome is not RunOutcome.FAILED for r in self.flows.values())


def record_flow_run(store: Store, integration: str, result: FlowResult) -> None:
    """Write the ``flow_run`` row of ``result``."""
    with store.session() as s:
        s.add(FlowRunRow(integration=integration, flow=result.flow, started_at=result.started_at,
                         finished_at=result.finished_at, outcome=result.outcome.value, written=result.written,
                         skipped=result.skipped, failed=result.failed, dead=result.dead, note=result.note))
