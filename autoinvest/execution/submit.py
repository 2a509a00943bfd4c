"""Submit: the balance re-check (and, for a send that could repeat an earlier one, a lookup), then CLAIMED →
SUBMITTING committed with the switches re-checked, then the one send."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from decimal import Decimal
from uuid import UUID

from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.domain.states import ExecutionState, Side
from autoinvest.errors import ExchangeError, OrderNotFound
from autoinvest.exchange.base import MarketData, OrderReport, OrderRequest, Signing, Trading
from autoinvest.execution import preflight
from autoinvest.execution.failpoints import failpoint
from autoinvest.ledger import repo as ledger_repo
from autoinvest.lifecycle import executions, reservations
from autoinvest.lifecycle.executions import Execution
from autoinvest.observability import clock_skew, metrics
from autoinvest.policy import decide, decide_kill_switches
from autoinvest.reasons import (
    INSUFFICIENT_EXCHANGE_BALANCE,
    LATE_ORDER_FOUND,
    ORDER_FOUND_BEFORE_SEND,
    STALE_CLAIM_REDECIDED,
)

log = logging.getLogger(__name__)
QUOTE = "EUR"
# A claim older than this (database time) is decided again before its send: its facts may be hours old.
STALE_CLAIM_S = 60
# A send that could repeat an earlier one (a stale claim, or a proposal approved longer ago than this: a
# restored database may have lost the execution of a send that happened) first looks its clientOrderId up.
# A fresh proposal claimed and sent at once costs no extra round trip.
REPEAT_AFTER_S = 60


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
    """Send the execution's order at most once; return its state and the exchange's report when acked.

    Every exchange call but the send (the balance, and the lookup of an order that may exist already) runs
    before the SUBMITTING transaction, so that nothing but the send follows the kill switches' re-check."""
    # The clock-skew fence (guarantee 16): raises before anything changes, so the execution stays CLAIMED and
    # the executor tries it again once the clocks agree.
    await clock_skew.check(conn, settings.clock)
    async with user_tx(conn, user_id):
        execution = await executions.get(conn, execution_id)
        assert execution is not None, execution_id
        if execution.state is not ExecutionState.CLAIMED:
            return execution, None
        age = await preflight.send_age(conn, execution.id, stale_claim_s=STALE_CLAIM_S,
                                       repeat_after_s=REPEAT_AFTER_S)
    if age.may_repeat:
        earlier = await _earlier_order(trader, execution)
        if earlier is not None:
            return await _adopt_earlier(conn, user_id, execution, earlier)
    shortfall = await _balance_shortfall(reader, execution)

    async with user_tx(conn, user_id):
        locked = await executions.get(conn, execution_id, lock=True)
        assert locked is not None, execution_id
        if locked.state is not ExecutionState.CLAIMED:
            return locked, None
        execution = locked
        if shortfall is not None:  # nothing sent: refused before the exchange
            return await _end(conn, execution, ExecutionState.CLAIMED, ExecutionState.REJECTED, [shortfall]), None
        if age.stale_claim:
            denied = await _redecide(conn, execution)
            if denied:
                return await _end(conn, execution, ExecutionState.CLAIMED, ExecutionState.REJECTED,
                                  [*denied, STALE_CLAIM_REDECIDED]), None
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
    if acked is None:  # the resolver got there first: its SUBMITTED stands, a NOT_PLACED is reopened
        reopened = None
        async with user_tx(conn, user_id):
            current = await executions.get(conn, execution.id)
            assert current is not None
            if current.state is ExecutionState.NOT_PLACED:
                reopened = await executions.reopen(conn, execution.id, None, exchange_order_id=report.order_id,
                                                   response=report.raw, reasons=[LATE_ORDER_FOUND])
        if reopened is not None:
            metrics.LATE_ORDERS_FOUND.inc()
            log.error("an order called NOT_PLACED was acknowledged late: back to SUBMITTED",
                      extra={"execution_id": str(execution.id), "exchange_order_id": report.order_id})
            return reopened, report
        if current.state is ExecutionState.NOT_PLACED:  # confirmed already: its reservation is gone
            log.error("an order was acknowledged after its NOT_PLACED was confirmed: reconcile it",
                      extra={"execution_id": str(execution.id), "exchange_order_id": report.order_id})
            return current, None
        return current, report
    return acked, report


async def _earlier_order(trader: Trading, execution: Execution) -> OrderReport | None:
    """The order an earlier send of this clientOrderId placed, looked up with the key that sends; None when the
    exchange does not know it. Any other failure raises: better not to send than to send twice."""
    try:
        return await trader.get_order(execution.market, client_order_id=str(execution.client_order_id))
    except OrderNotFound:
        return None


async def _adopt_earlier(conn: AppConnection, user_id: UUID, execution: Execution,
                         report: OrderReport) -> tuple[Execution, OrderReport | None]:
    """CLAIMED → SUBMITTED with the order found: nothing is sent, the caller applies the report."""
    async with user_tx(conn, user_id):
        adopted = await executions.transition(conn, execution.id, ExecutionState.CLAIMED, ExecutionState.SUBMITTED,
                                              set_submit_ts=True, exchange_order_id=report.order_id,
                                              response=report.raw, reasons=[ORDER_FOUND_BEFORE_SEND])
        current = adopted or await executions.get(conn, execution.id)
    assert current is not None
    if adopted is None:
        return current, None
    metrics.ORDERS_FOUND_BEFORE_SEND.inc()
    log.warning("the clientOrderId was on the exchange already: adopted, not sent again",
                extra={"execution_id": str(execution.id), "exchange_order_id": report.order_id})
    return adopted, report


async def _redecide(conn: AppConnection, execution: Execution) -> list[str]:
    """The pre-flight again for a claim older than the stale bound (expiry, size, caps, capital): the reasons
    it is denied now, or none. The execution itself is no trade of its own, and its reservation is free to it."""
    snapshot = await preflight.load(conn, execution.proposal_id, exclude_execution=execution.id)
    held = await ledger_repo.reservation_remaining(conn, execution.profile_id, execution.id)
    facts = replace(snapshot.facts, available_eur=snapshot.facts.available_eur + held,
                    amount_base=execution.amount_base)
    return [r.code for r in decide(facts).reasons]


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
        return exc.reason  # nothing was sent: safe to refuse
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
