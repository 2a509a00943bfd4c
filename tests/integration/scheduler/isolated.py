"""A database of its own for scan tests: scanners claim every due job of a database, so tests that run them
must not see (or touch) the profiles of other tests. Same server, fresh database, migrated to head."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import LiteralString

import psycopg
import pytest

from autoinvest.db.tx import AppConnection, connect
from tests.support.database import DatabaseUnderTest


def isolated_database(db: DatabaseUnderTest) -> DatabaseUnderTest:
    return db.migrated_copy()


def admin_execute(test_db: DatabaseUnderTest, query: LiteralString, params: tuple[object, ...] = ()) -> None:
    """Test-only changes the app role may not make (e.g. moving a job's due time)."""
    with psycopg.connect(test_db.admin_url, autocommit=True) as conn:
        conn.execute(query, params)


@pytest.fixture
def scan_db(db: DatabaseUnderTest) -> DatabaseUnderTest:
    """A fresh database per test (about 0.3 s)."""
    return isolated_database(db)


@pytest.fixture
async def scan_conn(scan_db: DatabaseUnderTest) -> AsyncIterator[AppConnection]:
    conn = await connect(scan_db.app_url)
    yield conn
    await conn.close()
