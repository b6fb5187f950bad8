"""``watchdog db upgrade (--config FILE | --database-url URL)``: apply the migrations."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from watchdog.commands.common import EXIT_OK, subcommands
from watchdog.config import load_config
from watchdog.store.db import current_revision, open_store, upgrade


def register(subparsers: Any) -> None:
    actions = subcommands(subparsers, "db", "database tools")
    up = actions.add_parser("upgrade", help="apply the database migrations up to the newest")
    where = up.add_mutually_exclusive_group(required=True)
    where.add_argument("--config", type=Path, metavar="FILE")
    where.add_argument("--database-url", metavar="URL")
    up.set_defaults(handler=upgrade_database)


def upgrade_database(args: argparse.Namespace) -> int:
    url = args.database_url or load_config(args.config).database.url
    store = open_store(url)
    try:
        upgrade(store.engine)
        print(f"database at revision {current_revision(store.engine)}")
    finally:
        store.dispose()
    return EXIT_OK
