"""The order monitor follows SUBMITTED orders, resting limit orders included, until the exchange closes them."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from uuid import UUID

from autoinvest import runtime
from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.exchange.base import MarketData
from autoinvest.execution.loops import monitor_pass
from tests.integration.reconcile.helpers import below, big_tenant, frozen_prices, place_resting, snapshot
from tests.support.simulator import RunningSimulator
from tests.support.trading import settings_for

D = Decimal


async def test_the_monitor_applies_later_fills_of_a_resting_order(
        app_conn: AppConnection, simulator: RunningSimulator, tmp_path: Path) -> None:
    settings = settings_for(simulator, tmp_path)
    t = await big_tenant(app_conn, simulator, settings)

    async def reader_for(conn: AppConnection, user_id: UUID) -> MarketData:
        return await runtime.reader_for(conn, user_id, settings)

    async def state() -> tuple[str, int]:
        async with user_tx(app_conn, t.user_id):
            cur = await app_conn.execute("SELECT state, (SELECT count(*) FROM fills) AS n FROM executions")
            row = await cur.fetchone()
        assert row is not None
        return row["state"], row["n"]

    with frozen_prices(simulator):
        price = below(simulator, "BTC-EUR")
        await place_resting(app_conn, settings, t, market="BTC-EUR", amount=D("0.015"), price=price)
        await monitor_pass(app_conn, reader_for=reader_for, grace_s=0)
        before = await snapshot(app_conn, t.user_id, t.profile_id)
        await monitor_pass(app_conn, reader_for=reader_for, grace_s=0)  # nothing happened: nothing changes
        assert await snapshot(app_conn, t.user_id, t.profile_id) == before
        assert await state() == ("SUBMITTED", 0)
        simulator.admin.set_price("BTC-EUR", price)
        await monitor_pass(app_conn, reader_for=reader_for, grace_s=0)
        assert await state() == ("SUBMITTED", 1)
        simulator.admin.set_price("BTC-EUR", price - 100)
        await monitor_pass(app_conn, reader_for=reader_for, grace_s=0)
        assert await state() == ("FILLED", 2)
    after = await snapshot(app_conn, t.user_id, t.profile_id)
    assert after["check"] is None and after["account"].reserved_for_orders == 0
