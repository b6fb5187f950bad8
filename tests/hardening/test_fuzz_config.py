"""The config loader, fuzzed: any file or document gives a Config or ConfigError naming file and key.

Inputs: arbitrary bytes as the file, arbitrary TOML-shaped documents, and the complete example
(``examples/watchdog.toml``) with every key given every kind of wrong value, removed, or joined
by an unknown key. Allowed outcomes: a ``Config``, or ``ConfigError`` whose problems each name the
file, a key and a one-line reason, where the key of the damage is among them. A secret from the
environment never appears in a message.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watchdog.config import KNOWN_KEYS, Config, ConfigError, config_from_mapping, load_config

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = tomllib.loads((REPO / "examples" / "watchdog.toml").read_text(encoding="utf-8"))
SECRET = "s3cr3t-CANARY-value"
ENV = {"SIM_MAGENTO_TOKEN": SECRET, "SIM_STOKLY_ACCOUNT": SECRET, "SIM_STOKLY_CLIENT_ID": SECRET,
       "SIM_STOKLY_CLIENT_SECRET": SECRET, "SLACK_BOT_TOKEN": SECRET}
FILE = "fuzzed.toml"
TOML_SCALAR = (st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
               | st.sampled_from(["", "0s", "-5m", "99999999999999999999d", "1e9h", "25:61", "Mars/Olympus",
                                  "../etc/passwd", "\x00", "ftp://x", "http://", "ABC_ENV", "not valid env"])
               | st.datetimes() | st.dates() | st.times())
TOML_VALUE = st.recursive(TOML_SCALAR, lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=15)
KEYS = sorted({k for keys in KNOWN_KEYS.values() for k in keys})
BAD_VALUES: list[Any] = [None, "", "x", -1, 0, 10**40, 1.5, float("inf"), True, [], ["a", 1], {}, {"x": 1},
                         "999999999999999999999d", "\x00", datetime(2026, 1, 1), date(2026, 1, 1), time(7, 30)]


def loads(raw: Mapping[str, Any]) -> Config | ConfigError:
    """The config, or the error; anything else fails the test."""
    try:
        return config_from_mapping(raw, FILE, ENV)
    except ConfigError as exc:
        error = exc
    assert error.problems, "a ConfigError lists its problems"
    for problem in error.problems:
        assert problem.file == FILE
        assert problem.key
        assert problem.reason
        assert "\n" not in problem.reason
        assert len(str(problem)) < 400, str(problem)
    assert SECRET not in str(error)
    return error


def test_the_example_loads() -> None:
    assert isinstance(loads(EXAMPLE), Config)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from([*KNOWN_KEYS[""], "extra"]), TOML_VALUE, max_size=6))
def test_arbitrary_documents(raw: dict[str, Any]) -> None:
    loads(raw)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(KEYS), TOML_VALUE)
def test_any_known_key_anywhere_with_any_value(key: str, value: Any) -> None:
    for path in paths(EXAMPLE):
        if path and isinstance(at(EXAMPLE, path[:-1]), dict):
            loads(replaced(EXAMPLE, (*path[:-1], key), value))


def paths(doc: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from paths(value, (*path, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            yield from paths(value, (*path, index))


def at(doc: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        doc = doc[key]
    return doc


def replaced(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy: Any = dict(doc) if isinstance(doc, dict) else list(doc)
    if len(path) == 1 and value is None:
        del copy[path[0]]  # TOML has no null: None means the key is left out
    elif len(path) == 1:
        copy[path[0]] = value
    else:
        copy[path[0]] = replaced(doc[path[0]], path[1:], value)
    return copy


def dotted(path: tuple[Any, ...]) -> str:
    """``integrations[0].magento.base_url``: how a problem names a key."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


@pytest.mark.parametrize("path", [p for p in paths(EXAMPLE) if p], ids=dotted)
def test_every_key_of_the_example_damaged_every_way(path: tuple[Any, ...]) -> None:
    named = 0
    for bad in BAD_VALUES:
        result = loads(replaced(EXAMPLE, path, bad))
        if isinstance(result, ConfigError):
            named += any(_names(problem.key, path) for problem in result.problems)
    parent = path[:-1]
    if isinstance(at(EXAMPLE, parent), dict) and not str(path[-1]).startswith("_"):
        unknown = loads(replaced(EXAMPLE, (*parent, "no_such_key_" + str(path[-1])), 1))
        if not _free_form(parent):
            assert isinstance(unknown, ConfigError), f"an unknown key beside {dotted(path)} is refused"
    assert named or _optional(path), f"no damage to {dotted(path)} was reported against that key"


def _names(key: str, path: tuple[Any, ...]) -> bool:
    """Whether a problem's key points at ``path`` (or at the table that holds it)."""
    want = dotted(path)
    return key == want or want.startswith(key) or key.startswith(want)


def _optional(path: tuple[Any, ...]) -> bool:
    """Check settings are free-form: each check reads its own (a check id is any plugin's)."""
    return "checks" in path


def _free_form(table: tuple[Any, ...]) -> bool:
    """Tables whose keys are not fixed: check ids and their settings, and the teams of ``routes``."""
    return "checks" in table or table[-1:] == ("routes",)


@settings(max_examples=60, deadline=None)
@given(content=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_file_content(content: bytes, tmp_path_factory: pytest.TempPathFactory) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "watchdog.toml"
    path.write_bytes(content)
    try:
        load_config(path, ENV)
    except ConfigError as exc:
        assert_names_the_file(exc, str(path))


def assert_names_the_file(error: ConfigError, file: str) -> None:
    assert all(p.file == file for p in error.problems)
    assert SECRET not in str(error)


def test_a_missing_file_and_a_directory_are_config_errors(tmp_path: Path) -> None:
    for path in (tmp_path / "absent.toml", tmp_path):
        with pytest.raises(ConfigError) as caught:
            load_config(path, ENV)
        assert str(path) in str(caught.value)


def test_the_configured_times_of_day_are_the_ones_used() -> None:
    """``full_stock_push`` and ``email_digest`` were once read as their defaults, whatever the file said."""
    schedule = {**EXAMPLE["schedule"], "full_stock_push": "03:15", "email_digest": "06:45"}
    config = loads({**EXAMPLE, "schedule": schedule})
    assert isinstance(config, Config)
    assert (config.schedule.full_stock_push, config.schedule.email_digest) == ("03:15", "06:45")
