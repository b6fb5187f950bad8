"""A string that never shows itself: ``repr``, ``str`` and f-strings print ``**********``.

Credentials are read from the environment by ``watchdog.config`` and travel as
``Secret`` until the one place that needs the value calls ``reveal()``.
"""

from __future__ import annotations

__all__ = ["Secret"]

MASK = "**********"


class Secret:
    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret value. Call only where it is sent to the system it belongs to."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret cannot be pickled")
