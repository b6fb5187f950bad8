"""The records a doctor run produces: one ``Check`` per thing checked, gathered in a ``Report``.

A check is a verdict (pass / warn / fail) on one thing (a credential, a route, a mapping, a
field), what was seen and, unless it passed, a fix a person can follow. The calibration of
Stokly's read shapes is kept beside the checks as ``FieldTally`` rows (``calibration.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["Check", "FieldTally", "Report", "Verdict", "worst"]


class Verdict(StrEnum):
    """How a check came out; ``fail`` needs a person before the service can be trusted."""

    PASS = "pass"  # noqa: S105 - a verdict, not a password
    WARN = "warn"
    FAIL = "fail"


_RANK = {Verdict.PASS: 0, Verdict.WARN: 1, Verdict.FAIL: 2}


def worst(verdicts: list[Verdict]) -> Verdict:
    """The most serious of ``verdicts`` (pass for none)."""
    return max(verdicts, key=_RANK.__getitem__, default=Verdict.PASS)


@dataclass(frozen=True)
class Check:
    """One verdict. ``area``: credentials, clock, route, mapping, rate limit or shape."""

    system: str  # "magento" | "stokly"
    area: str
    what: str
    verdict: Verdict
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class FieldTally:
    """What the sampled records of ``route`` said about one field of ``READ_SHAPES``.

    ``seen`` counts the places the field was looked for (records, or list elements for a
    ``items[].x`` path); ``nearby`` holds other keys that look like it, with how often each came.
    """

    route: str
    path: str
    type: str
    evidence: str
    required: bool
    used_for: str
    constant: str  # the name to correct in watchdog/stokly_assumed.py ("" when none holds it)
    seen: int
    present: int
    absent: int
    other_type: int
    other_types: tuple[str, ...] = ()
    nearby: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Report:
    """Everything one integration's doctor run found."""

    integration: str
    magento_url: str
    stokly_url: str
    checks: tuple[Check, ...]
    calibration: tuple[FieldTally, ...] = field(default=())
    sampled: tuple[tuple[str, int], ...] = field(default=())  # (route, records sampled)

    @property
    def verdict(self) -> Verdict:
        return worst([c.verdict for c in self.checks])

    def count(self, verdict: Verdict) -> int:
        """How many checks came out ``verdict``."""
        return sum(1 for c in self.checks if c.verdict is verdict)
