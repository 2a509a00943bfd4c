"""Guarantee 11, step 2 of start-up recovery: `recover()` itself resolves SUBMITTING executions by lookup, before
any loop runs. Two outcomes were left unknown before the restart: an order the exchange got (its response was
lost) and one it never got (answered 500 before processing; one lookup after the window already found nothing).
When recover() returns, the first is SUBMITTED (and on, through the lifecycle) and the second NOT_PLACED, nothing
was sent again, and the report counts both as resolved. Reconciliation alone could adopt the first, but never
settles the second: that one needs the resolver.

A database of its own: recover() resolves every SUBMITTING execution it can see, and the count must be ours.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from autoinvest import runtime
from autoinvest.config import Settings
from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.exchange.base import MarketData
from autoinvest.execution.client_order_id import client_order_id
from autoinvest.execution.loops import LoopSettings
from autoinvest.execution.resolve import NOT_FOUND_AFTER_WINDOW
from autoinvest.execution.service import ExecutionOutcome, ExecutionResult, execute, resolve
from autoinvest.recovery import recover
from tests.integration.scheduler.isolated import admin_execute
from tests.support.database import DatabaseUnderTest
from tests.support.proposals import make_proposal
from tests.support.simulator import RunningSimulator
from tests.support.trading import TradingTenant, make_trading_tenant, orders_of, settings_for


@pytest.fixture
def settings(simulator: RunningSimulator, tmp_path: Path) -> Settings:
    return settings_for(simulator, tmp_path, resolver_grace_s=0)


async def _reader(conn: AppConnection, user_id: UUID, settings: Settings) -> MarketData:
    return await runtime.reader_for(conn, user_id, settings)


async def _unknown_outcome(conn: AppConnection, sim: RunningSimulator, settings: Settings,
                           fault: str) -> tuple[TradingTenant, UUID, ExecutionResult]:
    """An execution left SUBMITTING by one faulty answer to its order."""
    t = await make_trading_tenant(conn, sim, settings)
    proposal = await make_proposal(conn, t.user_id, t.profile_id)
    sim.admin.fault("POST /order", fault, count=1)
    try:
        result = await execute(conn, proposal, clients_for=runtime.executor_clients(settings),
                               settings=runtime.submit_settings(settings))
    finally:
        sim.admin.clear_faults()
    assert result.outcome is ExecutionOutcome.OUTCOME_UNKNOWN and result.state == "SUBMITTING", result
    return t, proposal, result


async def _execution(conn: AppConnection, t: TradingTenant, execution_id: UUID | None) -> dict[str, Any]:
    async with user_tx(conn, t.user_id):
        cur = await conn.execute("SELECT state, reasons, not_found_count, exchange_order_id FROM executions"
                                 " WHERE id = %s", (execution_id,))
        row = await cur.fetchone()
    assert row is not None
    return row


async def test_recovery_resolves_submitting_executions_before_any_loop_runs(
        scan_db: DatabaseUnderTest, scan_conn: AppConnection, simulator: RunningSimulator,
        settings: Settings) -> None:
    own_db, conn = scan_db, scan_conn
    got, got_proposal, got_result = await _unknown_outcome(conn, simulator, settings, "drop_response_after_processing")
    lost, lost_proposal, lost_result = await _unknown_outcome(conn, simulator, settings, "http_500")
    assert len(orders_of(simulator, client_order_id(got.user_id, got_proposal))) == 1
    assert orders_of(simulator, client_order_id(lost.user_id, lost_proposal)) == []
    # The worker was down past the signing window (+ skew), and one lookup after it found nothing before the
    # crash; the second lookup, the one that may end it, is left to the restart.
    admin_execute(own_db, "UPDATE executions SET submit_ts = submit_ts - interval '1 hour' WHERE id = %s",
                  (lost_result.execution_id,))
    reader = await _reader(conn, lost.user_id, settings)
    try:
        first = await resolve(conn, lost_result.execution_id, lookup=reader,  # type: ignore[arg-type]
                              settings=runtime.resolve_settings(settings))
    finally:
        await reader.close()
    assert first.state == "SUBMITTING" and first.not_found_count == 1
    admin_execute(own_db, "UPDATE executions SET last_not_found_at = last_not_found_at - interval '1 hour'"
                  " WHERE id = %s", (lost_result.execution_id,))  # that lookup was long before the restart

    async def reader_for(c: AppConnection, user_id: UUID) -> MarketData:
        return await _reader(c, user_id, settings)

    report = await recover(own_db.app_url, reader_for=reader_for, lookup_for=reader_for, loop_settings=LoopSettings(
        submit=runtime.submit_settings(settings), resolve=runtime.resolve_settings(settings),
        resolver_grace_s=settings.resolver_grace_s))

    assert report.resolved == 2 and not report.timed_out and report.unreachable == [], report.to_json()
    (order,) = orders_of(simulator, client_order_id(got.user_id, got_proposal))  # found, never resent
    found = await _execution(conn, got, got_result.execution_id)
    assert found["state"] in ("SUBMITTED", "FILLED") and found["exchange_order_id"] == order["orderId"], found
    gone = await _execution(conn, lost, lost_result.execution_id)
    assert gone["state"] == "NOT_PLACED" and NOT_FOUND_AFTER_WINDOW in gone["reasons"], gone
    assert orders_of(simulator, client_order_id(lost.user_id, lost_proposal)) == []  # never sent, not now either
