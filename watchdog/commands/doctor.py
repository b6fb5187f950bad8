"""``watchdog doctor --config FILE [--integration NAME] [--json] [--report DIR]``: check a connection.

For the first connection to a real store and account, and for an audit of a live integration:
credentials and clock skew, every route the service reads, the mapping, Stokly's rate-limit
header and a calibration of Stokly's read shapes, each with a verdict and a fix. It only reads
(GET requests, plus the Stokly grant). Output: one line per check, or ``--json`` one document;
``--report DIR`` also writes ``DIR/doctor.html``. Every configured secret is masked in all of them.

Exit codes: 0 every check passed (warnings allowed); 1 some check failed; 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from watchdog.commands.common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, add_config_argument, selected_integrations
from watchdog.config import load_config
from watchdog.doctor import Report, Verdict, examine, overall, render_html, render_json, render_text, usable
from watchdog.logs import Masker, secrets_in


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("doctor", help="check credentials, routes, mapping and Stokly's shapes (read only)")
    add_config_argument(p)
    p.add_argument("--integration", metavar="NAME", help="only this integration")
    p.add_argument("--json", action="store_true", help="print the checks as one JSON document")
    p.add_argument("--report", type=Path, metavar="DIR", help="also write DIR/doctor.html, a page to send")
    p.set_defaults(handler=doctor)


def doctor(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    integrations = selected_integrations(config, args.integration, args.config)
    if not integrations:
        return EXIT_USAGE
    mask = Masker(secrets_in(config))
    try:
        for integration in integrations:
            usable(integration)
    except ValueError as exc:  # credentials the config cannot build (e.g. OAuth 1.0a over plain http)
        print(mask(f"{args.config}: {exc}"), file=sys.stderr)
        return EXIT_USAGE
    reports = [asyncio.run(examine(integration)) for integration in integrations]
    now = datetime.now(UTC)
    print(mask(render_json(reports, now) if args.json else render_text(reports)))
    if args.report is not None:
        _write_report(args.report, reports, now, mask)
    return EXIT_OK if overall(reports) is not Verdict.FAIL else EXIT_FAILURE


def _write_report(directory: Path, reports: list[Report], now: datetime, mask: Masker) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "doctor.html"
    path.write_text(mask(render_html(reports, now)), encoding="utf-8")
    print(f"report written to {path}", file=sys.stderr)
