from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from autoinvest.db.tx import AppConnection, connect
from tests.support import database


@pytest.fixture(scope="session")
def db() -> Iterator[database.DatabaseUnderTest]:
    """One real PostgreSQL for the whole run, migrated to head."""
    with database.private_home("autoinvest-test-db-") as home:
        test_db = database.start(home)
        yield test_db
        database.stop(test_db)


@pytest.fixture
async def app_conn(db: database.DatabaseUnderTest) -> AsyncIterator[AppConnection]:
    """A connection as the application role (owns nothing, no BYPASSRLS)."""
    conn = await connect(db.app_url)
    yield conn
    await conn.close()
