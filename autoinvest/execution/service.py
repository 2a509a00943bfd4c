"""The one entry point used by workers, the CLI and (later) the API: execute an approved proposal."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, LiteralString
from uuid import UUID

from autoinvest.db.ids import owner_of
from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.domain.states import ExecutionState
from autoinvest.errors import AutoInvestError, ExchangeUnavailable, RateLimited
from autoinvest.exchange.base import MarketData, Trading
from autoinvest.execution.claim import Outcome, claim
from autoinvest.execution.failpoints import failpoint
from autoinvest.execution.preflight import SellQuote
from autoinvest.execution.resolve import OrderLookup, ResolveSettings, look_up
from autoinvest.execution.submit import SubmitSettings, refuse, submit
from autoinvest.lifecycle.apply import apply_order
from autoinvest.lifecycle.executions import Execution
from autoinvest.observability import metrics

log = logging.getLogger(__name__)


@dataclass
class UserClients:
    """One user's exchange clients: the read-only view and the trade side."""

    reader: MarketData
    trader: Trading

    async def close(self) -> None:
        await self.reader.close()
        await self.trader.close()


ClientsFor = Callable[[AppConnection, UUID], Awaitable[UserClients]]


class ExecutionOutcome(StrEnum):
    """What one call of :func:`execute` came to (the CLI maps it to its exit code)."""

    SUBMITTED = "submitted"  # acknowledged by the exchange (or already filled)
    REJECTED = "rejected"  # refused before or by the exchange; never (again) sent
    ALREADY_CLAIMED = "already_claimed"  # an execution existed before this call: nothing new happened
    OUTCOME_UNKNOWN = "outcome_unknown"  # sent, answer lost: the resolver settles it by lookup
    WAITING = "waiting"  # another entry of this profile+market is live


@dataclass(frozen=True)
class ExecutionResult:
    execution_id: UUID | None
    proposal_id: UUID
    state: str
    client_order_id: UUID | None
    exchange_order_id: str | None
    reasons: tuple[str, ...]
    outcome: ExecutionOutcome
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"execution_id": _str(self.execution_id), "proposal_id": str(self.proposal_id), "state": self.state,
                "client_order_id": _str(self.client_order_id), "exchange_order_id": self.exchange_order_id,
                "reasons": list(self.reasons)}


async def submit_claimed(conn: AppConnection, user_id: UUID, execution_id: UUID, *, clients_for: ClientsFor,
                         settings: SubmitSettings) -> Execution:
    """Submit a CLAIMED execution and apply the exchange's answer; no usable keys → REJECTED, never sent."""
    try:
        clients = await clients_for(conn, user_id)
    except AutoInvestError as exc:
        return await refuse(conn, user_id, execution_id, [exc.reason])
    try:
        execution, report = await submit(conn, user_id, execution_id, reader=clients.reader, trader=clients.trader,
                                         settings=settings)
        if report is not None:  # the exchange acknowledged: record what it says (fills, closed) in one transaction
            execution = (await apply_order(conn, user_id, execution.id, report)).execution
    finally:  # after the ack is applied: no cleanup delays the record of an order the exchange has
        await clients.close()
    return execution


async def resolve(conn: AppConnection, execution_id: UUID, *, lookup: OrderLookup,
                  settings: ResolveSettings) -> Execution:
    """Resolve one SUBMITTING (or provisional NOT_PLACED) execution by lookup with the key that placed its order
    (``lookup``: the user's trade client), and apply what the exchange reports."""
    user_id = await owner_of(conn, "execution", execution_id)
    execution, report = await look_up(conn, user_id, execution_id, lookup=lookup, settings=settings)
    if report is not None:
        execution = (await apply_order(conn, user_id, execution.id, report)).execution
    metrics.RESOLVED.labels(execution.state.value.lower()).inc()
    return execution


async def execute(conn: AppConnection, proposal_id: UUID, *, clients_for: ClientsFor, settings: SubmitSettings,
                  user_id: UUID | None = None) -> ExecutionResult:
    """Claim, then submit: at most one exchange order for this proposal, whoever calls and however often.
    ``user_id``: the owner, when the caller knows it (a wrong one finds no proposal: row-level security)."""
    if user_id is None:
        user_id = await owner_of(conn, "proposal", proposal_id)
    claimed = await claim(conn, user_id, proposal_id,
                                   sell_quote=await _sell_quote(conn, user_id, proposal_id, clients_for))
    if claimed.outcome is Outcome.WAITING:
        metrics.EXECUTIONS.labels("waiting").inc()
        return ExecutionResult(None, proposal_id, "WAITING", None, None, claimed.reasons, ExecutionOutcome.WAITING)
    execution = claimed.execution
    assert execution is not None
    if claimed.outcome is not Outcome.CLAIMED:
        outcome = (ExecutionOutcome.REJECTED if claimed.outcome is Outcome.REJECTED
                   else ExecutionOutcome.ALREADY_CLAIMED)
        return _result(execution, outcome)
    failpoint("after-claim-commit")
    execution = await submit_claimed(conn, user_id, execution.id, clients_for=clients_for, settings=settings)
    return _result(execution)


_EUR_SELL: LiteralString = (
    "SELECT p.market FROM trade_proposals p WHERE p.id = %s AND p.side = 'sell' AND p.amount_base IS NULL"
    " AND p.status = 'APPROVED' AND NOT EXISTS (SELECT 1 FROM executions e WHERE e.proposal_id = p.id)"
)


async def _sell_quote(conn: AppConnection, user_id: UUID, proposal_id: UUID,
                      clients_for: ClientsFor) -> SellQuote | None:
    """The best bid and quantity precision for a sell sized in EUR that is about to be claimed (read before the
    claim's transaction: no exchange call ever runs inside one); None for anything else, or when there is no
    usable key or quote, and then the pre-flight denies the sell. A passing outage (rate limit, exchange down)
    raises instead: the proposal stays untouched and the next attempt tries again."""
    async with user_tx(conn, user_id):
        cur = await conn.execute(_EUR_SELL, (proposal_id,))
        row = await cur.fetchone()
    if row is None:
        return None
    market = str(row["market"])
    try:
        clients = await clients_for(conn, user_id)
        try:
            ticker = (await clients.reader.tickers([market])).get(market)
            spec = next((m for m in await clients.reader.markets() if m.market == market), None)
        finally:
            await clients.close()
    except (RateLimited, ExchangeUnavailable):
        raise
    except AutoInvestError as exc:
        log.warning("no quote to size a sell in EUR", extra={"proposal_id": str(proposal_id), "reason": exc.reason})
        return None
    if ticker is None or ticker.bid is None or spec is None or spec.quantity_decimals is None:
        return None
    return SellQuote(bid=ticker.bid, quantity_decimals=spec.quantity_decimals)


def _result(execution: Execution, outcome: ExecutionOutcome | None = None) -> ExecutionResult:
    if outcome is None:
        outcome = {ExecutionState.SUBMITTED: ExecutionOutcome.SUBMITTED,
                   ExecutionState.FILLED: ExecutionOutcome.SUBMITTED,
                   ExecutionState.SUBMITTING: ExecutionOutcome.OUTCOME_UNKNOWN}.get(execution.state,
                                                                                   ExecutionOutcome.REJECTED)
    metrics.EXECUTIONS.labels(outcome.value).inc()
    return ExecutionResult(execution.id, execution.proposal_id, execution.state.value, execution.client_order_id,
                           execution.exchange_order_id, execution.reasons, outcome)


def _str(value: object) -> str | None:
    return None if value is None else str(value)
