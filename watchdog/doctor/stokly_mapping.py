"""Stokly's side of the mapping: the channel exists and is a Magento channel (type 5), and the
designated location exists, is active and is the channel's "Allocate Sold" location (field
``allocateSoldLocationId``, an assumed name) or the difference is explained.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from watchdog.config import StoklyConfig
from watchdog.doctor.reads import Probe
from watchdog.doctor.verdicts import Check, Verdict
from watchdog.stokly_assumed import CHANNEL_ALLOCATE_SOLD_LOCATION

__all__ = ["channel_checks", "location_check"]

SYSTEM = "stokly"
MAGENTO_TYPE = 5
Record = Mapping[str, Any]
ALLOC = f"`{CHANNEL_ALLOCATE_SOLD_LOCATION}`"


def _named(record: Record, key: str) -> str:
    return f"{record.get(key)} ({record.get('name', '?')})"


def _magento_channels(channels: Sequence[Record]) -> str:
    found = [_named(c, "channelId") for c in channels if c.get("type") == MAGENTO_TYPE]
    return ", ".join(found[:10]) if found else "none: create the Magento channel in Stokly first"


def channel_checks(config: StoklyConfig, probe: Probe, channel: Record | None,
                   channels: Sequence[Record]) -> list[Check]:
    """The channel exists and is type 5 (Magento)."""
    what = f"channel {config.channel_id}"
    if channel is None:
        missing = probe.status == 404
        return [Check(SYSTEM, "mapping", what, Verdict.FAIL,
                      "does not exist in Stokly" if missing else f"could not be read: {probe.error}",
                      f"set [integrations.stokly] channel_id to the Magento channel's id; Magento channels in this "
                      f"account: {_magento_channels(channels)}" if missing else "run doctor again")]
    kind = channel.get("type")
    if kind != MAGENTO_TYPE:
        return [Check(SYSTEM, "mapping", what, Verdict.FAIL,
                      f"exists ({channel.get('name', '?')}) but is type {kind!r}, not {MAGENTO_TYPE} (Magento)",
                      f"point channel_id at a Magento channel: {_magento_channels(channels)}")]
    name = channel.get("name", "")
    return [Check(SYSTEM, "mapping", what, Verdict.PASS, f"exists and is a Magento channel ({name})")]


def _location_problem(location_id: str, locations: Sequence[Record]) -> Check | None:
    what = f"designated location {location_id}"
    found = [r for r in locations if r.get("locationId") == location_id]
    if not found:
        known = ", ".join(_named(r, "locationId") for r in locations[:10]) or "none"
        return Check(SYSTEM, "mapping", what, Verdict.FAIL, "does not exist in Stokly",
                     f"set [integrations.stokly] location_id to the location whose stock Magento sells; "
                     f"locations in this account: {known}")
    if found[0].get("status") not in (0, None):
        return Check(SYSTEM, "mapping", what, Verdict.FAIL, f"{found[0].get('name', '?')} is inactive",
                     "activate it in Stokly, or set location_id to an active location")
    return None


def _compare(config: StoklyConfig, channel: Record, name: str) -> Check:
    what = f"designated location {config.location_id}"
    alloc = channel.get(CHANNEL_ALLOCATE_SOLD_LOCATION)
    if alloc is None:
        return Check(SYSTEM, "mapping", what, Verdict.WARN,
                     f"{name} exists; the channel record carries no {ALLOC} (an assumed name): not compared with "
                     "the channel's Allocate Sold location",
                     "check the channel's Allocate Sold location in Stokly; if its record names it otherwise, "
                     "correct CHANNEL_ALLOCATE_SOLD_LOCATION in watchdog/stokly_assumed.py or tell us")
    if alloc != config.location_id:
        return Check(SYSTEM, "mapping", what, Verdict.WARN,
                     f"{name} is not the channel's Allocate Sold location {alloc}: Magento orders take stock there "
                     "while the sync pushes this location's stock to Magento",
                     f"make them the same (location_id = \"{alloc}\", or change the channel's Allocate Sold "
                     "location in Stokly) unless the difference is intended")
    return Check(SYSTEM, "mapping", what, Verdict.PASS, f"{name} exists, is active and is the channel's Allocate "
                 "Sold location")


def location_check(config: StoklyConfig, channel: Record | None, designated: str | None,
                   locations: Sequence[Record], read: Probe | None) -> Check:
    """The designated location (configured, else the channel's) exists, is active, agrees with the channel."""
    if read is not None and not read.ok:
        return Check(SYSTEM, "mapping", "designated location", Verdict.FAIL,
                     f"not verified: locations could not be read ({read.error})", "run doctor again")
    if designated is None:
        return Check(SYSTEM, "mapping", "designated location", Verdict.FAIL,
                     f"none: no location_id is configured and the channel has no {ALLOC}",
                     "set [integrations.stokly] location_id to the location whose stock Magento sells, or set "
                     "the channel's Allocate Sold location in Stokly")
    problem = _location_problem(designated, locations)
    if problem is not None:
        return problem
    name = next(str(r.get("name", "")) for r in locations if r.get("locationId") == designated)
    if config.location_id is None or channel is None:
        return Check(SYSTEM, "mapping", f"designated location {designated}", Verdict.PASS,
                     f"{name}: the channel's Allocate Sold location; exists and is active")
    return _compare(config, channel, name)
