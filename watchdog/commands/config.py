"""``watchdog config check --config FILE``: list every problem with file, key and reason; exit 2."""

from __future__ import annotations

import argparse
from typing import Any

from watchdog.commands.common import EXIT_OK, add_config_argument, subcommands
from watchdog.config import load_config


def register(subparsers: Any) -> None:
    actions = subcommands(subparsers, "config", "configuration tools")
    check = actions.add_parser("check", help="validate a config file; list every problem")
    add_config_argument(check)
    check.set_defaults(handler=check_config)


def check_config(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    names = ", ".join(i.name for i in config.integrations)
    print(f"{args.config}: OK ({len(config.integrations)} integration(s): {names})")
    return EXIT_OK
