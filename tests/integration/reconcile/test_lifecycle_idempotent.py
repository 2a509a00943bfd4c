"""Guarantee 9: every lifecycle event (ack, partial fill, cancel after a partial fill, sell fill, reject), applied
by two OS processes at the same instant and then once more, leaves exactly the state of one application."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from autoinvest import runtime
from autoinvest.config import Settings
from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.domain.states import Side
from autoinvest.exchange.base import OrderReport
from autoinvest.lifecycle.apply import apply_order
from tests.integration.reconcile.helpers import below, big_tenant, frozen_prices, place_resting, snapshot
from tests.support import processes
from tests.support.database import DatabaseUnderTest
from tests.support.proposals import make_proposal
from tests.support.simulator import RunningSimulator
from tests.support.trading import TradingTenant

D = Decimal
pytestmark = pytest.mark.slow


def race(db: DatabaseUnderTest, t: TradingTenant, execution_id: UUID, report: OrderReport,
         tmp_path: Path) -> list[dict[str, Any]]:
    """Two processes apply the same report at the same instant; returns what each applied."""
    path = tmp_path / f"{report.order_id}-{report.status}-{len(report.fills)}.json"
    path.write_text(json.dumps(report.raw))
    start_at = str(time.time() + 1.5)  # after both have connected and parsed
    procs = [subprocess.Popen([sys.executable, "-m", "tests.integration.reconcile.apply_child", db.app_url,
                               str(t.user_id), str(execution_id), str(path), start_at],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        results.append(json.loads(out))
    return results


async def event(db: DatabaseUnderTest, conn: AppConnection, t: TradingTenant, execution_id: UUID,
                report: OrderReport, tmp_path: Path, *, new_fills: int) -> dict[str, Any]:
    """Race two processes, then apply a third time in-process: nothing may change after the first."""
    results = race(db, t, execution_id, report, tmp_path)
    assert sorted(r["new_fills"] for r in results) == [0, new_fills], results  # exactly one applied each fill
    once = await snapshot(conn, t.user_id, t.profile_id)
    again = await apply_order(conn, t.user_id, execution_id, report)
    assert again.new_fills == 0
    assert await snapshot(conn, t.user_id, t.profile_id) == once
    assert once["check"] is None
    once["account"].check()
    return once


async def get(settings: Settings, conn: AppConnection, t: TradingTenant, market: str, order_id: str) -> OrderReport:
    reader = await runtime.reader_for(conn, t.user_id, settings)
    try:
        return await reader.get_order(market, order_id=order_id)
    finally:
        await reader.close()


async def test_each_event_twice_and_concurrently_from_two_processes_is_applied_once(
        db: DatabaseUnderTest, app_conn: AppConnection, simulator: RunningSimulator, settings: Settings,
        tmp_path: Path) -> None:
    t = await big_tenant(app_conn, simulator, settings)
    with frozen_prices(simulator):
        price = below(simulator, "BTC-EUR")
        buy = await place_resting(app_conn, settings, t, market="BTC-EUR", amount=D("0.015"), price=price, ack=False)

        # the ack: SUBMITTING → SUBMITTED
        acked = await event(db, app_conn, t, buy.execution_id, buy.report, tmp_path, new_fills=0)
        assert [e["state"] for e in acked["executions"]] == ["SUBMITTED"] and acked["fills"] == []

        simulator.admin.set_price("BTC-EUR", price)  # a touch: 0.01 of 0.015 fills
        partial = await get(settings, app_conn, t, "BTC-EUR", buy.report.order_id)
        assert partial.status == "partiallyFilled" and len(partial.fills) == 1
        state = await event(db, app_conn, t, buy.execution_id, partial, tmp_path, new_fills=1)
        assert len(state["fills"]) == 1 and state["positions"][0]["quantity"] == D("0.01")
        assert [e["kind"] for e in state["entries"]].count("FILL") == 1

        clients = await runtime.executor_clients(settings)(app_conn, t.user_id)
        try:
            await clients.trader.cancel_order("BTC-EUR", operator_id=1, order_id=buy.report.order_id)
        finally:
            await clients.close()
        canceled = await get(settings, app_conn, t, "BTC-EUR", buy.report.order_id)
        state = await event(db, app_conn, t, buy.execution_id, canceled, tmp_path, new_fills=0)
        assert [e["state"] for e in state["executions"]] == ["CANCELED"]  # partly filled, then canceled
        assert state["account"].reserved_for_orders == 0
        assert [e["kind"] for e in state["entries"]].count("RELEASE") == 1

        sell = await place_resting(app_conn, settings, t, market="BTC-EUR", amount=D("0.01"), side=Side.SELL,
                                   price=below(simulator, "BTC-EUR", "0.95"), ack=False)  # marketable: fills now
        assert sell.report.status == "filled"
        state = await event(db, app_conn, t, sell.execution_id, sell.report, tmp_path, new_fills=len(sell.report.fills))
        assert state["positions"][0]["quantity"] == 0 and state["account"].reserved_for_positions == 0
        assert [e["kind"] for e in state["entries"]].count("EXIT") == 1
        assert sorted(e["state"] for e in state["executions"]) == ["CANCELED", "FILLED"]


async def test_a_reject_from_two_processes_at_once_is_recorded_once(
        db: DatabaseUnderTest, app_conn: AppConnection, simulator: RunningSimulator, settings: Settings) -> None:
    t = await big_tenant(app_conn, simulator, settings)
    # A sell of coins the account does not have: the exchange refuses it definitively (216).
    proposal = await make_proposal(app_conn, t.user_id, t.profile_id, market="ETH-EUR", side="sell",
                                   amount_eur=D("50"))
    env = processes.env_for(db, simulator)
    results = [processes.execute_result(p) for p in [processes.start(["execute", str(proposal)], env)
                                                     for _ in range(2)]]
    assert sorted(code for code, _, _ in results) == [3, 4], results  # one rejected, one found it claimed
    async with user_tx(app_conn, t.user_id):
        cur = await app_conn.execute("SELECT state FROM executions WHERE proposal_id = %s", (proposal,))
        assert [r["state"] for r in await cur.fetchall()] == ["REJECTED"]
    state = await snapshot(app_conn, t.user_id, t.profile_id)
    assert state["check"] is None and state["account"].reserved_for_orders == 0
    assert [e["kind"] for e in state["entries"]].count("RELEASE") <= 1
