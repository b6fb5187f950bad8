"""``watchdog simulate``: serve the Magento and Stokly simulators on loopback until stopped.

The merchant comes from ``--scenario FILE`` (default: the built-in demo merchant) and
keeps trading-free: it is the state a scenario describes, with its injected failures.
Stokly serves reads shaped by the scenario's ``[stokly.shape]``; ``--stokly-shape confirmed-only``
also withholds every field not confirmed (``watchdog.simulators.stokly.shape``).
Point ``examples/watchdog.toml`` (or your own config) at it to try every command.
"""

from __future__ import annotations

import argparse
import signal
import threading
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from watchdog.commands.common import EXIT_OK, EXIT_USAGE
from watchdog.simulators.embedded import DEFAULT_CREDENTIALS, EmbeddedSystems, SimCredentials
from watchdog.simulators.merchant import build_merchant
from watchdog.simulators.scenario import ScenarioError, ScenarioSpec, SimClock, builtin_scenario, load_scenario
from watchdog.simulators.stokly.shape import ShapeRules


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("simulate", help="serve the Magento and Stokly simulators on loopback")
    p.add_argument("--magento-port", type=int, default=8081, metavar="P", help="Magento port (default 8081)")
    p.add_argument("--stokly-port", type=int, default=8082, metavar="P", help="Stokly port (default 8082)")
    p.add_argument("--scenario", type=Path, default=None, metavar="FILE",
                   help="scenario TOML (default: the built-in demo merchant)")
    d = DEFAULT_CREDENTIALS
    p.add_argument("--magento-token", default=d.magento_access_token,
                   help="the integration access token Magento accepts (default %(default)s)")
    p.add_argument("--stokly-account", default=d.stokly_account, help="Stokly account key (default %(default)s)")
    p.add_argument("--stokly-client-id", default=d.stokly_client_id, help="Stokly client id (default %(default)s)")
    p.add_argument("--stokly-client-secret", default=d.stokly_client_secret,
                   help="Stokly client secret (default %(default)s)")
    p.add_argument("--stokly-shape", choices=["confirmed-only"], default=None,
                   help="Stokly reads serve only confirmed fields (on top of the scenario's [stokly.shape])")
    p.add_argument("--for", dest="seconds", type=float, default=None, metavar="SECONDS",
                   help="stop after this long (default: until Ctrl-C or SIGTERM)")
    p.set_defaults(handler=simulate)


def simulate(args: argparse.Namespace) -> int:
    """Serve until interrupted; exit 2 on a bad scenario file."""
    try:
        spec = load_scenario(args.scenario) if args.scenario else builtin_scenario("demo")
    except ScenarioError as exc:
        print(exc)
        return EXIT_USAGE
    now = datetime.now(UTC)
    clock = SimClock(now)
    merchant = build_merchant(spec, now, clock=clock)
    clock.follow_real_time()
    credentials = SimCredentials(magento_access_token=args.magento_token, stokly_account=args.stokly_account,
                                 stokly_client_id=args.stokly_client_id,
                                 stokly_client_secret=args.stokly_client_secret)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    shape = stokly_shape(spec, args.stokly_shape)
    with EmbeddedSystems(merchant, magento_port=args.magento_port, stokly_port=args.stokly_port,
                         credentials=credentials, stokly_shape=shape) as systems:
        print(f"Magento simulator: {systems.magento_url}/rest/V1/  (integration token as Bearer)")
        print(f"Stokly simulator:  {systems.stokly_url}/v1/grant  (account {credentials.stokly_account}, "
              f"client {credentials.stokly_client_id}; secrets as given, see --help)")
        print(f"Stokly channel {merchant.channel_id}, designated location {merchant.location_id}, "
              f"Magento source {merchant.source_code}")
        if shape.active:
            print(f"Stokly reads withhold {len(shape.withheld())} fields (GET /_sim/shape lists the rules)")
        print(f"{len(merchant.expected)} failures injected; control endpoints under /_sim/. Ctrl-C stops.",
              flush=True)
        stop.wait(args.seconds)
    return EXIT_OK


def stokly_shape(spec: ScenarioSpec, option: str | None) -> ShapeRules:
    """The scenario's Stokly read-shape rules, with ``--stokly-shape confirmed-only`` applied."""
    return replace(spec.stokly_shape, confirmed_only=True) if option == "confirmed-only" else spec.stokly_shape
