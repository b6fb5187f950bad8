"""Request-side types of the Magento connector: credentials, write requests, search filters,
change feeds, bulk status, and the searchCriteria query builder."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from watchdog.connectors.http import UpstreamError
from watchdog.model import SourceItem, Track
from watchdog.secret import Secret

__all__ = [
    "AdminLogin", "BearerToken", "BulkOperation", "BulkStatus", "ChangeFeed", "Groups", "ItemQty", "MagentoAuth",
    "OAuth1Credentials", "SearchFilter", "ShipRequest", "criteria", "is_already_shipped", "number", "renews",
    "source_item_body", "timestamp_value", "updated_groups", "value_groups",
]

T = TypeVar("T")
IDS_PER_FILTER = 100
MAX_FILTERS_PER_GROUP = 10
TS = "%Y-%m-%d %H:%M:%S"
ALREADY_SHIPPED = ("The order does not allow a shipment to be created", "You can't create a shipment without products")


@dataclass(frozen=True, slots=True)
class BearerToken:
    """An integration access token (needs ``enable_integration_as_bearer``) or an admin token."""

    token: Secret


@dataclass(frozen=True, slots=True)
class OAuth1Credentials:
    """The four values of an activated Magento integration (requests are OAuth 1.0a signed)."""

    consumer_key: Secret
    consumer_secret: Secret
    access_token: Secret
    access_token_secret: Secret


@dataclass(frozen=True, slots=True)
class AdminLogin:
    """An admin user's name and password: the client signs in for an admin token and again after a 401."""

    username: str
    password: Secret


MagentoAuth = BearerToken | OAuth1Credentials | AdminLogin


def renews(auth: MagentoAuth) -> bool:
    """True when the client can get fresh credentials itself (an admin login); a token or OAuth cannot."""
    return isinstance(auth, AdminLogin)


@dataclass(frozen=True, slots=True)
class ItemQty:
    order_item_id: int
    qty: Decimal


@dataclass(frozen=True, slots=True)
class ShipRequest:
    """What ``ship`` sends; empty ``items`` ships everything still shippable."""

    items: tuple[ItemQty, ...]
    tracks: tuple[Track, ...] = ()
    source_code: str | None = None
    notify: bool = True
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class SearchFilter:
    """One searchCriteria filter (each becomes its own AND-ed group)."""

    field: str
    value: str
    condition_type: str = "eq"


@dataclass(frozen=True, slots=True)
class ChangeFeed(Generic[T]):
    """A list endpoint readable by ``updated_at`` (orders, credit memos, shipments, invoices)."""

    path: str
    parse: Callable[[Any, str], T]

    @property
    def route(self) -> str:
        return f"GET /V1{self.path}"


Groups = Sequence[Sequence[SearchFilter]]


def criteria(groups: Groups, sort: Sequence[tuple[str, str]], size: int, page: int) -> list[tuple[str, str]]:
    """searchCriteria query parameters: one group per inner list (AND), filters in a group OR-ed."""
    params: list[tuple[str, str]] = []
    for g, group in enumerate(groups):
        for f, flt in enumerate(group):
            prefix = f"searchCriteria[filter_groups][{g}][filters][{f}]"
            params += [(f"{prefix}[field]", flt.field), (f"{prefix}[value]", flt.value),
                       (f"{prefix}[condition_type]", flt.condition_type)]
    for s, (field_name, direction) in enumerate(sort):
        params += [(f"searchCriteria[sortOrders][{s}][field]", field_name),
                   (f"searchCriteria[sortOrders][{s}][direction]", direction)]
    return [*params, ("searchCriteria[pageSize]", str(size)), ("searchCriteria[currentPage]", str(page))]


def value_groups(field_name: str, values: Sequence[str]) -> list[list[SearchFilter]]:
    """One group per batch: an ``in`` filter, or ``eq`` filters for values holding a comma."""
    plain = [v for v in values if "," not in v]
    odd = [v for v in values if "," in v]
    groups = [[SearchFilter(field_name, ",".join(plain[i:i + IDS_PER_FILTER]), "in")]
              for i in range(0, len(plain), IDS_PER_FILTER)]
    groups += [[SearchFilter(field_name, v) for v in odd[i:i + MAX_FILTERS_PER_GROUP]]
               for i in range(0, len(odd), MAX_FILTERS_PER_GROUP)]
    return groups


def timestamp_value(moment: datetime) -> str:
    """A datetime as Magento's UTC ``YYYY-MM-DD HH:MM:SS`` filter value."""
    return moment.astimezone(UTC).strftime(TS)


def number(value: Decimal | int) -> int | float:
    """A quantity or amount as the JSON number Magento expects (integral values without a fraction)."""
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)


def is_already_shipped(exc: UpstreamError) -> bool:
    """True for the 400 Magento answers when nothing is left to ship (a retried or duplicate ship)."""
    raw = exc.body.get("message") if isinstance(exc.body, dict) else None
    texts = f"{raw or ''}\n{exc.message}"
    return exc.status == 400 and any(marker in texts for marker in ALREADY_SHIPPED)


@dataclass(frozen=True, slots=True)
class BulkOperation:
    id: int
    status: int  # 1 complete, 2 failed (retriable), 3 failed, 4 open, 5 rejected
    result_message: str
    error_code: int | None = None


@dataclass(frozen=True, slots=True)
class BulkStatus:
    """``GET /V1/bulk/{uuid}/status``: one entry per queued request body."""

    bulk_uuid: str
    operation_count: int
    operations: tuple[BulkOperation, ...]

    @property
    def complete(self) -> bool:
        """Every operation finished successfully."""
        return len(self.operations) == self.operation_count and all(o.status == 1 for o in self.operations)

    @property
    def failed(self) -> tuple[BulkOperation, ...]:
        """Operations that failed (retriable or not) or were rejected."""
        return tuple(o for o in self.operations if o.status in (2, 3, 5))


def updated_groups(start: datetime | None, end: datetime | None) -> list[list[SearchFilter]]:
    """``updated_at`` bounds as filter groups (``gteq`` start, ``lteq`` end)."""
    groups = []
    if start is not None:
        groups.append([SearchFilter("updated_at", timestamp_value(start), "gteq")])
    if end is not None:
        groups.append([SearchFilter("updated_at", timestamp_value(end), "lteq")])
    return groups


def source_item_body(item: SourceItem) -> dict[str, Any]:
    """A source item as the ``sourceItems`` entry Magento expects."""
    return {"sku": item.sku, "source_code": item.source_code, "quantity": number(item.quantity),
            "status": item.status}
