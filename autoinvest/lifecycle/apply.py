"""Apply what the exchange reports about one order, in one transaction, idempotently.

Every row here exists only because the exchange confirmed it: the order report is the input.
Applying the same report twice changes nothing (UNIQUE exchange ids, entries keyed by fill id).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, LiteralString
from uuid import UUID

from autoinvest import outbox
from autoinvest.db import driver
from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.domain.states import ExecutionState
from autoinvest.errors import OverSell
from autoinvest.exchange.base import KNOWN_STATUSES, BadItem, FillReport, OrderReport
from autoinvest.ledger import repo as ledger_repo
from autoinvest.lifecycle import executions, fills, quarantine, reservations
from autoinvest.lifecycle.executions import Execution
from autoinvest.lifecycle.fills import QUOTE, Position
from autoinvest.observability import metrics

log = logging.getLogger(__name__)
#: The endpoint named on a report the lifecycle refused (its item came from GET /order or a list).
APPLY_ENDPOINT = "apply_order"

_POSITION_FOR_UPDATE: LiteralString = (
    "SELECT quantity, cost_basis_eur, realized_pnl_eur FROM positions WHERE profile_id = %(profile)s"
    " AND market = %(market)s FOR UPDATE"
)


@dataclass(frozen=True)
class Applied:
    execution: Execution
    new_fills: int


async def apply_order(conn: AppConnection, user_id: UUID, execution_id: UUID, report: OrderReport) -> Applied:
    """Record the order's state and any new fills; close the execution when the exchange closed the order.

    A report the fill arithmetic refuses (an over-sell) applies nothing: it is quarantined and its error raised,
    so that the caller's loop goes on with the next item."""
    if report.status not in KNOWN_STATUSES:
        # Treated as open (``is_open``): the order is followed until a status we know closes it.
        metrics.ORDER_STATUS_UNKNOWN.inc()
        log.warning("unknown order status", extra={"execution_id": str(execution_id), "status": report.status})
    try:
        return await _apply(conn, user_id, execution_id, report)
    except OverSell as exc:
        await quarantine.record(conn, user_id, BadItem(exchange_url="", endpoint=APPLY_ENDPOINT,
                                                       item=_plain(report.raw), reason=exc.reason, detail=str(exc)))
        raise


async def _apply(conn: AppConnection, user_id: UUID, execution_id: UUID, report: OrderReport) -> Applied:
    async with user_tx(conn, user_id):
        execution = await executions.get(conn, execution_id, lock=True)  # serialises appliers of this execution
        assert execution is not None, execution_id
        await _upsert_order(conn, execution, report)
        new_fills = 0
        for fill in report.fills:
            if await _apply_fill(conn, execution, report, fill):
                new_fills += 1
        if report.is_open and execution.state is ExecutionState.SUBMITTING:
            # The exchange has the order: an ack seen by the reconciler or a resolver is the same fact.
            acked = await executions.transition(conn, execution.id, ExecutionState.SUBMITTING,
                                                ExecutionState.SUBMITTED, exchange_order_id=report.order_id,
                                                response=report.raw)
            assert acked is not None  # the row lock above: nobody moved it meanwhile
            execution = acked
        if not report.is_open and execution.state in (ExecutionState.SUBMITTING, ExecutionState.SUBMITTED):
            final = closed_state(report)
            closed = await executions.transition(conn, execution.id, execution.state, final,
                                                 exchange_order_id=report.order_id)
            assert closed is not None
            await reservations.void(conn, closed)
            execution = closed
            await _outbox(conn, execution, f"execution.{final.value.lower()}",
                          {"exchange_order_id": report.order_id, "filled_amount": str(report.filled_amount)})
        return Applied(execution, new_fills)


def closed_state(report: OrderReport) -> ExecutionState:
    """FILLED only when the exchange filled the whole order; a partly filled order that was then canceled
    (or stopped by market protection, or expired) is CANCELED: its fills stand, the rest of its reservation
    is released."""
    return ExecutionState.FILLED if report.status == "filled" else ExecutionState.CANCELED


async def _upsert_order(conn: AppConnection, execution: Execution, report: OrderReport) -> None:
    await conn.execute(
        """
        INSERT INTO exchange_orders (id, user_id, profile_id, execution_id, exchange_order_id, client_order_id,
                                     market, side, order_type, status, amount, amount_quote, filled_amount,
                                     filled_amount_quote, fee_paid, fee_currency, raw)
        VALUES (%(id)s, %(user)s, %(profile)s, %(execution)s, %(order_id)s, %(coid)s, %(market)s, %(side)s,
                %(type)s, %(status)s, %(amount)s, %(amount_quote)s, %(filled)s, %(filled_quote)s, %(fee)s,
                %(fee_currency)s, %(raw)s)
        ON CONFLICT (exchange_order_id) DO UPDATE
           SET status = EXCLUDED.status, filled_amount = EXCLUDED.filled_amount,
               filled_amount_quote = EXCLUDED.filled_amount_quote, fee_paid = EXCLUDED.fee_paid,
               raw = EXCLUDED.raw, updated_at = now()
        """,
        {"id": uuid.uuid4(), "user": execution.user_id, "profile": execution.profile_id, "execution": execution.id,
         "order_id": report.order_id, "coid": execution.client_order_id, "market": report.market,
         "side": report.side.value, "type": report.order_type, "status": report.status, "amount": report.amount,
         "amount_quote": report.amount_quote, "filled": report.filled_amount,
         "filled_quote": report.filled_amount_quote, "fee": report.fee_paid, "fee_currency": report.fee_currency,
         "raw": driver.Jsonb(_plain(report.raw))})


async def _apply_fill(conn: AppConnection, execution: Execution, report: OrderReport, fill: FillReport) -> bool:
    fill_row_id = uuid.uuid4()
    cur = await conn.execute(
        """
        INSERT INTO fills (id, user_id, profile_id, execution_id, exchange_order_id, exchange_fill_id, market, side,
                           amount, price, fee, fee_currency, taker, filled_at)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, to_timestamp(%s / 1000.0))
        ON CONFLICT (exchange_fill_id) DO NOTHING
        RETURNING id
        """,
        (fill_row_id, execution.user_id, execution.profile_id, execution.id, report.order_id, fill.fill_id,
         report.market, report.side.value, fill.amount, fill.price, fill.fee, fill.fee_currency or QUOTE,
         fill.taker if fill.taker is not None else True, fill.timestamp))
    if await cur.fetchone() is None:
        return False  # already applied
    held = await _position_for_update(conn, execution.profile_id, report.market)
    remaining = await ledger_repo.reservation_remaining(conn, execution.profile_id, execution.id)
    booking = fills.book(report.side, fill, held, execution_id=execution.id, reservation_remaining=remaining)
    for entry in booking.entries:
        await ledger_repo.post(conn, execution.profile_id, execution.user_id, entry)
    await move_position(conn, user_id=execution.user_id, profile_id=execution.profile_id, market=report.market,
                        d_quantity=booking.d_quantity, d_cost=booking.d_cost_basis_eur,
                        d_realized=booking.realized_pnl_eur)
    await conn.execute(
        """
        INSERT INTO trade_history (id, user_id, profile_id, fill_id, market, side, amount_base, price, amount_eur,
                                   fee_eur, realized_pnl_eur, executed_at)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, to_timestamp(%s / 1000.0))
        """,
        (uuid.uuid4(), execution.user_id, execution.profile_id, fill_row_id, report.market, report.side.value,
         fill.amount, fill.price, booking.quote_eur, booking.fee_eur, booking.realized_pnl_eur, fill.timestamp))
    await _outbox(conn, execution, "fill", {"market": report.market, "side": report.side.value,
                                            "amount": str(fill.amount), "price": str(fill.price)})
    return True


async def _position_for_update(conn: AppConnection, profile_id: UUID, market: str) -> Position:
    """The profile's position in the market, locked until the transaction ends (zero when there is none)."""
    cur = await conn.execute(_POSITION_FOR_UPDATE, {"profile": profile_id, "market": market})
    row = await cur.fetchone()
    if row is None:
        return Position()
    return Position(quantity=row["quantity"], cost_basis_eur=row["cost_basis_eur"],
                    realized_pnl_eur=row["realized_pnl_eur"])


async def move_position(conn: AppConnection, *, user_id: UUID, profile_id: UUID, market: str, d_quantity: Decimal,
                        d_cost: Decimal, d_realized: Decimal) -> None:
    """Move a profile's position in one market by these deltas (never below zero)."""
    await conn.execute(
        """
        INSERT INTO positions (id, user_id, profile_id, market, quantity, cost_basis_eur, realized_pnl_eur)
        VALUES (%(id)s, %(user)s, %(profile)s, %(market)s, greatest(%(dq)s, 0), greatest(%(dc)s, 0), %(dr)s)
        ON CONFLICT (profile_id, market) DO UPDATE
           SET quantity = greatest(positions.quantity + %(dq)s, 0),
               cost_basis_eur = greatest(positions.cost_basis_eur + %(dc)s, 0),
               realized_pnl_eur = positions.realized_pnl_eur + %(dr)s, updated_at = now()
        """,
        {"id": uuid.uuid4(), "user": user_id, "profile": profile_id, "market": market,
         "dq": d_quantity, "dc": d_cost, "dr": d_realized})


async def _outbox(conn: AppConnection, execution: Execution, kind: str, payload: dict[str, str]) -> None:
    await outbox.publish(conn, execution.user_id, kind, {"execution_id": str(execution.id),
                                                         "proposal_id": str(execution.proposal_id), **payload})


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value
