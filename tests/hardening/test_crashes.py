"""Crashes, the long version: 200 SIGKILLs during a sync of 2,000 orders, 1,500 dispatches and 300 refunds.

The machinery is the sync's own crash test (``tests.sync.test_crash._crash_run``): both
simulators on loopback outlive every worker; each worker is a real ``watchdog sync --once``
process forked from a pre-imported zygote and killed a few writes into its work; meanwhile the
world moves on (the warehouse dispatches what Stokly has imported, refunds come in before and
after fulfilment); after the kills, uninterrupted runs drain the backlog and both simulators are
read for the ground truth: no duplicate at any point, nothing lost at the end, the kills landed
inside records. This module only sizes the run: fates weighted so that 2,000 orders bring about
1,500 dispatches and 300 refunds. CI runs the sync's short version; this one is behind
``--run-slow``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sync.scenario import FATES
from tests.sync.test_crash import _crash_run

ORDERS, KILLS = 2_000, 200
# quiet, ship, split (2 dispatches), refund before (then 1 dispatch), cancel all, refund after (1 dispatch)
WEIGHTS = (25, 55, 5, 5, 5, 5)


def test_the_weights_give_the_issue_s_mix() -> None:
    """At these weights 2,000 orders bring 1,500 dispatches and 300 refunds (in expectation)."""
    share = dict(zip(FATES, (w / sum(WEIGHTS) for w in WEIGHTS), strict=True))
    dispatches = share["ship"] + 2 * share["split"] + share["refund_before"] + share["refund_after"]
    refunds = share["refund_before"] + share["cancel_all"] + share["refund_after"]
    assert round(ORDERS * dispatches) == 1_500
    assert round(ORDERS * refunds) == 300


@pytest.mark.slow
def test_200_sigkills_during_a_big_sync_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    _crash_run(tmp_path, orders=ORDERS, kills=KILLS, seed=29, weights=WEIGHTS)
