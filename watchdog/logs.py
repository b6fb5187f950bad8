"""Structured logs: one JSON object per line on stderr, with every secret masked.

``configure_logging(level, secrets=...)`` makes the root logger write lines like::

    {"ts": "2026-11-26T10:05:00.123Z", "level": "info", "logger": "watchdog.slot_runner",
     "msg": "acme-uk/checks slot 2026-11-26T10:05:00Z done in 0.412s: 11 ok, ...",
     "event": "slot.done", "job": "acme-uk/checks", "slot": "2026-11-26T10:05:00Z", "seconds": 0.412}

Fields passed with ``extra=`` (``event``, ``job``, ``slot``, ``integration``, ...) become
top-level keys; an exception becomes ``exc`` (its traceback). ``uvicorn``'s loggers are
brought under the same handler.

Masking, the last line of defence behind ``watchdog.secret.Secret`` (which never prints
itself): every known secret value (the configuration's credentials, ``secrets_in(config)``),
the password of any ``scheme://user:password@host`` URL, ``Bearer`` tokens and anything
shaped like a JWT are replaced by ``**********`` in the message, in every field and in
tracebacks, before the line is written.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

from sqlalchemy.engine import make_url

from watchdog.config import Config
from watchdog.secret import MASK, Secret

__all__ = ["JsonFormatter", "Masker", "configure_logging", "secrets_in"]

MIN_SECRET = 4  # shorter values would mask ordinary words
PATTERNS = (
    (re.compile(r"(?P<keep>[a-z][a-z0-9+.-]*://[^:/@\s]+:)[^@\s]+(?=@)", re.IGNORECASE), r"\g<keep>" + MASK),
    (re.compile(r"(?P<keep>\bbearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE), r"\g<keep>" + MASK),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), MASK),
)
#: LogRecord attributes that are not ``extra=`` fields.
STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}
QUIET = {"httpx": logging.WARNING, "httpcore": logging.WARNING, "uvicorn.access": logging.WARNING}


class Masker:
    """Replaces known secret values and secret-shaped text with ``**********``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values = {s for s in secrets if len(s) >= MIN_SECRET}
        escaped = {json.dumps(s)[1:-1] for s in values}  # as they appear inside a JSON string
        self._values = sorted(values | escaped, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        """``text`` with every secret masked."""
        for value in self._values:
            text = text.replace(value, MASK)
        for pattern, replacement in PATTERNS:
            text = pattern.sub(replacement, text)
        return text


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON, masked."""

    def __init__(self, mask: Masker | None = None) -> None:
        super().__init__()
        self.mask = mask or Masker()

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        payload.update({k: v for k, v in vars(record).items() if k not in STANDARD and not k.startswith("_")})
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            payload["stack"] = self.formatStack(record.stack_info)
        return self.mask(json.dumps(payload, default=str, ensure_ascii=False))


def configure_logging(level: str = "info", *, stream: TextIO | None = None, secrets: Iterable[str] = ()) -> None:
    """Send every log record, ours and the libraries', through one masked JSON handler on ``stream``.

    Raises ValueError for an unknown level name.
    """
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(Masker(secrets)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    adopt("uvicorn", "uvicorn.error", "uvicorn.access")
    for name, quiet in QUIET.items():
        logging.getLogger(name).setLevel(max(quiet, numeric))


def adopt(*names: str) -> None:
    """Make loggers that installed their own handlers (uvicorn) write through the root handler."""
    for name in names:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True


def secrets_in(config: Config) -> list[str]:
    """Every secret value in ``config``: credentials read from the environment, the database password."""
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, Secret):
            found.append(value.reveal())
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            for f in dataclasses.fields(value):
                walk(getattr(value, f.name))
        elif isinstance(value, tuple):
            for item in value:
                walk(item)

    walk(config)
    password = make_url(config.database.url).password
    if password:
        found.append(str(password))
    return found
