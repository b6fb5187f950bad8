"""Ground truth: every registered check over a merchant with known, injected divergences.

Precision and recall must both be 100%: exactly the expected (check, subject) pairs, each
with its expected severity and exact measures; nothing for clean records or records
still in flight.
"""

from __future__ import annotations

from tests.checks.factories import NOW
from tests.checks.merchant import CONFIG, build
from watchdog.findings import CheckContext, Finding
from watchdog.registry import load_registry


def run_all() -> dict[tuple[str, str], Finding]:
    magento, stokly, ledger, _ = build()
    found: dict[tuple[str, str], Finding] = {}
    for check in load_registry():
        ctx = CheckContext(integration="acme", now=NOW, currency="GBP", magento=magento, stokly=stokly,
                           ledger=ledger, config=CONFIG.get(check.id, {}),
                           magento_admin_url="https://shop.example.com/admin")
        for finding in check.run(ctx):
            key = (finding.check, finding.subject)
            assert key not in found, f"{key} reported twice"
            found[key] = finding
    return found


def test_exactly_the_injected_findings_with_exact_measures() -> None:
    expected = build()[3]
    found = run_all()
    assert sorted(found) == sorted(expected)  # precision and recall
    for key, (severity, measures) in expected.items():
        assert (found[key].severity, dict(found[key].measures)) == (severity, measures), key


def test_every_check_has_at_least_two_injected_cases() -> None:
    expected = build()[3]
    per_check: dict[str, int] = {}
    for check, _ in expected:
        per_check[check] = per_check.get(check, 0) + 1
    single = {"stale_stock_push"}  # one stock flow per integration: one subject
    assert {c for c, n in per_check.items() if n < 2} == single
    assert set(per_check) == set(load_registry().ids)


def test_every_finding_is_actionable() -> None:
    for finding in run_all().values():
        assert finding.summary
        assert "\n" not in finding.summary
        assert len(finding.summary) < 400
        assert finding.owner is not None
