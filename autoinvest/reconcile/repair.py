"""Repairs that the lifecycle alone cannot express: adopting an order we never recorded, and booking balance drift.

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


async def book_drift(conn: AppConnection, user_id: UUID, profile_id: UUID, market: str, share: Decimal, *,
                     price: Decimal | None, request_id: str) -> Adjusted:
    """Move the profile's position by ``share`` base units and book the matching ADJUST entry.

    Missing coins take their average cost basis with them (a realized loss); extra coins enter at ``price``
    (a realized gain). Either way free capital is unchanged: the entry moves ``reserved_for_positions`` and
    ``realized_pnl`` by the same amount.
    """
    async with user_tx(conn, user_id):
        cur = await conn.execute(_POSITION_FOR_UPDATE, {"profile": profile_id, "market": market})
        row = await cur.fetchone()
        quantity = row["quantity"] if row else Decimal(0)
        cost = row["cost_basis_eur"] if row else Decimal(0)
        if share < 0:
            removed = min(-share, quantity)
            d_quantity = -removed
            d_cost = -(cost * removed / quantity).quantize(VALUE_QUANTUM) if quantity > 0 else Decimal(0)
            d_cost = max(d_cost, -cost)
        else:
            d_quantity = share
            d_cost = (share * price).quantize(VALUE_QUANTUM) if price is not None else Decimal(0)
        if d_cost:
            await ledger_repo.post(conn, profile_id, user_id, ledger.adjust(
                profile_id, request_id, reason="balance_drift", d_reserved_for_positions=d_cost,
                d_realized_pnl=d_cost, memo={"market": market, "d_quantity": str(d_quantity)}))
        # valued at cost: what leaves or joins the position is booked as realized P&L (see the ADJUST entry)
        await move_position(conn, user_id=user_id, profile_id=profile_id, market=market, d_quantity=d_quantity,
                            d_cost=d_cost, d_realized=d_cost)
        await audit.record(conn, user_id, ACTOR, "reconcile.balance_drift", "profile", profile_id, {
            "market": market, "d_quantity": str(d_quantity), "d_cost_basis_eur": str(d_cost),
            "price": None if price is None else str(price), "request_id": request_id})
    return Adjusted(profile_id, market, d_quantity, d_cost)
