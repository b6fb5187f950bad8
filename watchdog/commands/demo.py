"""``watchdog demo [--for SECONDS] [--out DIR] [--metrics-port PORT]``: the main job on the embedded default."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("demo", help="run the whole service on the embedded simulators and SQLite")
    p.add_argument("--for", dest="seconds", type=float, default=30.0, metavar="SECONDS",
                   help="how long the shop trades (default 30)")
    p.add_argument("--out", type=Path, default=Path("demo-out"), metavar="DIR",
                   help="where summary.json, findings.json, metrics.txt, slack/ and email/ go (default ./demo-out)")
    p.add_argument("--metrics-port", type=int, default=0, metavar="PORT",
                   help="port for /metrics, /healthz and /findings (default: any free port)")
    p.add_argument("--seed", type=int, default=7, help="seed of the simulated shop's trading (default 7)")
    p.set_defaults(handler=demo)


def demo(args: argparse.Namespace) -> int:
    from watchdog.demo import run_demo  # the demo pulls in every part; load it only when asked

    return run_demo(seconds=args.seconds, out=args.out, metrics_port=args.metrics_port, seed=args.seed)
