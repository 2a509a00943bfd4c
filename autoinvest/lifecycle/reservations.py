"""Capital reserved for an execution: opened at claim, voided when no order will fill."""

from __future__ import annotations

from decimal import Decimal

from autoinvest.db.tx import AppConnection
from autoinvest.ledger import entries as ledger
from autoinvest.ledger import repo as ledger_repo
from autoinvest.lifecycle.executions import Execution


def required_eur(amount_eur: Decimal) -> Decimal:
    """EUR to reserve for a buy of ``amount_eur``: exactly that. Every buy is a market order by ``amountQuote``,
    and Bitvavo takes the fee out of it (EUR 1,000 buys EUR 997.50 of the asset), so no headroom goes on top
    whatever the account's fee tier."""
    return amount_eur


async def void(conn: AppConnection, execution: Execution) -> None:
    """Release what is left of the execution's reservation (idempotent: one RELEASE per execution)."""
    remaining = await ledger_repo.reservation_remaining(conn, execution.profile_id, execution.id)
    await ledger_repo.post(conn, execution.profile_id, execution.user_id, ledger.release(execution.id, remaining))
