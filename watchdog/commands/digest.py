"""``watchdog digest --config FILE --kind slack|email [--send | --preview DIR]``: the digests by hand.

- no flag: print the digests as they would be sent now (plain text), send nothing;
- ``--preview DIR``: write them to DIR (email: ``.eml``, ``.html`` and ``.txt``; Slack:
  the ``chat.postMessage`` JSON) without sending or claiming anything;
- ``--send``: send the digests due now, through the same claims as the running
  service, so a digest already sent for this period is not sent again.

Exit codes: 0 done (or nothing due), 1 a digest failed, 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from alerts.email import render_email
from alerts.slack_blocks import render_team_digest
from watchdog.commands.common import EXIT_FAILURE, EXIT_OK, add_config_argument
from watchdog.config import load_config
from watchdog.digests import PlannedDigest
from watchdog.dispatch import Dispatcher, utc_now
from watchdog.notifiers import build_notifiers
from watchdog.notify import ManagerDigest, TeamDigest
from watchdog.registry import default_registry
from watchdog.store.db import open_store

__all__ = ["register", "run_digest", "write_preview"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("digest", help="preview or send the Slack team digests or the managers' email")
    add_config_argument(parser)
    parser.add_argument("--kind", choices=("slack", "email"), required=True)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--send", action="store_true", help="send the digests due now (once per period)")
    mode.add_argument("--preview", type=Path, metavar="DIR", help="write the digests to DIR; send nothing")
    parser.set_defaults(handler=run_digest)


def run_digest(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    store = open_store(config.database.url)
    try:
        dispatcher = Dispatcher(store, config, build_notifiers(config), checks=default_registry().ids)
        if args.send:
            return _send(dispatcher, args.kind)
        planned = dispatcher.plan_digests(utc_now(), args.kind)
        if args.preview is not None:
            for path in write_preview(planned, args.preview):
                print(path)
        else:
            for digest in planned:
                print(_plain(digest))
        return EXIT_OK
    finally:
        store.dispose()


def _send(dispatcher: Dispatcher, kind: str) -> int:
    summary = dispatcher.send_digests(None, kind)
    if not summary.outcomes:
        print(f"no {kind} digest is due yet")
    for outcome in summary.outcomes:
        key = outcome.key
        detail = f": {outcome.error}" if outcome.error else ""
        print(f"{key.kind} {key.integration} {key.audience} {key.period}: {outcome.status}{detail}")
    failed = any(o.status in ("failed", "retry") for o in summary.outcomes)
    return EXIT_FAILURE if failed else EXIT_OK


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")


def write_preview(planned: list[PlannedDigest], directory: Path) -> list[Path]:
    """Write each digest into ``directory``; the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for digest in planned:
        key, message = digest.key, digest.message
        stem = directory / _slug(f"{key.kind}-{key.integration}-{key.audience}-{key.period}")
        if isinstance(message, ManagerDigest):
            email = render_email(message)
            files = {".eml": email.as_bytes()}
            for part in email.iter_parts():
                suffix = ".html" if part.get_content_subtype() == "html" else ".txt"
                files[suffix] = str(part.get_content()).encode("utf-8")
        else:
            payload = render_team_digest(message)
            body = {"channel": message.destination, "text": payload.text, "blocks": list(payload.blocks)}
            files = {".json": json.dumps(body, indent=2, ensure_ascii=False).encode("utf-8")}
        for suffix, content in files.items():
            path = stem.with_suffix(suffix)
            path.write_bytes(content)
            written.append(path)
    return written


def _plain(digest: PlannedDigest) -> str:
    message = digest.message
    if isinstance(message, ManagerDigest):
        email = render_email(message)
        body = email.get_body(("plain",))
        return f"Subject: {email['Subject']}\n\n{body.get_content() if body else ''}"
    assert isinstance(message, TeamDigest)
    payload = render_team_digest(message)
    lines = [payload.text] + [b["text"]["text"] for b in payload.blocks if isinstance(b.get("text"), dict)]
    return f"# {message.destination}\n" + "\n".join(lines) + "\n"
