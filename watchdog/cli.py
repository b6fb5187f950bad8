"""The ``watchdog`` command (design.md section 9: a stable interface; extend, don't rename).

Each sub-command lives in its own module under ``watchdog/commands/`` and exposes
``register(subparsers)``, which adds its parser and sets ``handler`` to a function
``(args) -> exit code``. This module only finds them, parses and dispatches.
Nothing imports this module.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from collections.abc import Callable, Sequence

from watchdog import __version__, commands
from watchdog.commands.common import EXIT_USAGE, print_problems
from watchdog.config import ConfigError

__all__ = ["main"]

Handler = Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
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
        print_problems(exc)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with every command module's sub-command registered."""
    parser = argparse.ArgumentParser(prog="watchdog", description="Sync worker and watchdog between Magento 2 "
                                     "and Stokly.")
    parser.add_argument("--version", action="version", version=f"watchdog {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name == "common":
            continue
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(subparsers)
    return parser


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
