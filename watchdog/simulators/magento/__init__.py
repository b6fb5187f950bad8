"""A faithful Magento 2.4 REST simulator (MSI, orders, shipments, credit memos, invoices, auth).

``create_app(MagentoState(...))`` gives an ASGI app to serve with ``ServedApp`` or to call through
``httpx.ASGITransport``; the state object is also the in-process domain API for scenarios.
"""

from .app import create_app
from .errors import MagentoError
from .settings import SimSettings
from .specs import (
    AddressSpec,
    BundleOptionSpec,
    CustomerSpec,
    IntegrationCredentials,
    OrderItemSpec,
    Reservation,
    ShippingSpec,
    SimClock,
    TrackSpec,
)
from .state import MagentoState

__all__ = [
    "AddressSpec",
    "BundleOptionSpec",
    "CustomerSpec",
    "IntegrationCredentials",
    "MagentoError",
    "MagentoState",
    "OrderItemSpec",
    "Reservation",
    "ShippingSpec",
    "SimClock",
    "SimSettings",
    "TrackSpec",
    "create_app",
]
