"""Verdicts on the shape calibration: which assumed Stokly fields the sampled records contradict.

- a *required* field missing or of another type: fail (records without it are set aside);
- a field a check uses that is never present, or comes with another type: fail (that part of
  the check is blind);
- a field never present, of another type, or used by a check and missing from some records: warn;
- a field nothing depends on, missing from some records only: no line (optional in practice; the
  calibration table still shows it).
Each fix names the constant to correct in ``watchdog/stokly_assumed.py`` or asks to tell us.
"""

from __future__ import annotations

from collections.abc import Sequence

from watchdog.doctor.verdicts import Check, FieldTally, Verdict

__all__ = ["route_check", "shape_checks", "tally_check"]

MODULE = "watchdog/stokly_assumed.py"


def _verdict(t: FieldTally) -> Verdict:
    if t.required:
        return Verdict.FAIL
    if t.used_for and (t.other_type or t.absent == t.seen):
        return Verdict.FAIL
    return Verdict.WARN


def _name(t: FieldTally) -> str:
    return f"`{t.constant}`" if t.constant else f"the `{t.path}` entry of READ_SHAPES[{t.route!r}]"


def _detail(t: FieldTally) -> str:
    parts = [f"absent in {t.absent} of {t.seen}"] if t.absent else []
    if t.other_type:
        parts.append(f"{t.other_type} of {t.seen} not {t.type} ({', '.join(t.other_types)})")
    text = "; ".join(parts) + f" ({t.evidence}{', required' if t.required else ''}"
    text += f"; used for {t.used_for})" if t.used_for else ")"
    if t.nearby:
        text += "; other name seen nearby: " + ", ".join(f"{k} (in {n})" for k, n in t.nearby)
    return text


def _fix(t: FieldTally) -> str:
    if t.nearby:
        return (f"if `{t.nearby[0][0]}` holds the same value, correct {_name(t)} in {MODULE} to "
                f"{t.nearby[0][0]!r}; otherwise tell us")
    if t.other_type:
        return f"correct the type of `{t.path}` in READ_SHAPES ({MODULE}) to what Stokly sends, or tell us"
    if t.absent < t.seen and not t.required:
        return "nothing to do if those records truly lack it (it is optional in practice); otherwise tell us"
    return (f"tell us: Stokly does not send `{t.path}`; once Stokly says which field holds it, correct {_name(t)} "
            f"in {MODULE}")


def tally_check(t: FieldTally) -> Check | None:
    """The verdict on one field; None when the sample agrees with READ_SHAPES (see the module docstring)."""
    if not t.seen or not (t.absent or t.other_type):
        return None
    if not (t.required or t.used_for or t.other_type or t.absent == t.seen):
        return None
    return Check("stokly", "shape", f"{t.route} {t.path}", _verdict(t), _detail(t), _fix(t))


def route_check(route: str, sampled: int, tallies: Sequence[FieldTally]) -> Check | None:
    """A line for a route whose sample agreed with every field, or that had nothing to sample."""
    if not sampled:
        return Check("stokly", "shape", f"{route} shape", Verdict.WARN,
                     "no records to sample: its shape is not verified",
                     "run doctor again once the account holds some, or tell us")
    if any(tally_check(t) for t in tallies):
        return None
    return Check("stokly", "shape", f"{route} shape", Verdict.PASS,
                 f"{sampled} record(s) sampled; all {len(tallies)} field(s) as assumed")


def shape_checks(sampled: Sequence[tuple[str, int]], tallies: Sequence[FieldTally]) -> list[Check]:
    """Route lines, then one line per field the records contradict."""
    by_route = {route: [t for t in tallies if t.route == route] for route, _ in sampled}
    lines = [route_check(route, n, by_route[route]) for route, n in sampled]
    lines += [tally_check(t) for t in tallies]
    return [c for c in lines if c is not None]
