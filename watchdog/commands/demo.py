"""``watchdog demo [--for SECONDS] [--out DIR] [--metrics-port PORT] [--stokly-drop ROUTE:FIELD]``: the main job
on the embedded default."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from watchdog.commands.common import EXIT_USAGE


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("demo", help="run the whole service on the embedded simulators and SQLite")
    p.add_argument("--for", dest="seconds", type=float, default=30.0, metavar="SECONDS",
                   help="how long the shop trades (default 30)")
    p.add_argument("--out", type=Path, default=Path("demo-out"), metavar="DIR",
                   help="where summary.json, findings.json, metrics.txt, slack/ and email/ go (default ./demo-out)")
    p.add_argument("--metrics-port", type=int, default=0, metavar="PORT",
                   help="port for /metrics, /healthz and /findings (default: any free port)")
    p.add_argument("--seed", type=int, default=7, help="seed of the simulated shop's trading (default 7)")
    p.add_argument("--stokly-drop", action="append", default=[], metavar="ROUTE:FIELD",
                   help="serve Stokly's ROUTE without FIELD, as a real account may (e.g. /v2/saleorders:tax); "
                        "repeatable: shows the watchdog reading a Stokly that disagrees with our assumptions")
    p.set_defaults(handler=demo)


def demo(args: argparse.Namespace) -> int:
    from watchdog.demo import run_demo  # the demo pulls in every part; load it only when asked
    from watchdog.simulators.stokly.shape import ShapeError, ShapeRules

    try:
        drops = frozenset(_route_field(text) for text in args.stokly_drop)
        shape = ShapeRules(drop=drops) if drops else None
    except (ShapeError, ValueError) as exc:
        print(f"--stokly-drop: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return run_demo(seconds=args.seconds, out=args.out, metrics_port=args.metrics_port, seed=args.seed,
                    stokly_shape=shape)


def _route_field(text: str) -> tuple[str, str]:
    route, sep, name = text.rpartition(":")
    if not sep or not route or not name:
        raise ValueError(f"{text!r} is not ROUTE:FIELD (e.g. /v2/saleorders:tax)")
    return route, name
