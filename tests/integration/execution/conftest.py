"""The settings of an execution scenario on the simulator; after every scenario, every capital account it created
satisfies the invariant, equals its entries, and agrees with the profile's positions (cost basis and realized
P&L)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest

from autoinvest.config import Settings
from autoinvest.db.tx import AppConnection, connect, system_tx, user_tx
from autoinvest.reconcile.ledger_audit import check_profile
from tests.support.database import DatabaseUnderTest
from tests.support.simulator import RunningSimulator
from tests.support.trading import settings_for


@pytest.fixture
def settings(simulator: RunningSimulator, tmp_path: Path) -> Settings:
    return settings_for(simulator, tmp_path)


async def _profiles(conn: AppConnection) -> set[tuple[UUID, UUID]]:
    async with system_tx(conn):
        cur = await conn.execute("SELECT profile_id, user_id FROM active_profile_ids()")
        return {(r["profile_id"], r["user_id"]) for r in await cur.fetchall()}


async def _position_totals(conn: AppConnection, profile_id: UUID, user_id: UUID) -> tuple[Decimal, Decimal]:
    async with user_tx(conn, user_id):
        cur = await conn.execute("SELECT coalesce(sum(cost_basis_eur), 0) AS cost,"
                                 " coalesce(sum(realized_pnl_eur), 0) AS realized FROM positions"
                                 " WHERE profile_id = %s", (profile_id,))
        row = await cur.fetchone()
    assert row is not None
    return row["cost"], row["realized"]


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
            assert await _position_totals(conn, profile_id, user_id) == (
                result.materialised.reserved_for_positions, result.materialised.realized_pnl), result.to_json()
    finally:
        await conn.close()
