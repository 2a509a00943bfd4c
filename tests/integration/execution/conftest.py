"""After every execution scenario, every capital account it created satisfies the invariant and equals its entries."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import UUID

import pytest

from autoinvest.db.tx import AppConnection, connect, system_tx
from autoinvest.reconcile.ledger_audit import check_profile
from tests.support.database import DatabaseUnderTest


async def _profiles(conn: AppConnection) -> set[tuple[UUID, UUID]]:
    async with system_tx(conn):
        cur = await conn.execute("SELECT profile_id, user_id FROM active_profile_ids()")
        return {(r["profile_id"], r["user_id"]) for r in await cur.fetchall()}


@pytest.fixture(autouse=True)
async def capital_invariant_after_each_scenario(db: DatabaseUnderTest) -> AsyncIterator[None]:
    conn = await connect(db.app_url)
    try:
        before = await _profiles(conn)
        yield
        for profile_id, user_id in sorted(await _profiles(conn) - before):
            result = await check_profile(conn, profile_id, user_id)
            if result.materialised is None:
                continue
            result.materialised.check()  # the invariant holds (the CHECK constraint says so too)
            assert result.invariant_error is None, result.to_json()
            assert dict(result.drift) == {}, f"ledger check found a difference after the scenario: {result.to_json()}"
    finally:
        await conn.close()
