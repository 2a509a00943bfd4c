"""Resolve SUBMITTING executions (outcome unknown) by asking the exchange; never by sending again."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.domain.states import ExecutionState
from autoinvest.errors import ExchangeError, OrderNotFound
from autoinvest.exchange.base import MarketData, OrderReport
from autoinvest.lifecycle import executions, reservations
from autoinvest.lifecycle.executions import Execution

NOT_FOUND_AFTER_WINDOW = "NOT_FOUND_AFTER_WINDOW"
LEASE_SECONDS = 30
NOT_FOUND_CHECKS = 2


@dataclass(frozen=True)
class ResolveSettings:
    worker_id: str
    access_window_ms: int
    clock_skew_ms: int


async def look_up(conn: AppConnection, user_id: UUID, execution_id: UUID, *, reader: MarketData,
                  settings: ResolveSettings) -> tuple[Execution, OrderReport | None]:
    """Look the order up by clientOrderId under a fenced lease; found → SUBMITTED, absent twice → NOT_PLACED."""
    async with user_tx(conn, user_id):
        lease = await executions.take_lease(conn, execution_id, worker=settings.worker_id, lease_s=LEASE_SECONDS,
                                            fence_ms=settings.access_window_ms + settings.clock_skew_ms)
        execution = await executions.get(conn, execution_id)
    assert execution is not None, execution_id
    if lease is None:
        return execution, None  # not SUBMITTING any more, or another resolver holds it
    token = lease.token
    try:
        report = await reader.get_order(execution.market, client_order_id=str(execution.client_order_id))
    except OrderNotFound:
        # Looked up before the window closed, "not found" proves nothing: the order may still arrive.
        async with user_tx(conn, user_id):
            return await _not_found(conn, execution, token, counts=lease.window_passed), None
    except ExchangeError:
        async with user_tx(conn, user_id):
            await executions.drop_lease(conn, execution.id, token)
        return execution, None
    async with user_tx(conn, user_id):
        found = await executions.transition(conn, execution.id, ExecutionState.SUBMITTING,
                                            ExecutionState.SUBMITTED, exchange_order_id=report.order_id,
                                            response=report.raw, lease_token=token)
        current = found or await executions.get(conn, execution.id)
    assert current is not None
    return current, report if found else None


async def _not_found(conn: AppConnection, execution: Execution, token: int, *, counts: bool) -> Execution:
    if not counts:
        await executions.drop_lease(conn, execution.id, token)
        return execution
    count = await executions.count_not_found(conn, execution.id, token)
    if count is None or count < NOT_FOUND_CHECKS:
        current = await executions.get(conn, execution.id)
        assert current is not None
        return current
    ended = await executions.transition(conn, execution.id, ExecutionState.SUBMITTING, ExecutionState.NOT_PLACED,
                                        reasons=[NOT_FOUND_AFTER_WINDOW])
    assert ended is not None
    await reservations.void(conn, ended)
    return ended

