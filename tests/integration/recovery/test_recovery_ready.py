"""Restart to ready does not wait for exchange work the loops can do: start-up recovery reconciles (before any loop
runs) only the accounts the executor could send for (an approved proposal without an execution: where a restore
may have lost an order), and leaves the others to the reconciler and monitor loops. Nothing is lost or doubled."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest

from autoinvest import runtime
from autoinvest.config import Settings
from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.exchange.base import MarketData
from autoinvest.execution.client_order_id import client_order_id
from autoinvest.reconcile.service import reconcile_all
from autoinvest.recovery import recover
from tests.integration.reconcile.helpers import BIG, below, frozen_prices, place_resting
from tests.support.database import DatabaseUnderTest
from tests.support.simulator import RunningSimulator
from tests.support.trading import make_trading_tenant, orders_of, settings_for


@pytest.fixture
def settings(simulator: RunningSimulator, tmp_path: Path) -> Settings:
    return settings_for(simulator, tmp_path, resolver_grace_s=0)


async def test_recovery_is_ready_without_reconciling_accounts_the_loops_follow_and_the_loops_converge_them(
        scan_db: DatabaseUnderTest, scan_conn: AppConnection, simulator: RunningSimulator, settings: Settings) -> None:
    async def reader_for(conn: AppConnection, user_id: UUID) -> MarketData:
        return await runtime.reader_for(conn, user_id, settings)

    resting = []
    with frozen_prices(simulator):
        for _ in range(5):  # five accounts, each with an open order its SUBMITTED execution follows
            t = await make_trading_tenant(scan_conn, simulator, settings, **BIG)  # type: ignore[arg-type]
            resting.append((t, await place_resting(scan_conn, settings, t, market="ETH-EUR", amount=Decimal("0.1"),
                                                   price=below(simulator, "ETH-EUR"))))
    simulator.admin.fault("*", "latency", latency_ms=400)  # a slow exchange: 5 accounts take longer than 3 s
    try:
        started = time.monotonic()
        report = await recover(scan_db.app_url, reader_for=reader_for, loop_settings=runtime.loop_settings(settings),
                               exchange_budget_s=3.0)
        elapsed = time.monotonic() - started
    finally:
        simulator.admin.clear_faults()

    assert not report.timed_out and elapsed < 3, (
        f"start-up waited {elapsed:.1f} s for accounts no order can be sent for: {report.to_json()}")
    assert report.reconciled == [] and report.deferred == 5, report.to_json()
    # the reconciler loop's pass does them; every order is still there once, followed by its execution
    passed = await reconcile_all(scan_conn, reader_for)
    assert sorted(str(a.user_id) for a in passed.accounts) == sorted(str(t.user_id) for t, _ in resting)
    assert all(p.status == "ok" for a in passed.accounts for p in a.profiles), passed.to_json()
    for t, r in resting:
        async with user_tx(scan_conn, t.user_id):
            cur = await scan_conn.execute("SELECT state, exchange_order_id FROM executions")
            assert await cur.fetchall() == [{"state": "SUBMITTED", "exchange_order_id": r.report.order_id}]
            cur = await scan_conn.execute("SELECT proposal_id FROM executions")
            proposal = (await cur.fetchone() or {})["proposal_id"]
        assert len(orders_of(simulator, client_order_id(t.user_id, proposal))) == 1
