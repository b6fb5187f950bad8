"""The check registry: built-in checks and third-party ones, loaded and validated the same way.

Checks come from the ``watchdog.checks`` entry-point group (name = check id, value =
``module:Class``). The built-ins are declared there too (pyproject.toml) and listed in
``checks.BUILTIN``; ``load_registry`` also loads any built-in the installed metadata
lacks, through the very same path, so a stale editable install cannot hide one.

Every class is checked before it is accepted (``RegistryError`` names the offender):
an ``id`` of lowercase letters, digits and ``_`` that equals the entry-point name and is
not an id the engine raises itself; an ``owner`` that is a ``Team``; a non-empty
``runbook``; ``needs`` a frozenset of known snapshot parts ("magento.<field>",
"stokly.<field>", "ledger"); a callable ``run``. The same id from two different classes
is rejected; the same class declared twice is one check.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from types import MappingProxyType
from typing import Any

from watchdog.findings import Check, Team
from watchdog.model import MagentoSnapshot, StoklySnapshot

__all__ = [
    "ENGINE_CHECKS",
    "GROUP",
    "Registry",
    "RegistryError",
    "default_registry",
    "known_parts",
    "load_registry",
    "registry_of",
]

GROUP = "watchdog.checks"
ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# Ids of the findings the engine raises itself (they have runbooks but no check class).
ENGINE_CHECKS: Mapping[str, str] = MappingProxyType({
    "source_unreachable": "docs/runbooks/source_unreachable.md",
    "check_failed": "docs/runbooks/check_failed.md",
    "upstream_shape": "docs/runbooks/upstream_shape.md",
})


class RegistryError(Exception):
    """A check could not be registered: it does not conform, or its id is taken."""


def known_parts() -> frozenset[str]:
    """Every snapshot part a check may name in ``needs``: the parts a snapshot may lack (None)."""
    magento = {f"magento.{f.name}" for f in dataclasses.fields(MagentoSnapshot) if f.default is None}
    stokly = {f"stokly.{f.name}" for f in dataclasses.fields(StoklySnapshot) if f.default is None}
    return frozenset(magento | stokly | {"ledger"})


@dataclass(frozen=True)
class Registry:
    """The checks to run, by id, in registration order."""

    checks: Mapping[str, Check]

    def __iter__(self) -> Iterator[Check]:
        return iter(self.checks.values())

    def __len__(self) -> int:
        return len(self.checks)

    def __contains__(self, check_id: object) -> bool:
        return check_id in self.checks

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self.checks)

    def get(self, check_id: str) -> Check | None:
        return self.checks.get(check_id)

    def runbook(self, check_id: str) -> str | None:
        """The runbook path of a registered or engine-raised check, else None."""
        check = self.checks.get(check_id)
        return check.runbook if check is not None else ENGINE_CHECKS.get(check_id)


def load_registry(eps: Iterable[EntryPoint] | None = None, *, builtin: bool = True) -> Registry:
    """The registry of the ``watchdog.checks`` entry points (``eps``, default the installed ones),
    plus the built-ins missing from them when ``builtin``. Raises RegistryError."""
    declared = [(ep.name, ep.value, ep.load) for ep in (entry_points(group=GROUP) if eps is None else eps)]
    if builtin:
        from checks import BUILTIN

        names = {name for name, _, _ in declared}
        declared += [(name, value, _loader(value)) for name, value in BUILTIN.items() if name not in names]
    return registry_of((name, value, load()) for name, value, load in declared)


def registry_of(declared: Iterable[tuple[str, str, Any]]) -> Registry:
    """A registry of ``(id, where it comes from, class)`` triples, validated. Raises RegistryError."""
    checks: dict[str, Check] = {}
    origins: dict[str, tuple[str, Any]] = {}
    for name, origin, cls in declared:
        if name in origins:
            if origins[name][1] is cls:
                continue
            raise RegistryError(f"check id {name!r} is registered twice: by {origins[name][0]} and by {origin}")
        checks[name] = _validated(name, origin, cls)
        origins[name] = (origin, cls)
    return Registry(checks=MappingProxyType(checks))


@cache
def default_registry() -> Registry:
    """The installed registry, loaded once per process. Raises RegistryError."""
    return load_registry()


def _loader(value: str) -> Any:
    module, _, attr = value.partition(":")
    return lambda: getattr(importlib.import_module(module), attr)


def _validated(name: str, origin: str, cls: Any) -> Check:
    problems = _problems(name, cls)
    if problems:
        raise RegistryError(f"check {name!r} ({origin}) does not conform: {'; '.join(problems)}")
    try:
        instance = cls()
    except Exception as exc:
        raise RegistryError(f"check {name!r} ({origin}) cannot be created without arguments: {exc}") from exc
    if not isinstance(instance, Check):
        raise RegistryError(f"check {name!r} ({origin}) does not conform to watchdog.findings.Check")
    return instance


def _problems(name: str, cls: Any) -> list[str]:
    if not isinstance(cls, type):
        return [f"expected a class, got {type(cls).__name__}"]
    check_id = getattr(cls, "id", None)
    problems = []
    if not isinstance(check_id, str) or not ID_RE.match(check_id):
        problems.append(f"id {check_id!r} must be lowercase letters, digits and '_'")
    elif check_id != name:
        problems.append(f"id {check_id!r} differs from its entry-point name {name!r}")
    elif check_id in ENGINE_CHECKS:
        problems.append(f"id {check_id!r} is reserved for findings the engine raises")
    if not isinstance(getattr(cls, "owner", None), Team):
        problems.append("owner must be a watchdog.findings.Team")
    runbook = getattr(cls, "runbook", None)
    if not isinstance(runbook, str) or not runbook.strip():
        problems.append("runbook must name the runbook file, e.g. 'docs/runbooks/<id>.md'")
    problems += _needs_problems(getattr(cls, "needs", None))
    if not callable(getattr(cls, "run", None)):
        problems.append("run(ctx) is missing")
    return problems


def _needs_problems(needs: object) -> list[str]:
    if not isinstance(needs, frozenset) or not all(isinstance(p, str) for p in needs):
        return ["needs must be a frozenset of snapshot part names"]
    unknown = sorted(needs - known_parts())
    return [f"needs names unknown snapshot parts {unknown}"] if unknown else []
