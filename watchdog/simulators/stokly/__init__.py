"""The embedded Stokly simulator: an in-memory account (``StoklyState``) served as Stokly's REST API.

Use in-process with ``httpx.ASGITransport(app=create_app(state))`` or over real HTTP with
``ServedApp(create_app(state)).start()``. Assumed shapes come from ``watchdog.stokly_assumed``.
"""

from watchdog.simulators.stokly.app import StoklySimApp, create_app
from watchdog.simulators.stokly.auth import sign
from watchdog.simulators.stokly.filters import FilterError
from watchdog.simulators.stokly.records import (
    CreditLineSpec,
    CreditNoteSpec,
    Invalid,
    InvoiceLineSpec,
    LineSpec,
    NotFound,
    Shipping,
    SimError,
)
from watchdog.simulators.stokly.settings import StoklySimSettings
from watchdog.simulators.stokly.state import StoklyState

__all__ = [
    "CreditLineSpec",
    "CreditNoteSpec",
    "FilterError",
    "Invalid",
    "InvoiceLineSpec",
    "LineSpec",
    "NotFound",
    "Shipping",
    "SimError",
    "StoklySimApp",
    "StoklySimSettings",
    "StoklyState",
    "create_app",
    "sign",
]
