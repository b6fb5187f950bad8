"""The sync worker: orders, fulfilment (then postings), refunds and stock, each record exactly once.

Entry points: ``run_flows(integration, store, magento, stokly, flows)`` (one run; returns a
``SyncSummary`` whose ``counts()`` is summary.json's "sync" section, one entry per flow run:
``orders``, ``fulfilment``, ``postings``, ``refunds``, ``stock``) and ``Worker`` (the same, plus
``replay``). ``ledger`` holds the exactly-once machinery, ``runner`` what the record-by-record
flows share, and each flow's module what it does.
"""

from watchdog.sync.context import Progress, SyncObserver, WorkerOptions
from watchdog.sync.ledger import DeadLetter, Ledger, LedgerPolicy
from watchdog.sync.results import FlowResult, Outcome, RunOutcome, SyncSummary
from watchdog.sync.worker import FLOWS, REPLAYABLE, Worker, run_flows

__all__ = [
    "FLOWS",
    "REPLAYABLE",
    "DeadLetter",
    "FlowResult",
    "Ledger",
    "LedgerPolicy",
    "Outcome",
    "Progress",
    "RunOutcome",
    "SyncObserver",
    "SyncSummary",
    "Worker",
    "WorkerOptions",
    "run_flows",
]
