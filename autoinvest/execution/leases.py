"""Executor leases on approved proposals: N executors take N different proposals (writer of
``executor_leases``, through the schema's ``lease_approved_proposal()`` and ``release_executor_lease()``).

A lease only spares wasted work; it guards nothing. Whoever holds it, the claim's profile lock and
UNIQUE(user_id, proposal_id) still allow one execution per proposal, so a lease that expires under a slow
executor costs at most one more claim attempt, never a second order.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from autoinvest.db.tx import AppConnection, system_tx

#: Long enough for one execute call with a slow exchange (its timeouts are 10 s); a crashed executor's
#: proposal waits this long before another executor takes it.
LEASE_S = 30


async def lease_next(conn: AppConnection, worker: str, *, hint: UUID | None = None,
                     skip: Sequence[UUID] = ()) -> tuple[UUID, UUID] | None:
    """Lease the next approved proposal without an execution (``hint`` first, never one of ``skip``) to
    ``worker``: its id and its owner, or None when there is none to take."""
    async with system_tx(conn):
        cur = await conn.execute("SELECT * FROM lease_approved_proposal(%s, %s, %s::uuid[], %s)",
                                 (worker, hint, list(skip), LEASE_S))
        row = await cur.fetchone()
    return None if row is None else (row["proposal_id"], row["user_id"])


async def release(conn: AppConnection, worker: str, proposal_id: UUID) -> None:
    """Free a proposal tried without an execution coming of it (an executed one's lease simply runs out)."""
    async with system_tx(conn):
        await conn.execute("SELECT release_executor_lease(%s, %s)", (proposal_id, worker))
