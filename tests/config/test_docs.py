"""docs/configuration.md documents exactly the keys the loader accepts, and the example config is valid."""

from __future__ import annotations

import re
from pathlib import Path

from watchdog.config import KNOWN_KEYS, load_config

ROOT = Path(__file__).resolve().parents[2]
HEADING = re.compile(r"^## \[+([a-z_.]+)\]+\s*$")
ROW = re.compile(r"^\| `([a-z_]+)` \|")


def documented() -> dict[str, set[str]]:
    tables: dict[str, set[str]] = {"": set()}
    current: str | None = None
    for line in (ROOT / "docs" / "configuration.md").read_text().splitlines():
        if heading := HEADING.match(line):
            current = heading.group(1)
            tables.setdefault(current, set())
            tables[""].add(current.split(".")[0])
        elif (row := ROW.match(line)) and current is not None:
            tables[current].add(row.group(1))
    return tables


def test_every_key_is_documented_and_every_documented_key_exists() -> None:
    docs = documented()
    assert set(docs) == set(KNOWN_KEYS)
    for table, keys in KNOWN_KEYS.items():
        assert docs[table] == set(keys), table


def test_the_example_config_is_valid() -> None:
    env = {"SIM_MAGENTO_TOKEN": "t", "SIM_STOKLY_ACCOUNT": "acme", "SIM_STOKLY_CLIENT_ID": "c",
           "SIM_STOKLY_CLIENT_SECRET": "s"}
    config = load_config(ROOT / "examples" / "watchdog.toml", env)
    assert config.integrations[0].name == "sim-uk"
    assert config.server.listen == "127.0.0.1:9464"
