"""Contract tests over the whole registry, and the registry's own rules.

Every registered check: empty input gives nothing; findings are stable (same subjects,
same fingerprints, whatever the numbers); a runbook exists with the sections the teams
rely on. Adding a check without its runbook makes this module fail.
"""

from __future__ import annotations

import tomllib
from dataclasses import replace
from decimal import Decimal
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any, ClassVar

import pytest

from checks import BUILTIN
from tests.checks.factories import NOW, ctx_of, magento_snapshot, stokly_snapshot
from tests.checks.merchant import CONFIG, build
from watchdog.findings import CheckContext, Finding, Severity, Team, fingerprint
from watchdog.model import LedgerView
from watchdog.registry import ENGINE_CHECKS, GROUP, RegistryError, load_registry, registry_of

ROOT = Path(__file__).resolve().parents[2]
REGISTRY = load_registry()
SECTIONS = ("## What it means", "## Why it happens", "## Who owns it", "## How to resolve", "## How to verify")


def merchant_ctx(check_id: str, **changes: Any) -> CheckContext:
    magento, stokly, ledger, _ = build()
    ctx = CheckContext(integration="acme", now=NOW, currency="GBP", magento=magento, stokly=stokly, ledger=ledger,
                       config=CONFIG.get(check_id, {}), magento_admin_url="https://shop.example.com/admin")
    return replace(ctx, **changes)


def test_builtins_are_declared_as_entry_points_exactly() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["entry-points"][GROUP] == dict(BUILTIN)
    assert set(REGISTRY.ids) >= set(BUILTIN)


@pytest.mark.parametrize("check", list(REGISTRY), ids=REGISTRY.ids)
def test_empty_input_gives_nothing(check: Any) -> None:
    ctx = ctx_of(magento_snapshot(), stokly_snapshot(), ledger=LedgerView(last_success={"stock": NOW}))
    assert list(check.run(ctx)) == []


@pytest.mark.parametrize("check", list(REGISTRY), ids=REGISTRY.ids)
def test_findings_are_stable_and_belong_to_the_check(check: Any) -> None:
    first = list(check.run(merchant_ctx(check.id)))
    again = list(check.run(merchant_ctx(check.id)))
    assert first == again
    assert first, f"{check.id} found nothing in the ground-truth merchant"
    for finding in first:
        assert finding.check == check.id
        assert isinstance(finding, Finding)
        assert all(isinstance(v, int | Decimal) and not isinstance(v, bool) for v in finding.measures.values())
    assert len({f.subject for f in first}) == len(first)


def test_fingerprints_depend_on_identity_only() -> None:
    a = Finding(check="x", subject="sku:A", severity=Severity.INFO, owner=Team.OPERATIONS, summary="one",
                measures={"units": 1})
    b = replace(a, summary="two", measures={"units": 99})
    assert fingerprint("acme", a.check, a.subject) == fingerprint("acme", b.check, b.subject)
    assert fingerprint("acme", "x", "sku:A") != fingerprint("other", "x", "sku:A")
    assert len(fingerprint("acme", "x", "sku:A")) == 64


@pytest.mark.parametrize("check_id", [*REGISTRY.ids, *ENGINE_CHECKS])
def test_a_runbook_exists_for_every_check(check_id: str) -> None:
    path = ROOT / (REGISTRY.runbook(check_id) or "")
    assert path.name == f"{check_id}.md"
    assert path.is_file(), f"docs/runbooks/{check_id}.md is missing"
    text = path.read_text()
    missing = [s for s in SECTIONS if s not in text]
    assert not missing, f"{path.name} lacks {missing}"


class Good:
    id: ClassVar[str] = "good"
    owner: ClassVar[Team] = Team.PLATFORM
    runbook: ClassVar[str] = "docs/runbooks/good.md"
    needs: ClassVar[frozenset[str]] = frozenset({"ledger"})

    def run(self, ctx: CheckContext) -> list[Finding]:
        return []


class Twin(Good):
    pass


def test_the_same_class_twice_is_one_check_but_two_classes_for_one_id_are_refused() -> None:
    assert registry_of([("good", "a", Good), ("good", "b", Good)]).ids == ("good",)
    with pytest.raises(RegistryError, match="registered twice"):
        registry_of([("good", "a", Good), ("good", "b", Twin)])


@pytest.mark.parametrize(("change", "words"), [
    ({"id": "Bad-Id"}, "lowercase"),
    ({"id": "other"}, "differs from its entry-point name"),
    ({"owner": "ops"}, "owner must be"),
    ({"runbook": ""}, "runbook"),
    ({"needs": frozenset({"magento.order"})}, "unknown snapshot parts"),
    ({"needs": {"ledger"}}, "frozenset"),
    ({"run": None}, "run"),
])
def test_non_conforming_classes_are_refused_with_the_reason(change: dict[str, Any], words: str) -> None:
    bad = type("Bad", (Good,), change)
    with pytest.raises(RegistryError, match=words):
        registry_of([("good", "tests:Bad", bad)])


def test_engine_ids_are_reserved_and_instances_are_not_classes() -> None:
    with pytest.raises(RegistryError, match="reserved"):
        registry_of([("check_failed", "x", type("Bad", (Good,), {"id": "check_failed"}))])
    with pytest.raises(RegistryError, match="expected a class"):
        registry_of([("good", "x", Good())])


def test_third_party_entry_points_load_like_builtins() -> None:
    eps = [EntryPoint(name="good", value="tests.checks.test_registry_contract:Good", group=GROUP)]
    registry = load_registry(eps)
    assert "good" in registry
    assert set(BUILTIN) <= set(registry.ids)
    assert load_registry(eps, builtin=False).ids == ("good",)
