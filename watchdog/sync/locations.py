"""The designated Stokly location: where Magento orders are allocated and whose stock Magento sells."""

from __future__ import annotations

from dataclasses import dataclass

from watchdog.config import StoklyConfig
from watchdog.connectors.stokly import StoklyClient

__all__ = ["Designation", "designated_location"]


@dataclass(frozen=True)
class Designation:
    """The designated location, or why there is none usable (``problem``, for ``flow_run.note``)."""

    location_id: str | None
    problem: str | None = None
    channel_location_id: str | None = None  # the channel's own "Allocate Sold" location

    @property
    def usable(self) -> bool:
        return self.location_id is not None and self.problem is None


async def designated_location(stokly: StoklyClient, config: StoklyConfig) -> Designation:
    """The configured location, else the channel's "Allocate Sold" one; checked against Stokly's locations.

    Raises UpstreamError when Stokly cannot be read.
    """
    channel = await stokly.channel(config.channel_id)
    location_id = config.location_id or channel.allocate_sold_location_id
    if not location_id:
        return Designation(None, "no designated Stokly location (no location_id configured and the Magento "
                                 f"channel {channel.name!r} has no \"Allocate Sold\" location)")
    locations = {loc.location_id: loc for loc in await stokly.locations()}
    location = locations.get(location_id)
    if location is None:
        return Designation(location_id, f"the designated Stokly location {location_id} does not exist in Stokly",
                           channel.allocate_sold_location_id)
    if location.status != 0:
        return Designation(location_id, f"the designated Stokly location {location.name!r} is inactive",
                           channel.allocate_sold_location_id)
    return Designation(location_id, None, channel.allocate_sold_location_id)
