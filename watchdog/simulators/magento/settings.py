"""Switches of the simulated Magento instance (store configuration, not Magento API).

Every field mirrors a real Magento configuration path or a documented version
difference, so tests can exercise both sides of it. ``SimSettings`` is frozen;
change it with ``dataclasses.replace`` (``/_sim/settings`` does exactly that).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal

__all__ = ["SimSettings"]

ParamOrder = Literal["natural", "byte"]
OverShip = Literal["clamp", "reject"]


@dataclass(frozen=True, slots=True)
class SimSettings:
    """Configuration of one simulated store.

    - ``input_limits``: ``webapi/validation/input_limit_enabled`` (Magento default off). When on,
      ``pageSize`` > ``max_page_size`` is refused, a missing ``pageSize`` means ``default_page_size``,
      and arrays of objects longer than ``complex_array_limit`` are refused.
    - ``integration_as_bearer``: ``oauth/consumer/enable_integration_as_bearer`` (Magento default
      off since 2.4.4; on here so the simple Bearer setup works out of the box).
    - ``two_factor_auth``: ``Magento_TwoFactorAuth`` enabled: the admin token endpoint refuses.
    - ``oauth_param_order``: how the server sorts signature parameters: ``natural`` (Laminas
      ``uksort(strnatcmp)``, 2.4.x up to the Laminas removal) or ``byte`` (``ksort``, later releases).
    - ``oauth_max_age_s``: refuse timestamps older than this. Magento refuses only timestamps more
      than ``oauth_future_s`` in the future (nonces stop replays), so ``None`` is the faithful value.
    - ``ids_as_strings``: ``ship``/``refund``/``invoice`` return the new id as a JSON string.
    - ``over_ship``: ``clamp`` (ShipmentFactory caps the qty at what is left, as in the 2.3/2.4
      sources read) or ``reject`` (QuantityValidator refuses it: the texts of section 9).
    - ``shipment_list_source_code``: include ``extension_attributes.source_code`` in shipment
      *lists* (magento/magento2#24135 and #38294 report it missing there).
    """

    input_limits: bool = False
    max_page_size: int = 300
    default_page_size: int = 20
    complex_array_limit: int = 20
    async_array_limit: int = 5000
    integration_as_bearer: bool = True
    two_factor_auth: bool = False
    admin_token_ttl_s: int = 4 * 3600
    oauth_param_order: ParamOrder = "natural"
    oauth_future_s: int = 600
    oauth_max_age_s: int | None = None
    ids_as_strings: bool = False
    over_ship: OverShip = "clamp"
    shipment_list_source_code: bool = True

    def to_json(self) -> dict[str, Any]:
        """The settings as a JSON-ready dict."""
        return asdict(self)

    def updated(self, changes: dict[str, Any]) -> SimSettings:
        """A copy with ``changes`` applied; raises ValueError naming an unknown or mistyped key."""
        known = {f.name: f for f in fields(self)}
        for key, value in changes.items():
            if key not in known:
                raise ValueError(f"unknown setting {key!r}; expected one of {', '.join(known)}")
            current = getattr(self, key)
            if current is not None and not isinstance(value, type(current)) and value is not None:
                raise ValueError(f"setting {key!r} expects {type(current).__name__}")
        return replace(self, **changes)
