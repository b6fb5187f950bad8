"""Checks on what the answers' headers said: clock skew (``Date``) and Stokly's rate-limit header.

Pure functions over the ``Exchange`` records of ``ReadOnlyTransport``. A clock more than
``MAX_SKEW_S`` off the server's warns: OAuth 1.0a signatures carry a timestamp Magento checks,
and the Stokly token is refreshed by its expiry read against this machine's clock.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from watchdog.connectors.stokly_base import LOW_REMAINING
from watchdog.doctor.transport import REMAINING_HEADER, Exchange
from watchdog.doctor.verdicts import Check, Verdict

__all__ = ["MAX_SKEW_S", "clock_check", "rate_limit_check", "skew_seconds"]

MAX_SKEW_S = 60.0
DATE_RESOLUTION_S = 1.0
WHY = {"magento": "OAuth 1.0a signatures carry this machine's timestamp",
       "stokly": "the token is refreshed by its expiry, read against this machine's clock"}


def skew_seconds(exchanges: Sequence[Exchange]) -> float | None:
    """Median of (server time - the local time half way through the request); None without a Date.

    ``Date`` has whole seconds, cut down: the server's time was half a second later on average.
    """
    skews = [(e.server_date - (e.sent_at + (e.received_at - e.sent_at) / 2)).total_seconds() + DATE_RESOLUTION_S / 2
             for e in exchanges if e.server_date is not None]
    return statistics.median(skews) if skews else None


def clock_check(system: str, exchanges: Sequence[Exchange]) -> Check | None:
    """Warn when this machine's clock is more than MAX_SKEW_S off the server's; None when nothing answered."""
    if not exchanges:
        return None
    skew = skew_seconds(exchanges)
    if skew is None:
        return Check(system, "clock", "clock skew", Verdict.WARN, "not measured: the answers carry no Date header",
                     "make sure this machine's clock is synchronised (NTP)")
    side = "behind" if skew > 0 else "ahead of"
    detail = f"this machine's clock is {abs(skew):.1f} s {side} {system}'s (Date header, {len(exchanges)} answers)"
    if abs(skew) > MAX_SKEW_S:
        return Check(system, "clock", "clock skew", Verdict.WARN, f"{detail}: {WHY[system]}",
                     "synchronise this machine's clock (NTP, e.g. `timedatectl set-ntp true`)")
    return Check(system, "clock", "clock skew", Verdict.PASS, detail)


def _remaining(exchanges: Sequence[Exchange]) -> list[int]:
    raw = [e.remaining.strip() for e in exchanges if e.remaining is not None]
    return [int(r) for r in raw if r.lstrip("-").isdigit()]


def rate_limit_check(exchanges: Sequence[Exchange]) -> Check | None:
    """What Stokly's ``x-ratelimit-remaining`` said (None when nothing answered)."""
    if not exchanges:
        return None
    what, seen = f"rate-limit header {REMAINING_HEADER}", _remaining(exchanges)
    if len(seen) < len(exchanges):
        return Check("stokly", "rate limit", what, Verdict.WARN,
                     f"missing on {len(exchanges) - len(seen)} of {len(exchanges)} answers: the client cannot pause "
                     "before the limit and relies on 429 answers", "tell us (Stokly's own clients rely on it; a "
                     "proxy in between may strip it)")
    if min(seen) <= LOW_REMAINING:
        return Check("stokly", "rate limit", what, Verdict.WARN,
                     f"as few as {min(seen)} requests left in the window: other apps share this account's budget",
                     "lower [integrations.stokly] rate_per_s, or ask Stokly about the account's limit")
    return Check("stokly", "rate limit", what, Verdict.PASS,
                 f"on all {len(seen)} answers; lowest {min(seen)}, highest {max(seen)} remaining")
