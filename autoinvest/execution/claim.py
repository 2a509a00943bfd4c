"""Claim: lock the profile, read the facts, decide, and record the execution — one transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from autoinvest import audit
from autoinvest.db.errors import translated
from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.domain.states import ExecutionState, Side
from autoinvest.errors import NotFound, UniqueViolated
from autoinvest.execution import preflight
from autoinvest.execution.client_order_id import client_order_id
from autoinvest.ledger import entries as ledger
from autoinvest.ledger import repo as ledger_repo
from autoinvest.lifecycle import executions, reservations
from autoinvest.lifecycle.executions import Execution
from autoinvest.policy import decide, facts_to_json

ENTRY_IN_PROGRESS = "ENTRY_IN_PROGRESS"


class Outcome(StrEnum):
    CLAIMED = "CLAIMED"  # a new execution exists and may be submitted
    REJECTED = "REJECTED"  # recorded as REJECTED with its reasons; never sent
    ALREADY_CLAIMED = "ALREADY_CLAIMED"  # an execution existed before this call: nothing new happened
    WAITING = "WAITING"  # another entry of this profile+market is live; claim again once it has ended


@dataclass(frozen=True)
class ClaimResult:
    outcome: Outcome
    execution: Execution | None
    reasons: tuple[str, ...] = field(default=())


async def claim(conn: AppConnection, user_id: UUID, proposal_id: UUID, *,
                sell_quote: preflight.SellQuote | None = None) -> ClaimResult:
    """Claim the proposal for execution, at most once ever (``sell_quote``: see ``facts.load``)."""
    try:
        with translated():
            async with user_tx(conn, user_id):
                return await _claim_in_tx(conn, user_id, proposal_id, sell_quote)
    except UniqueViolated:
        # Only reachable if two claims bypassed the profile lock; the constraint still holds the line.
        async with user_tx(conn, user_id):
            existing = await executions.for_proposal(conn, user_id, proposal_id)
        if existing is not None:
            return ClaimResult(Outcome.ALREADY_CLAIMED, existing, existing.reasons)
        return ClaimResult(Outcome.WAITING, None, (ENTRY_IN_PROGRESS,))


async def _claim_in_tx(conn: AppConnection, user_id: UUID, proposal_id: UUID,
                       sell_quote: preflight.SellQuote | None) -> ClaimResult:
    # Serialise every claim of this profile: the counters read below cannot change under us.
    cur = await conn.execute(
        "SELECT lock_profile(p.profile_id) AS locked FROM trade_proposals p WHERE p.id = %s", (proposal_id,))
    row = await cur.fetchone()
    if row is None or not row["locked"]:
        raise NotFound(f"proposal {proposal_id} not found (or not yours)", reason="PROPOSAL_NOT_FOUND")
    existing = await executions.for_proposal(conn, user_id, proposal_id)
    if existing is not None:
        return ClaimResult(Outcome.ALREADY_CLAIMED, existing, existing.reasons)

    snapshot = await preflight.load(conn, proposal_id, sell_quote=sell_quote)
    facts = snapshot.facts
    cur = await conn.execute(
        "SELECT 1 FROM executions e WHERE e.profile_id = %s AND e.market = %s AND " + preflight.LIVE_SQL,
        (snapshot.profile_id, facts.market))
    if await cur.fetchone() is not None:
        await _audit_waiting(conn, user_id, proposal_id)
        return ClaimResult(Outcome.WAITING, None, (ENTRY_IN_PROGRESS,))

    decision = decide(facts)
    reasons = [r.code for r in decision.reasons]
    state = ExecutionState.CLAIMED if decision.allowed else ExecutionState.REJECTED
    execution_id = uuid.uuid4()
    reserve = reservations.required_eur(facts.amount_eur) if decision.allowed and facts.side is Side.BUY else None
    record: dict[str, object] = {"facts": facts_to_json(facts), "decision": decision.to_json()}
    if snapshot.sell_quote is not None:
        record["converted"] = {"amount_eur": str(snapshot.amount_eur), "at_bid": str(snapshot.sell_quote.bid),
                               "amount_base": str(snapshot.amount_base)}
    execution = await executions.create(
        conn, execution_id=execution_id, user_id=user_id, profile_id=snapshot.profile_id, proposal_id=proposal_id,
        market=facts.market, side=facts.side, state=state, client_order_id=client_order_id(user_id, proposal_id),
        amount_eur=snapshot.amount_eur, amount_base=snapshot.amount_base, reserved_eur=reserve or Decimal(0),
        reasons=reasons, preflight=record)
    if reserve:
        await ledger_repo.post(conn, snapshot.profile_id, user_id, ledger.reserve(execution_id, reserve))
    outcome = Outcome.CLAIMED if decision.allowed else Outcome.REJECTED
    return ClaimResult(outcome, execution, tuple(reasons))


async def _audit_waiting(conn: AppConnection, user_id: UUID, proposal_id: UUID) -> None:
    # Recorded once per proposal, so that a polling worker does not flood the audit log.
    await audit.record_once(conn, user_id, "executor", "execution.waiting", "proposal", proposal_id,
                            {"reason": ENTRY_IN_PROGRESS})
