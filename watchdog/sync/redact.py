"""Redaction of dead-letter payloads: what is stored for people never holds a secret.

Two independent guards: members whose *name* looks secret (token, secret, password,
authorization, signature, api/account/consumer key, cookie) are masked whatever their
value, and every occurrence of a known secret *value* (the integration's credentials)
is masked wherever it appears in a string. Long strings are cut so a dead letter stays
small.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from watchdog.secret import MASK, Secret

__all__ = ["Redactor"]

SECRET_NAME = re.compile(
    r"(token|secret|passw(or)?d|authori[sz]ation|signature|api[_-]?key|account[_-]?key|consumer[_-]?key|"
    r"client[_-]?id|cookie|credential)", re.IGNORECASE)
MAX_TEXT = 2000
MAX_ITEMS = 50
MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary text


class Redactor:
    """Masks secrets in JSON-like values (dicts, lists, strings, numbers)."""

    def __init__(self, secrets: Iterable[Secret | str | None] = ()) -> None:
        values = {s.reveal() if isinstance(s, Secret) else s for s in secrets if s}
        self._values = sorted((v for v in values if len(v) >= MIN_SECRET_LENGTH), key=len, reverse=True)

    def __repr__(self) -> str:
        return f"Redactor({len(self._values)} secret(s))"

    def __call__(self, value: Any) -> Any:
        """A JSON-safe copy of ``value`` with secrets masked and long parts shortened."""
        return self._clean(value, depth=0)

    def text(self, value: str) -> str:
        """``value`` with every known secret masked, cut to a readable length."""
        for secret in self._values:
            value = value.replace(secret, MASK)
        return value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + f"... ({len(value)} chars)"

    def _clean(self, value: Any, depth: int) -> Any:
        if depth > 12:
            return "..."
        if isinstance(value, Mapping):
            return {str(k): MASK if SECRET_NAME.search(str(k)) else self._clean(v, depth + 1)
                    for k, v in list(value.items())[:MAX_ITEMS]}
        if isinstance(value, list | tuple):
            cleaned = [self._clean(v, depth + 1) for v in value[:MAX_ITEMS]]
            return cleaned + ([f"... ({len(value)} items)"] if len(value) > MAX_ITEMS else [])
        if isinstance(value, bytes):
            return self.text(value.decode("utf-8", "replace"))
        if isinstance(value, str):
            return self.text(value)
        if value is None or isinstance(value, bool | int | float):
            return value
        return self.text(str(value))
