"""Stokly: the app grant, every route the service reads (one small page each), the channel and
location mapping, and the shape calibration of every route in ``READ_SHAPES``.

The only POST is the grant (``/v1/grant``); everything else is a GET through the client's own
plumbing. When the grant fails nothing else is read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from watchdog.config import StoklyConfig
from watchdog.connectors.http import UpstreamError
from watchdog.connectors.stokly import GRANT_ROUTE, StoklyClient
from watchdog.doctor.calibration import tally_route
from watchdog.doctor.reads import Probe
from watchdog.doctor.shape_checks import shape_checks
from watchdog.doctor.stokly_mapping import channel_checks, location_check
from watchdog.doctor.stokly_sampler import StoklySamples, sample_stokly
from watchdog.doctor.verdicts import Check, FieldTally, Verdict
from watchdog.stokly_assumed import ACCOUNT_SHIPMENTS_PATH, CREDIT_NOTES_PATH, READ_SHAPES, SHIPMENTS_PATH

__all__ = ["StoklyResult", "grant_check", "stokly_checks"]

SYSTEM = "stokly"
#: Routes whose path is itself assumed: a 404 there means the constant is wrong.
ASSUMED_PATHS = {ACCOUNT_SHIPMENTS_PATH: "ACCOUNT_SHIPMENTS_PATH", SHIPMENTS_PATH: "SHIPMENTS_PATH",
                 CREDIT_NOTES_PATH: "CREDIT_NOTES_PATH"}
CREDENTIAL_KEYS = "[integrations.stokly] account_key_env, client_id_env and client_secret_env"


@dataclass(frozen=True)
class StoklyResult:
    checks: list[Check]
    calibration: list[FieldTally]
    sampled: list[tuple[str, int]]


async def grant_check(client: StoklyClient) -> Check:
    """Ask for a token (the grant POST); pass when one comes back."""
    try:
        await client.auth.token()
    except UpstreamError as exc:
        if exc.status is None:
            fix = "check [integrations.stokly] base_url and that this machine can reach it"
        elif exc.status in (400, 401, 403):
            fix = (f"check the account key, client id and client secret ({CREDENTIAL_KEYS} name the variables): "
                   "a rotated secret must be updated there")
        else:
            fix = "run doctor again; if it persists, tell Stokly"
        return Check(SYSTEM, "credentials", f"app grant (POST {GRANT_ROUTE})", Verdict.FAIL, str(exc), fix)
    return Check(SYSTEM, "credentials", f"app grant (POST {GRANT_ROUTE})", Verdict.PASS, "a token was granted")


def _count(probe: Probe) -> str:
    data = probe.body.get("data") if isinstance(probe.body, dict) else None
    meta = probe.body.get("metadata") if isinstance(probe.body, dict) else None
    total = meta.get("count") if isinstance(meta, dict) else None
    if isinstance(data, list):
        return f"answered ({len(data)} record(s) read of {total})"
    return "answered"


def route_check(probe: Probe) -> Check:
    """Answered, refused, missing (an assumed path: name its constant) or failed."""
    if probe.ok:
        return Check(SYSTEM, "route", f"GET {probe.route}", Verdict.PASS, _count(probe))
    what, said = f"GET {probe.route}", f"HTTP {probe.status}: {probe.message()}"
    if probe.refused:
        return Check(SYSTEM, "route", what, Verdict.FAIL, f"refused ({said})",
                     "the app may not read this route: ask Stokly to allow it, or tell us")
    if probe.malformed:
        return Check(SYSTEM, "route", what, Verdict.FAIL, f"answered, but does not parse: {probe.error}", "tell us")
    if probe.status == 404 and probe.route in ASSUMED_PATHS:
        return Check(SYSTEM, "route", what, Verdict.FAIL, f"not found ({said}): the path is assumed",
                     f"correct {ASSUMED_PATHS[probe.route]} in watchdog/stokly_assumed.py, or tell us")
    return Check(SYSTEM, "route", what, Verdict.FAIL, f"could not be read: {probe.error}", "run doctor again")


def route_checks(probes: Sequence[Probe]) -> list[Check]:
    """One line per route: its first failure, else its first answer."""
    by_route: dict[str, Probe] = {}
    for probe in probes:
        if probe.route not in by_route or (by_route[probe.route].ok and not probe.ok):
            by_route[probe.route] = probe
    return [route_check(p) for p in by_route.values()]


def _calibrate(samples: StoklySamples) -> tuple[list[FieldTally], list[tuple[str, int]]]:
    routes = [r for r in READ_SHAPES if r in samples.records]
    sampled = [(r, len(samples.records[r])) for r in routes]
    return [t for r in routes for t in tally_route(r, samples.records[r], READ_SHAPES[r])], sampled


def _mapping(config: StoklyConfig, samples: StoklySamples) -> list[Check]:
    locations = next((p for p in samples.probes if p.route == "/v0/locations"), None)
    channels = samples.records.get("/v0/channels", [])
    return [*channel_checks(config, samples.channel_probe, samples.channel, channels),
            location_check(config, samples.channel, samples.designated, samples.locations, locations)]


async def stokly_checks(config: StoklyConfig, client: StoklyClient) -> StoklyResult:
    """Every Stokly check of one integration, with the calibration tallies."""
    grant = await grant_check(client)
    if grant.verdict is Verdict.FAIL:
        return StoklyResult([grant, Check(SYSTEM, "route", "every route, the mapping and the shapes", Verdict.FAIL,
                                          "not checked: no Stokly token", "fix the Stokly credentials first")], [], [])
    samples = await sample_stokly(config, client)
    tallies, sampled = _calibrate(samples)
    checks = [grant, *route_checks(samples.probes), *_mapping(config, samples), *shape_checks(sampled, tallies)]
    return StoklyResult(checks, tallies, sampled)
