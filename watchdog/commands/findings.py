"""``watchdog findings list|show|ack|silence|silences|resolve --config FILE``: findings for people.

- ``list [--integration N] [--check ID] [--status open|pending|resolved|all] [--json]``
- ``show FINGERPRINT [--json]``: one finding (a unique prefix of 4+ characters will do)
  with its transitions;
- ``ack FINGERPRINT --by NAME [--comment TEXT]``: acknowledged until it resolves;
- ``silence [--integration N] [--check ID] [--subject GLOB] --for 2h --by NAME --comment TEXT``;
- ``silences [--all] [--json]``: the silences in force (``--all``: expired ones too);
- ``resolve FINGERPRINT --by NAME [--comment TEXT]``: resolve by hand (it reopens if still seen).

Exit codes: 0 done, 1 nothing matched or the action does not apply, 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from watchdog.commands.common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, add_config_argument, subcommands
from watchdog.config import Config, load_config
from watchdog.durations import parse_duration
from watchdog.lifecycle import Silence, Status
from watchdog.store.db import Store, open_store
from watchdog.store.finding_queries import (
    FindingNotFound,
    ack,
    add_silence,
    find,
    finding_json,
    list_silences,
    resolve_by_hand,
    select_findings,
    transitions_of,
)
from watchdog.store.models import FindingRow

STATUSES = {"open": (Status.OPEN,), "pending": (Status.PENDING,), "resolved": (Status.RESOLVED,),
            "all": tuple(Status)}


def register(subparsers: Any) -> None:
    actions = subcommands(subparsers, "findings", "list, inspect, acknowledge, silence and resolve findings")
    _list = _action(actions, "list", "list findings", list_findings, json_flag=True)
    _list.add_argument("--integration", metavar="NAME")
    _list.add_argument("--check", metavar="ID")
    _list.add_argument("--status", choices=sorted(STATUSES), default="open")
    show = _action(actions, "show", "one finding with its transitions", show_finding, json_flag=True)
    show.add_argument("fingerprint", metavar="FINGERPRINT")
    for name, help_text, handler in (("ack", "acknowledge until resolved", ack_finding),
                                     ("resolve", "resolve by hand", resolve_finding)):
        parser = _action(actions, name, help_text, handler)
        parser.add_argument("fingerprint", metavar="FINGERPRINT")
        _author(parser, required_comment=False)
    silence = _action(actions, "silence", "mute matching findings for a while", silence_findings)
    silence.add_argument("--integration", metavar="NAME")
    silence.add_argument("--check", metavar="ID")
    silence.add_argument("--subject", metavar="GLOB", help="e.g. 'sku:ABC-*'")
    silence.add_argument("--for", dest="duration", required=True, metavar="DURATION", help="e.g. 2h, 3d")
    _author(silence, required_comment=True)
    silences = _action(actions, "silences", "list the silences in force", show_silences, json_flag=True)
    silences.add_argument("--all", action="store_true", help="include expired silences")


def _action(actions: Any, name: str, help_text: str, handler: Callable[[argparse.Namespace], int], *,
            json_flag: bool = False) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = actions.add_parser(name, help=help_text)
    add_config_argument(parser)
    if json_flag:
        parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=handler)
    return parser


def _author(parser: argparse.ArgumentParser, *, required_comment: bool) -> None:
    parser.add_argument("--by", required=True, metavar="NAME", help="who is doing this")
    parser.add_argument("--comment", required=required_comment, default="", metavar="TEXT")


def _store(config: Config) -> Store:
    return open_store(config.database.url)


def _now() -> datetime:
    return datetime.now(UTC)


def list_findings(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    currencies = {i.name: i.currency for i in config.integrations}
    store = _store(config)
    try:
        with store.session() as session:
            rows = select_findings(session, integration=args.integration, check=args.check,
                                   statuses=STATUSES[args.status])
            if args.json:
                _print_json([finding_json(r, currencies.get(r.integration)) for r in rows])
            else:
                _print_table(rows)
    finally:
        store.dispose()
    return EXIT_OK


def _print_table(rows: Sequence[FindingRow]) -> None:
    if not rows:
        print("no findings")
        return
    print(f"{'FINGERPRINT':<13}{'SEVERITY':<10}{'STATUS':<9}{'OWNER':<11}{'CHECK':<22}{'SUBJECT':<28}SUMMARY")
    for r in rows:
        ack_mark = " [acked]" if r.acked_by else ""
        print(f"{r.fingerprint[:12]:<13}{r.severity:<10}{r.status:<9}{r.owner:<11}{r.check:<22}"
              f"{r.subject:<28}{r.summary}{ack_mark}")
    print(f"{len(rows)} finding(s)")


def _print_json(data: object) -> None:
    json.dump(data, sys.stdout, indent=2, sort_keys=False)
    print()


def show_finding(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    store = _store(config)
    try:
        with store.session() as session:
            row = find(session, args.fingerprint)
            history = transitions_of(session, row.fingerprint)
            data = finding_json(row, next((i.currency for i in config.integrations if i.name == row.integration),
                                          None))
            data["transitions"] = [{"kind": t.kind, "at": t.at.isoformat(), "severity": t.severity,
                                    "summary": t.summary, "muted_by": t.muted_by} for t in history]
    except FindingNotFound as exc:
        print(exc, file=sys.stderr)
        return EXIT_FAILURE
    finally:
        store.dispose()
    if args.json:
        _print_json(data)
    else:
        _print_detail(data)
    return EXIT_OK


def _print_detail(data: dict[str, Any]) -> None:
    for key in ("fingerprint", "integration", "check", "subject", "severity", "owner", "status", "summary",
                "first_seen", "last_seen", "resolved_at", "acked_by", "runbook"):
        if data.get(key) is not None:
            print(f"{key + ':':<14}{data[key]}")
    for name, value in data["measures"].items():
        print(f"{'measure:':<14}{name} = {value}")
    for name, url in data["links"].items():
        print(f"{'link:':<14}{name}: {url}")
    print("transitions:")
    for t in data["transitions"]:
        muted = f" (muted: {t['muted_by']})" if t["muted_by"] else ""
        print(f"  {t['at']}  {t['kind']:<10} {t['severity']:<9} {t['summary']}{muted}")


def ack_finding(args: argparse.Namespace) -> int:
    return _change(args, lambda s: ack(s, args.fingerprint, by=args.by, comment=args.comment, now=_now()),
                   "acknowledged")


def resolve_finding(args: argparse.Namespace) -> int:
    return _change(args, lambda s: resolve_by_hand(s, args.fingerprint, by=args.by, comment=args.comment,
                                                   now=_now()), "resolved")


def _change(args: argparse.Namespace, action: Callable[[Any], FindingRow], done: str) -> int:
    store = _store(load_config(args.config))
    try:
        with store.session() as session:
            row = action(session)
            print(f"{row.fingerprint[:12]} {row.check} {row.subject}: {done}")
    except (FindingNotFound, ValueError) as exc:
        print(exc, file=sys.stderr)
        return EXIT_FAILURE
    finally:
        store.dispose()
    return EXIT_OK


def silence_findings(args: argparse.Namespace) -> int:
    try:
        duration = parse_duration(args.duration)
    except ValueError as exc:
        print(f"--for: {exc}", file=sys.stderr)
        return EXIT_USAGE
    store = _store(load_config(args.config))
    now = _now()
    try:
        with store.session() as session:
            silence = add_silence(session, by=args.by, comment=args.comment, now=now, expires_at=now + duration,
                                  integration=args.integration, check=args.check, subject=args.subject)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    finally:
        store.dispose()
    print(f"silence {silence.id} until {silence.expires_at:%Y-%m-%d %H:%M} UTC: {_matchers(silence)}")
    return EXIT_OK


def _matchers(s: Silence) -> str:
    parts = [f"{k}={v}" for k, v in (("integration", s.integration), ("check", s.check), ("subject", s.subject)) if v]
    return " ".join(parts)


def show_silences(args: argparse.Namespace) -> int:
    store = _store(load_config(args.config))
    try:
        with store.session() as session:
            silences = list_silences(session, _now(), include_expired=args.all)
    finally:
        store.dispose()
    if args.json:
        _print_json([{"id": s.id, "integration": s.integration, "check": s.check, "subject": s.subject,
                      "author": s.author, "comment": s.comment, "created_at": s.created_at.isoformat(),
                      "expires_at": s.expires_at.isoformat()} for s in silences])
        return EXIT_OK
    for s in silences:
        print(f"{s.id:>5}  until {s.expires_at:%Y-%m-%d %H:%M} UTC  {_matchers(s):<50} {s.author}: {s.comment}")
    if not silences:
        print("no silences")
    return EXIT_OK
