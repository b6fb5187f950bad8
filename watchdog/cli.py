"""The ``watchdog`` command (design.md section 9: a stable interface; extend, don't rename).

Each sub-command is a small function that parses its arguments, builds what it
needs and delegates; nothing imports this module.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from watchdog import __version__
from watchdog.config import ConfigError, load_config

__all__ = ["main"]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

Handler = Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return handler(args)
    except ConfigError as exc:
        _print_problems(exc)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="watchdog", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--version", action="version", version=f"watchdog {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(metavar="COMMAND")

    demo = commands.add_parser("demo", help="run everything on the embedded simulators and SQLite")
    demo.add_argument("--for", dest="seconds", type=float, default=20.0, metavar="SECONDS",
                      help="how long the trading simulation runs (default 20)")
    demo.add_argument("--out", type=Path, default=Path("demo-out"), metavar="DIR",
                      help="where summary.json, findings.json and metrics.txt go (default ./demo-out)")
    demo.add_argument("--metrics-port", type=int, default=0, metavar="PORT",
                      help="port for /metrics and /healthz (default: any free port)")
    demo.add_argument("--seed", type=int, default=7, help="seed of the simulated merchant (default 7)")
    demo.set_defaults(handler=_demo)

    simulate = commands.add_parser("simulate", help="serve the Magento and Stokly simulators on loopback")
    simulate.add_argument("--magento-port", type=int, default=8081, metavar="P")
    simulate.add_argument("--stokly-port", type=int, default=8082, metavar="P")
    simulate.add_argument("--scenario", type=Path, default=None, metavar="FILE",
                          help="scenario TOML to load (default: the built-in demo merchant)")
    simulate.add_argument("--magento-token", default=None,
                          help="bearer integration token the Magento simulator accepts (default: see docs)")
    simulate.add_argument("--stokly-client-id", default=None, help="Stokly client id (default: see docs)")
    simulate.add_argument("--stokly-client-secret", default=None, help="Stokly client secret (default: see docs)")
    simulate.set_defaults(handler=_simulate)

    config = commands.add_parser("config", help="configuration tools").add_subparsers(metavar="ACTION")
    check = config.add_parser("check", help="validate a config file; list every problem")
    check.add_argument("--config", type=Path, required=True, metavar="FILE")
    check.set_defaults(handler=_config_check)

    db = commands.add_parser("db", help="database tools").add_subparsers(metavar="ACTION")
    up = db.add_parser("upgrade", help="apply the database migrations")
    where = up.add_mutually_exclusive_group(required=True)
    where.add_argument("--config", type=Path, metavar="FILE")
    where.add_argument("--database-url", metavar="URL")
    up.set_defaults(handler=_db_upgrade)
    return parser


def _print_problems(exc: ConfigError) -> None:
    print(f"{len(exc.problems)} problem(s) in the configuration:", file=sys.stderr)
    for problem in exc.problems:
        print(f"  {problem}", file=sys.stderr)


def _config_check(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    names = ", ".join(i.name for i in config.integrations)
    print(f"{args.config}: OK ({len(config.integrations)} integration(s): {names})")
    return EXIT_OK


def _db_upgrade(args: argparse.Namespace) -> int:
    from watchdog.store.db import current_revision, open_store, upgrade

    url = args.database_url or load_config(args.config).database.url
    store = open_store(url)
    try:
        upgrade(store.engine)
        print(f"database at revision {current_revision(store.engine)}")
    finally:
        store.dispose()
    return EXIT_OK


def _simulate(args: argparse.Namespace) -> int:
    from watchdog.simulators.runner import simulate

    return simulate(args)


def _demo(args: argparse.Namespace) -> int:
    from watchdog.demo import run_demo

    return run_demo(seconds=args.seconds, out=args.out, metrics_port=args.metrics_port, seed=args.seed)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
