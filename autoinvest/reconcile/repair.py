"""Repairs that the lifecycle alone cannot express: adopting an order we never recorded, and booking a coin
shortfall (at once when small, after an operator's acknowledgement when not).

Both run in one ``user_tx`` each and leave an audit row; capital moves only by ledger entries, so the
``capital_invariant`` CHECK still has the last word.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import LiteralString
from uuid import UUID

from autoinvest import audit
from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.domain.states import Side
from autoinvest.errors import InvariantViolation
from autoinvest.exchange.base import OrderReport
from autoinvest.ledger import entries as ledger
from autoinvest.ledger import repo as ledger_repo
from autoinvest.lifecycle import executions, reservations
from autoinvest.lifecycle.apply import apply_order, move_position
from autoinvest.reconcile import adjustments
from autoinvest.reconcile.diff import AdoptOrder

ACTOR = "reconciler"
ADOPTED = "ADOPTED_BY_RECONCILIATION"
VALUE_QUANTUM = Decimal("0.00000001")

_POSITION_FOR_UPDATE: LiteralString = """
SELECT quantity, cost_basis_eur FROM positions WHERE profile_id = %(profile)s AND market = %(market)s FOR UPDATE
"""


@dataclass(frozen=True)
class Adopted:
    execution_id: UUID | None
    state: str | None
    reserved: Decimal
    error: str | None = None


async def adopt(conn: AppConnection, user_id: UUID, adoption: AdoptOrder) -> Adopted:
    """Record the order under its proposal, reserve what it may still spend, and apply its report; atomically."""
    report = adoption.report
    execution_id = uuid.uuid4()
    reserve = _reservation(report)
    try:
        async with user_tx(conn, user_id):
            adopted = await executions.adopt(
                conn, execution_id=execution_id, user_id=user_id, profile_id=adoption.profile_id,
                proposal_id=adoption.proposal_id, market=report.market, side=report.side,
                client_order_id=UUID(report.client_order_id or ""), amount_eur=report.amount_quote,
                amount_base=report.amount if report.amount_quote is None else None, reserved_eur=reserve,
                reasons=[ADOPTED], exchange_order_id=report.order_id,
                response={"order_id": report.order_id, "status": report.status})
            if not adopted:
                # UNIQUE(user, proposal) or one live entry per profile+market: claimed meanwhile, or another
                # order of this market is live. Nothing written; the run reports it and an operator decides.
                return Adopted(None, None, Decimal(0), error="CONFLICT")
            if reserve > 0:
                try:
                    await ledger_repo.post(conn, adoption.profile_id, user_id, ledger.reserve(execution_id, reserve))
                except InvariantViolation:
                    # The order exists whatever our capital says: adopt it unreserved; its fills may still be refused.
                    await executions.unreserve(conn, execution_id)
                    reserve = Decimal(0)
            applied = await apply_order(conn, user_id, execution_id, report)  # a savepoint inside this transaction
            await audit.record(conn, user_id, ACTOR, "reconcile.adopt", "execution", execution_id, {
                "proposal_id": str(adoption.proposal_id), "exchange_order_id": report.order_id,
                "client_order_id": report.client_order_id, "status": report.status, "reserved_eur": str(reserve)})
    except InvariantViolation as exc:
        # Capital that cannot absorb the order's fills: nothing was written; reported for an operator.
        return Adopted(None, None, Decimal(0), error=exc.reason)
    return Adopted(execution_id, applied.execution.state.value, reserve)


def _reservation(report: OrderReport) -> Decimal:
    if report.side is not Side.BUY:
        return Decimal(0)
    if report.amount_quote is not None:
        quote = report.amount_quote
    elif report.amount is not None and report.price is not None:
        quote = report.amount * report.price
    else:
        quote = report.filled_amount_quote
    return reservations.required_eur(quote) if quote > 0 else Decimal(0)


@dataclass(frozen=True)
class Adjusted:
    profile_id: UUID
    market: str
    d_quantity: Decimal
    d_cost_basis_eur: Decimal
    pending: UUID | None = None  # not booked: waiting for an operator's acknowledgement (this item)


def _removal(quantity: Decimal, cost: Decimal, share: Decimal) -> tuple[Decimal, Decimal]:
    """(d_quantity, d_cost) of removing ``-share`` coins from a position at its average cost."""
    removed = min(-share, quantity)
    d_cost = -(cost * removed / quantity).quantize(VALUE_QUANTUM) if quantity > 0 else Decimal(0)
    return -removed, max(d_cost, -cost)


async def _position(conn: AppConnection, profile_id: UUID, market: str) -> tuple[Decimal, Decimal]:
    cur = await conn.execute(_POSITION_FOR_UPDATE, {"profile": profile_id, "market": market})
    row = await cur.fetchone()
    return (row["quantity"], row["cost_basis_eur"]) if row else (Decimal(0), Decimal(0))


async def _book(conn: AppConnection, user_id: UUID, profile_id: UUID, market: str, d_quantity: Decimal,
                d_cost: Decimal, request_id: str, *, actor: str) -> None:
    if d_cost:
        await ledger_repo.post(conn, profile_id, user_id, ledger.adjust(
            profile_id, request_id, reason="balance_drift", d_reserved_for_positions=d_cost,
            d_realized_pnl=d_cost, memo={"market": market, "d_quantity": str(d_quantity)}))
    # valued at cost: what leaves the position is booked as realized loss (see the ADJUST entry)
    await move_position(conn, user_id=user_id, profile_id=profile_id, market=market, d_quantity=d_quantity,
                        d_cost=d_cost, d_realized=d_cost)
    await audit.record(conn, user_id, actor, "reconcile.balance_drift", "profile", profile_id, {
        "market": market, "d_quantity": str(d_quantity), "d_cost_basis_eur": str(d_cost), "request_id": request_id})


async def book_drift(conn: AppConnection, user_id: UUID, profile_id: UUID, market: str, share: Decimal, *,
                     request_id: str, ack_above_eur: Decimal) -> Adjusted:
    """Take ``-share`` missing coins out of the profile's position with their average cost basis (a realized
    loss; free capital is unchanged: the entry moves ``reserved_for_positions`` and ``realized_pnl`` alike).

    Only shortfalls are booked: coins beyond our positions are unmanaged, never a profile's. A loss worth more
    than ``ack_above_eur`` is not booked but held for an operator (:func:`acknowledge`); smaller ones are booked
    at once, because a few cents of rounding or a fee we never saw is not worth an operator's time.
    """
    async with user_tx(conn, user_id):
        d_quantity, d_cost = _removal(*await _position(conn, profile_id, market), share)
        if -d_cost > ack_above_eur:
            held = await adjustments.hold(conn, user_id, profile_id, market, d_quantity, -d_cost)
            return Adjusted(profile_id, market, d_quantity, d_cost, pending=held)
        await adjustments.clear(conn, profile_id, market)
        await _book(conn, user_id, profile_id, market, d_quantity, d_cost, request_id, actor=ACTOR)
    return Adjusted(profile_id, market, d_quantity, d_cost)


async def clear_pending(conn: AppConnection, user_id: UUID, profile_id: UUID, market: str) -> None:
    """The coins are back: the profile's pending item for the market is void."""
    async with user_tx(conn, user_id):
        await adjustments.clear(conn, profile_id, market)


async def acknowledge(conn: AppConnection, user_id: UUID, profile_id: UUID, *, actor: str) -> list[Adjusted]:
    """Book the profile's pending shortfalls (an operator looked at them), audited as ``reconcile.adjust_ack``."""
    done: list[Adjusted] = []
    async with user_tx(conn, user_id):
        for item in await adjustments.pending(conn, profile_id, lock=True):
            d_quantity, d_cost = _removal(*await _position(conn, profile_id, item.market), item.d_quantity)
            await _book(conn, user_id, profile_id, item.market, d_quantity, d_cost, f"ack:{item.id}", actor=actor)
            await adjustments.mark_booked(conn, item.id, actor)
            await audit.record(conn, user_id, actor, "reconcile.adjust_ack", "profile", profile_id, {
                "adjustment_id": str(item.id), "market": item.market, "d_quantity": str(d_quantity),
                "d_cost_basis_eur": str(d_cost)})
            done.append(Adjusted(profile_id, item.market, d_quantity, d_cost))
    return done
