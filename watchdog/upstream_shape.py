"""The ``upstream_shape`` findings: what a read could not take from Magento's or Stokly's answers.

One finding per (system, route, field) in the snapshots' ``shape`` lists (see
``watchdog.connectors.shape``): records set aside, or a field read as unknown. Raised by the
engine beside ``source_unreachable``; runbook ``docs/runbooks/upstream_shape.md``.
"""

from __future__ import annotations

from watchdog.findings import Finding, Severity, Team
from watchdog.lifecycle import CheckResult, Outcome
from watchdog.model import MagentoSnapshot, ShapeProblem, StoklySnapshot
from watchdog.stokly_assumed import read_shape

__all__ = ["UPSTREAM_SHAPE", "shape_finding", "shape_result"]

UPSTREAM_SHAPE = "upstream_shape"


def shape_result(magento: MagentoSnapshot, stokly: StoklySnapshot) -> CheckResult:
    """The engine's ``upstream_shape`` result for one run.

    While either system could not be read in full, nothing resolves (what was not read cannot
    be said to be well-formed): the result's scope is then only what it found.
    """
    findings = tuple(shape_finding(p) for p in (*magento.shape, *stokly.shape))
    if magento.errors or stokly.errors:
        return CheckResult(Outcome.OK, findings, scope=frozenset(f.subject for f in findings))
    return CheckResult(Outcome.OK, findings)


def subject(problem: ShapeProblem) -> str:
    """``shape:stokly:/v2/saleorders:tax``: one per system, route and field."""
    return f"shape:{problem.system}:{problem.route}:{problem.field}"


def shape_finding(problem: ShapeProblem) -> Finding:
    """One finding naming the route, the field, what was expected and what came, how many, and a sample."""
    name = problem.system.capitalize()
    used_for = _used_for(problem)
    sample = f"; e.g. {problem.sample_id}" if problem.sample_id else ""
    if problem.set_aside:
        what = (f"{problem.records} of {problem.read} records set aside (not read at all): field "
                f"{problem.field!r} {problem.got}{sample}")
        effect = "the checks do not see these records until the answer or our reader is corrected"
    else:
        what = (f"field {problem.field!r} {problem.got} in {problem.records} of {problem.read} records "
                f"(expected {problem.expected}){sample}")
        effect = f"read without it{': ' + used_for + ' not judged' if used_for else ''}"
    return Finding(
        check=UPSTREAM_SHAPE, subject=subject(problem),
        severity=Severity.WARNING if problem.set_aside or used_for else Severity.INFO,
        owner=Team.PLATFORM,
        summary=f"{name} GET {problem.route}: {what}; {effect}",
        measures={"records": problem.records, "read": problem.read},
    )


def _used_for(problem: ShapeProblem) -> str:
    if problem.system != "stokly":
        return ""
    for f in read_shape(problem.route):
        if f.path == problem.field:
            return f.used_for
    return ""
