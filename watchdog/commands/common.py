"""Helpers shared by the command modules."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from watchdog.config import Config, ConfigError, IntegrationConfig

__all__ = [
    "EXIT_FAILURE",
    "EXIT_OK",
    "EXIT_USAGE",
    "add_config_argument",
    "print_problems",
    "selected_integrations",
    "subcommands",
]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2



def add_config_argument(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    parser.add_argument("--config", type=Path, required=required, metavar="FILE", help="the TOML configuration")


def print_problems(exc: ConfigError) -> None:
    """Every configuration problem, one per line, on stderr."""
    print(f"{len(exc.problems)} problem(s) in the configuration:", file=sys.stderr)
    for problem in exc.problems:
        print(f"  {problem}", file=sys.stderr)


def subcommands(subparsers: Any, name: str, help_text: str) -> Any:
    """A command with its own actions (``watchdog NAME ACTION``)."""
    return subparsers.add_parser(name, help=help_text).add_subparsers(metavar="ACTION")


def selected_integrations(config: Config, name: str | None, source: str | Path) -> list[IntegrationConfig]:
    """Every integration, or only the one named by ``--integration``; says so on stderr when none matches."""
    chosen = [i for i in config.integrations if name in (None, i.name)]
    if not chosen:
        print(f"no integration named {name!r} in {source}", file=sys.stderr)
    return chosen
