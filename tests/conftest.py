"""Shared fixtures: databases (SQLite always; PostgreSQL when WATCHDOG_TEST_POSTGRES_URL is set).

Each PostgreSQL test gets its own schema, created and dropped here, so parallel and
repeated runs on the shared server never collide. In CI (``CI=true``) the
PostgreSQL URL is required: a missing one fails instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from watchdog.store.db import Store, open_store, upgrade

PG_URL = os.environ.get("WATCHDOG_TEST_POSTGRES_URL", "")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", default=False, help="run the long hardening tests")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="long version: pass --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def _postgres_schema_store() -> Iterator[Store]:
    if not PG_URL:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must set WATCHDOG_TEST_POSTGRES_URL: the PostgreSQL store tests are required there")
        pytest.skip("set WATCHDOG_TEST_POSTGRES_URL to run the PostgreSQL tests")
    schema = f"wd_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    store = open_store(PG_URL, schema=schema)
    try:
        yield store
    finally:
        store.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_store(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[Store]:
    """A database with no tables yet, on each backend."""
    if request.param == "sqlite":
        store = open_store(f"sqlite:///{tmp_path}/watchdog.db")
        yield store
        store.dispose()
    else:
        yield from _postgres_schema_store()


@pytest.fixture
def store(empty_store: Store) -> Store:
    """A migrated database on each backend."""
    upgrade(empty_store.engine)
    return empty_store


@pytest.fixture
def sqlite_store(tmp_path: object) -> Iterator[Store]:
    """A migrated SQLite database only (for tests that do not depend on the backend)."""
    store = open_store(f"sqlite:///{tmp_path}/watchdog.db")
    upgrade(store.engine)
    yield store
    store.dispose()
