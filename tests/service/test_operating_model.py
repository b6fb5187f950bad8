"""docs/operating-model.md names every finding's owner team and runbook, as the code does."""

from __future__ import annotations

import re
from pathlib import Path

from watchdog.dispatch_channels import CHANNEL_CHECK
from watchdog.registry import ENGINE_CHECKS, default_registry

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^\| `([a-z_]+)` \| ([a-z]+) \| \[([a-z_]+)\]\(runbooks/([a-z_]+)\.md\) \|", re.MULTILINE)


def test_every_finding_kind_is_listed_with_its_owner_and_runbook() -> None:
    rows = {check: (owner, link, page) for check, owner, link, page in
            ROW.findall((ROOT / "docs/operating-model.md").read_text())}
    expected = {check.id: str(check.owner) for check in default_registry()}
    expected |= dict.fromkeys((*ENGINE_CHECKS, CHANNEL_CHECK), "platform")
    assert {check: owner for check, (owner, _, _) in rows.items()} == expected
    for check, (_, link, page) in rows.items():
        assert link == page == check
        assert (ROOT / "docs/runbooks" / f"{page}.md").exists()
