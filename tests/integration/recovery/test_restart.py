"""Guarantee 11: kill -9 a worker with orders open and partial fills pending, let the exchange move while it is
down, restart it: the database equals the exchange, the ledger checks clean, nothing is doubled."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path

import pytest

from autoinvest import runtime
from autoinvest.config import Settings
from autoinvest.db.tx import AppConnection, user_tx
from tests.integration.reconcile.helpers import below, big_tenant, frozen_prices, place_resting
from tests.support import processes
from tests.support.database import DatabaseUnderTest
from tests.support.simulator import RunningSimulator
from tests.support.trading import TradingTenant, settings_for

D = Decimal
pytestmark = pytest.mark.slow
WORKER = ["worker", "--roles", "executor,resolver,monitor", "--poll-s", "0.3"]


async def eventually(check: Callable[[], Awaitable[bool]], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.2)


async def rows(conn: AppConnection, t: TradingTenant, sql: str) -> list[dict[str, object]]:
    async with user_tx(conn, t.user_id):
        cur = await conn.execute(sql)  # type: ignore[arg-type]
        return await cur.fetchall()


async def test_kill_9_with_open_orders_then_restart_converges_to_the_exchange(
        db: DatabaseUnderTest, app_conn: AppConnection, simulator: RunningSimulator, tmp_path: Path) -> None:
    settings: Settings = settings_for(simulator, tmp_path)
    t = await big_tenant(app_conn, simulator, settings)
    env = processes.env_for(db, simulator)
    with frozen_prices(simulator):
        btc, eth = below(simulator, "BTC-EUR"), below(simulator, "ETH-EUR")
        r_btc = await place_resting(app_conn, settings, t, market="BTC-EUR", amount=D("0.015"), price=btc)
        r_eth = await place_resting(app_conn, settings, t, market="ETH-EUR", amount=D("0.3"), price=eth)
        worker = processes.start(WORKER, env)
        try:
            simulator.admin.set_price("BTC-EUR", btc)  # a partial fill the running worker records

            async def btc_partial() -> bool:
                return len(await rows(app_conn, t, "SELECT 1 FROM fills")) == 1
            await eventually(btc_partial)
        finally:
            worker.kill()  # kill -9
            worker.communicate(timeout=30)
        # While it is down: BTC fills completely, ETH fills partly (0.2 of 0.3) and stays open.
        simulator.admin.set_price("BTC-EUR", btc - 100)
        simulator.admin.set_price("ETH-EUR", eth)
        restarted = processes.start(WORKER, env)
        try:
            async def converged() -> bool:
                states = await rows(app_conn, t, "SELECT state, market FROM executions ORDER BY market")
                fills = await rows(app_conn, t, "SELECT 1 FROM fills")
                return [s["state"] for s in states] == ["FILLED", "SUBMITTED"] and len(fills) == 3
            await eventually(converged)
            await asyncio.sleep(1.0)  # a few more monitor passes: still nothing doubled
        finally:
            restarted.terminate()
            restarted.communicate(timeout=30)

    reader = await runtime.reader_for(app_conn, t.user_id, settings)
    try:
        exchange = {m: await reader.get_order(m, order_id=r.report.order_id)
                    for m, r in (("BTC-EUR", r_btc), ("ETH-EUR", r_eth))}
        trades = [f for m in ("BTC-EUR", "ETH-EUR") for f in await reader.trades(m)]
        balances = await reader.balances()
    finally:
        await reader.close()
    orders = {r["market"]: r for r in await rows(app_conn, t, "SELECT market, status, filled_amount, fee_paid"
                                                               " FROM exchange_orders")}
    for market, report in exchange.items():
        assert (orders[market]["status"], orders[market]["filled_amount"], orders[market]["fee_paid"]) == (
            report.status, report.filled_amount, report.fee_paid)
    assert (exchange["BTC-EUR"].status, exchange["ETH-EUR"].status) == ("filled", "partiallyFilled")
    fill_ids = [r["exchange_fill_id"] for r in await rows(app_conn, t, "SELECT exchange_fill_id FROM fills")]
    assert sorted(fill_ids) == sorted(f.fill_id for f in trades) and len(fill_ids) == 3  # nothing doubled
    positions = {r["market"]: r["quantity"] for r in await rows(app_conn, t, "SELECT market, quantity FROM positions")}
    assert positions == {"BTC-EUR": balances["BTC"].available + balances["BTC"].in_order,
                         "ETH-EUR": balances["ETH"].available + balances["ETH"].in_order} == {
        "BTC-EUR": D("0.015"), "ETH-EUR": D("0.2")}
    check = subprocess.run([*processes.CLI, "ledger", "check", "--profile", str(t.profile_id)], env=env,
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    trading = await rows(app_conn, t, "SELECT trading_enabled FROM profile_policies")
    assert trading == [{"trading_enabled": True}]  # its ledger matched: recovery did not pause it
