"""Resolve SUBMITTING executions (outcome unknown) by asking the exchange; never by sending again.

The lookup uses the key that placed the order (the trade key): a read-only key that reaches another account
would call every order "not found". NOT_PLACED is provisional: an order may still be processed after the
lookups (Bitvavo 107/108/109), so a later look, at least one access window + skew after the decision, confirms
it (the reservation is released only then) or finds the order (back to SUBMITTED, counted and alerted).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.domain.states import ExecutionState
from autoinvest.errors import ExchangeError, OrderNotFound
from autoinvest.exchange.base import OrderReport
from autoinvest.lifecycle import executions, reservations
from autoinvest.lifecycle.executions import Execution, Lease
from autoinvest.observability import metrics
from autoinvest.reasons import LATE_ORDER_FOUND, NOT_FOUND_AFTER_WINDOW

log = logging.getLogger(__name__)
LEASE_SECONDS = 30
NOT_FOUND_CHECKS = 2


class OrderLookup(Protocol):
    """What a lookup needs: the trade client (``Trading``) in production."""

    async def get_order(self, market: str, *, order_id: str | None = None,
                        client_order_id: str | None = None) -> OrderReport: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class ResolveSettings:
    worker_id: str
    access_window_ms: int
    clock_skew_ms: int

    @property
    def fence_ms(self) -> int:
        return self.access_window_ms + self.clock_skew_ms


async def look_up(conn: AppConnection, user_id: UUID, execution_id: UUID, *, lookup: OrderLookup,
                  settings: ResolveSettings) -> tuple[Execution, OrderReport | None]:
    """Look the order up by clientOrderId under a fenced lease: found → SUBMITTED; absent at two spaced looks
    after the window → NOT_PLACED (provisional); absent again after ``confirm_after`` → confirmed."""
    async with user_tx(conn, user_id):
        lease = await executions.take_lease(conn, execution_id, worker=settings.worker_id, lease_s=LEASE_SECONDS,
                                            fence_ms=settings.fence_ms)
        execution = await executions.get(conn, execution_id)
    assert execution is not None, execution_id
    if lease is None:
        return execution, None  # not SUBMITTING (or provisional) any more, or another resolver holds it
    try:
        report = await lookup.get_order(execution.market, client_order_id=str(execution.client_order_id))
    except OrderNotFound:
        async with user_tx(conn, user_id):
            return await _not_found(conn, execution, lease, settings), None
    except ExchangeError:
        async with user_tx(conn, user_id):
            await executions.drop_lease(conn, execution.id, lease.token)
        return execution, None
    async with user_tx(conn, user_id):
        if execution.state is ExecutionState.NOT_PLACED:
            found = await executions.reopen(conn, execution.id, lease.token, exchange_order_id=report.order_id,
                                            response=report.raw, reasons=[LATE_ORDER_FOUND])
        else:
            found = await executions.transition(conn, execution.id, ExecutionState.SUBMITTING,
                                                ExecutionState.SUBMITTED, exchange_order_id=report.order_id,
                                                response=report.raw, lease_token=lease.token)
        current = found or await executions.get(conn, execution.id)
    assert current is not None
    if found is not None and execution.state is ExecutionState.NOT_PLACED:
        metrics.LATE_ORDERS_FOUND.inc()
        log.error("an order called NOT_PLACED was found on the exchange: back to SUBMITTED",
                  extra={"execution_id": str(execution.id), "exchange_order_id": report.order_id})
    return current, report if found else None


async def _not_found(conn: AppConnection, execution: Execution, lease: Lease,
                     settings: ResolveSettings) -> Execution:
    token = lease.token
    if not lease.window_passed:
        # Looked up before the window (or confirm_after) passed, "not found" proves nothing: it may still arrive.
        await executions.drop_lease(conn, execution.id, token)
        return execution
    if execution.state is ExecutionState.NOT_PLACED:
        confirmed = await executions.confirm_not_placed(conn, execution.id, token)
        if confirmed is None:
            return await _current(conn, execution.id)
        await reservations.void(conn, confirmed)  # only now: nothing can fill any more
        return confirmed
    count = await executions.count_not_found(conn, execution.id, token, spacing_ms=settings.access_window_ms)
    if count is None:  # lease lost, or too soon after the previous "not found" to count
        await executions.drop_lease(conn, execution.id, token)
        return await _current(conn, execution.id)
    if count < NOT_FOUND_CHECKS:
        return await _current(conn, execution.id)
    # Provisional: keeps its reservation and counts as live until the confirming look (same token, same tx).
    ended = await executions.not_placed(conn, execution.id, token, reasons=[NOT_FOUND_AFTER_WINDOW],
                                        confirm_after_ms=settings.fence_ms)
    return ended or await _current(conn, execution.id)


async def _current(conn: AppConnection, execution_id: UUID) -> Execution:
    current = await executions.get(conn, execution_id)
    assert current is not None
    return current
