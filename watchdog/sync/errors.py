"""Why a record could not be synced, and what the worker does about it.

One error type per boundary: the connectors raise ``UpstreamError`` (kind transient,
permanent or ambiguous); the flows raise ``RecordError`` for conditions of their own.
``classify`` turns either into an ``ErrorClass``, which the ledger maps to a next step::

    ErrorClass        next step                                    ledger state
    TRANSIENT         retry with exponential backoff               failed -> dead after N attempts
    AMBIGUOUS         a write may have landed: read back first,    failed -> dead after N attempts
                      never sooner than the ambiguous delay
    WAITING           depends on another record not done yet       failed (no attempt used) -> dead
                      (e.g. a refund waiting for its invoice)      after the maximum wait
    PERSON            a person must act (bad source record,        quarantined (ours) or dead (target's)
                      target refused the write)

Exceptions::

    RecordError                 reason + error class; never carries a secret
     ├── Quarantine             the source record is bad (unknown SKU, malformed); nothing was written
     ├── NeedsPerson            the target refused or something needs a decision
     ├── Waiting                a dependency is not done yet
     └── Retry                  a transient condition of our own (e.g. a write not visible yet)
    FlowAborted                 the whole flow cannot go on (bad credentials, unreadable feed)
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar

from watchdog.connectors.http import ErrorKind, UpstreamError
from watchdog.connectors.magento import is_already_shipped

__all__ = [
    "ErrorClass",
    "FlowAborted",
    "NeedsPerson",
    "Quarantine",
    "RecordError",
    "Retry",
    "Waiting",
    "classify",
    "is_flow_fatal",
]

COULD_NOT_SHIP = "Could not save a shipment"  # MSI source deduction failed: push stock, then retry (F8)
FATAL_STATUSES = frozenset({401, 403})


class ErrorClass(StrEnum):
    TRANSIENT = "transient"
    AMBIGUOUS = "ambiguous"
    WAITING = "waiting"
    PERSON = "person"


class RecordError(Exception):
    """One record cannot be synced now. ``reason`` is written for the person reading the ledger."""

    error_class: ClassVar[ErrorClass] = ErrorClass.TRANSIENT

    def __init__(self, reason: str, *, response: Any = None, target_id: str | None = None) -> None:
        self.reason = reason
        self.response = response  # what the target answered, if anything (kept in the dead letter)
        self.target_id = target_id  # a target record the failure is about (e.g. a hand-made shipment)
        super().__init__(reason)


class Quarantine(RecordError):
    """The source record is bad; nothing was written. Fix the source, then ``watchdog sync replay``."""

    error_class = ErrorClass.PERSON


class NeedsPerson(RecordError):
    """The target refused the write, or the situation needs a decision by a person."""

    error_class = ErrorClass.PERSON


class Waiting(RecordError):
    """The record depends on something not done yet; retried at the waiting interval."""

    error_class = ErrorClass.WAITING


class Retry(RecordError):
    """A transient condition of our own (e.g. a write Stokly has not shown yet)."""

    error_class = ErrorClass.TRANSIENT


class FlowAborted(Exception):
    """The flow cannot continue (credentials refused, feed unreadable); its run is recorded as failed."""


def is_flow_fatal(exc: UpstreamError) -> bool:
    """True when the error concerns the whole connection (credentials, permissions), not one record."""
    return exc.status in FATAL_STATUSES


def classify(exc: BaseException) -> ErrorClass:
    """The error class of anything a flow step raised (unknown exceptions are transient: a bug, retried)."""
    if isinstance(exc, RecordError):
        return exc.error_class
    if not isinstance(exc, UpstreamError):
        return ErrorClass.TRANSIENT
    if exc.system == "magento" and exc.status == 400:
        if is_already_shipped(exc):
            return ErrorClass.AMBIGUOUS
        if COULD_NOT_SHIP in exc.message:
            return ErrorClass.TRANSIENT
    return {ErrorKind.TRANSIENT: ErrorClass.TRANSIENT, ErrorKind.AMBIGUOUS: ErrorClass.AMBIGUOUS,
            ErrorKind.PERMANENT: ErrorClass.PERSON}[exc.kind]
