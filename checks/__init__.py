"""Built-in check modules, one per check id.

``BUILTIN`` maps each built-in check id to its class, written as an entry-point value
(``module:Class``). pyproject.toml declares the same lines in the ``watchdog.checks``
entry-point group, so built-ins load exactly as a third-party check does; a contract
test keeps the two lists equal. Adding a check: ``checks/<id>.py``,
``tests/checks/test_<id>.py``, ``docs/runbooks/<id>.md``, a line here and in pyproject.
"""

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["BUILTIN"]

BUILTIN: Mapping[str, str] = MappingProxyType({
    "stock_divergence": "checks.stock_divergence:StockDivergence",
    "missing_orders": "checks.missing_orders:MissingOrders",
    "rejected_tracking": "checks.rejected_tracking:RejectedTracking",
    "unlocated_stock": "checks.unlocated_stock:UnlocatedStock",
    "missing_credit_notes": "checks.missing_credit_notes:MissingCreditNotes",
    "sku_mismatch": "checks.sku_mismatch:SkuMismatch",
    "order_status_drift": "checks.order_status_drift:OrderStatusDrift",
    "stale_stock_push": "checks.stale_stock_push:StaleStockPush",
    "posting_sequence": "checks.posting_sequence:PostingSequence",
    "order_totals_mismatch": "checks.order_totals_mismatch:OrderTotalsMismatch",
    "sync_dead_letters": "checks.sync_dead_letters:SyncDeadLetters",
})
