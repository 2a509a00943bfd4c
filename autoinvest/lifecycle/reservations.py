"""Capital reserved for an execution: opened at claim, voided when no order will fill."""

from __future__ import annotations

from decimal import Decimal

from autoinvest.db.tx import AppConnection
from autoinvest.ledger import entries as ledger
from autoinvest.ledger import repo as ledger_repo
from autoinvest.lifecycle.executions import Execution

# Bitvavo charges the taker fee on top of a market buy's amountQuote; the reservation covers it.
FEE_HEADROOM = Decimal("0.0025")


def required_eur(amount_eur: Decimal) -> Decimal:
    """EUR to reserve for a buy of ``amount_eur``: the amount and the largest taker fee."""
    return amount_eur * (1 + FEE_HEADROOM)


async def void(conn: AppConnection, execution: Execution) -> None:
    """Release what is left of the execution's reservation (idempotent: one RELEASE per execution)."""
    remaining = await ledger_repo.reservation_remaining(conn, execution.profile_id, execution.id)
    await ledger_repo.post(conn, execution.profile_id, execution.user_id, ledger.release(execution.id, remaining))
