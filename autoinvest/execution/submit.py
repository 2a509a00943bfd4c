"""Submit: CLAIMED → SUBMITTING committed first, then the balance re-check and the one send."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.domain.states import ExecutionState, Side
from autoinvest.errors import ExchangeError
from autoinvest.exchange.base import MarketData, OrderReport, OrderRequest, Signing, Trading
from autoinvest.execution import preflight
from autoinvest.execution.failpoints import failpoint
from autoinvest.lifecycle import executions, reservations
from autoinvest.lifecycle.executions import Execution
from autoinvest.observability import clock_skew, metrics
from autoinvest.policy import decide_kill_switches

QUOTE = "EUR"
INSUFFICIENT_EXCHANGE_BALANCE = "INSUFFICIENT_EXCHANGE_BALANCE"


@dataclass(frozen=True)
class SubmitSettings:
    operator_id: int
    access_window_ms: int
    clock: clock_skew.ClockFence


def order_request(execution: Execution, operator_id: int) -> OrderRequest:
    """The one market order of an execution, with its deterministic clientOrderId."""
    sized_in_base = execution.amount_base is not None
    return OrderRequest.market_order(
        market=execution.market, side=execution.side, client_order_id=str(execution.client_order_id),
        operator_id=operator_id, amount=execution.amount_base if sized_in_base else None,
        amount_quote=None if sized_in_base else execution.amount_eur)


async def submit(conn: AppConnection, user_id: UUID, execution_id: UUID, *, reader: MarketData, trader: Trading,
                 settings: SubmitSettings) -> tuple[Execution, OrderReport | None]:
    """Send the execution's order at most once; return its state and the exchange's report when acked."""
    # The clock-skew fence (guarantee 16): raises before anything changes, so the execution stays CLAIMED and
    # the executor tries it again once the clocks agree.
    await clock_skew.check(conn, settings.clock)
    async with user_tx(conn, user_id):
        execution = await executions.get(conn, execution_id, lock=True)
        assert execution is not None, execution_id
        if execution.state is not ExecutionState.CLAIMED:
            return execution, None
        switches = await preflight.kill_switches(conn, execution.profile_id)
        blocked = decide_kill_switches(switches.global_kill, switches.user_kill, switches.profile_trading_enabled)
        if not blocked.allowed:
            return await _end(conn, execution, ExecutionState.CLAIMED, ExecutionState.REJECTED,
                              [r.code for r in blocked.reasons]), None
        request = order_request(execution, settings.operator_id)
        moved = await executions.transition(conn, execution.id, ExecutionState.CLAIMED, ExecutionState.SUBMITTING,
                                            set_submit_ts=True, request=_request_json(request))
        assert moved is not None and moved.submit_ts is not None
        execution = moved
    failpoint("after-submitting-commit")

    shortfall = await _balance_shortfall(reader, execution)
    if shortfall is not None:
        async with user_tx(conn, user_id):
            return await _end(conn, execution, ExecutionState.SUBMITTING, ExecutionState.NOT_PLACED,
                              [shortfall]), None

    failpoint("before-send")
    assert execution.submit_ts is not None
    signing = Signing(timestamp_ms=int(execution.submit_ts.timestamp() * 1000), window_ms=settings.access_window_ms)
    metrics.ORDERS_SENT.inc()
    try:
        report = await trader.place_order(request, signing=signing)
    except ExchangeError as exc:
        if not exc.definitive:
            metrics.OUTCOME_UNKNOWN.inc()
            return execution, None  # outcome unknown: stays SUBMITTING for the resolver; never resent
        async with user_tx(conn, user_id):
            return await _end(conn, execution, ExecutionState.SUBMITTING, ExecutionState.REJECTED,
                              [exc.reason]), None
    failpoint("after-send-before-record")
    async with user_tx(conn, user_id):
        acked = await executions.transition(conn, execution.id, ExecutionState.SUBMITTING, ExecutionState.SUBMITTED,
                                            exchange_order_id=report.order_id, response=report.raw)
    failpoint("after-record")
    if acked is None:  # the resolver got there first; its record stands
        async with user_tx(conn, user_id):
            current = await executions.get(conn, execution.id)
        assert current is not None
        return current, report
    return acked, report


async def refuse(conn: AppConnection, user_id: UUID, execution_id: UUID, reasons: list[str]) -> Execution:
    """End a CLAIMED execution that can never be sent (e.g. the user has no usable keys); voids its reservation."""
    async with user_tx(conn, user_id):
        execution = await executions.get(conn, execution_id, lock=True)
        assert execution is not None, execution_id
        if execution.state is not ExecutionState.CLAIMED:
            return execution
        return await _end(conn, execution, ExecutionState.CLAIMED, ExecutionState.REJECTED, reasons)


async def _balance_shortfall(reader: MarketData, execution: Execution) -> str | None:
    """Re-check the balance on the exchange just before sending; a reason when it cannot cover the order."""
    try:
        balances = await reader.balances()
    except ExchangeError as exc:
        return exc.reason  # nothing was sent: safe to end as NOT_PLACED
    if execution.side is Side.BUY:
        need = reservations.required_eur(execution.amount_eur or Decimal(0))
        have = balances[QUOTE].available if QUOTE in balances else Decimal(0)
    else:
        base = execution.market.split("-")[0]
        need = execution.amount_base or Decimal(0)
        have = balances[base].available if base in balances else Decimal(0)
        if execution.amount_base is None:
            return None  # a sell sized in EUR: the exchange checks the base amount itself
    return INSUFFICIENT_EXCHANGE_BALANCE if have < need else None


async def _end(conn: AppConnection, execution: Execution, from_state: ExecutionState, to_state: ExecutionState,
               reasons: list[str]) -> Execution:
    ended = await executions.transition(conn, execution.id, from_state, to_state, reasons=reasons)
    if ended is None:
        current = await executions.get(conn, execution.id)
        assert current is not None
        return current
    await reservations.void(conn, ended)
    return ended


def _request_json(request: OrderRequest) -> dict[str, object]:
    return {"market": request.market, "side": request.side.value, "orderType": request.order_type,
            "clientOrderId": request.client_order_id, "operatorId": request.operator_id,
            "amount": None if request.amount is None else str(request.amount),
            "amountQuote": None if request.amount_quote is None else str(request.amount_quote)}
