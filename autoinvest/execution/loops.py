"""One pass of each execution loop: executor, resolver, monitor. Workers call them in a loop."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar
from uuid import UUID

from autoinvest.db.tx import AppConnection, system_tx, user_tx
from autoinvest.errors import AutoInvestError
from autoinvest.exchange.base import MarketData
from autoinvest.execution import leases
from autoinvest.execution.resolve import OrderLookup, ResolveSettings
from autoinvest.execution.service import ClientsFor, execute, resolve, submit_claimed
from autoinvest.execution.submit import SubmitSettings
from autoinvest.lifecycle import executions
from autoinvest.lifecycle.apply import apply_order
from autoinvest.lifecycle.executions import Execution

log = logging.getLogger(__name__)
BATCH = 50
#: A pass ends after this many proposals, so that the CLAIMED leftovers and the heartbeat get their turn.
MAX_PROPOSALS_PER_PASS = 500


@dataclass(frozen=True)
class LoopSettings:
    submit: SubmitSettings
    resolve: ResolveSettings
    resolver_grace_s: int
    claimed_grace_s: int = 5


ReaderForFn = Callable[[AppConnection, UUID], Awaitable[MarketData]]
C = TypeVar("C", bound=OrderLookup)
LookupForFn = Callable[[AppConnection, UUID], Awaitable[OrderLookup]]


async def _ids(conn: AppConnection, sql: str, *params: object) -> list[tuple[UUID, UUID]]:
    async with system_tx(conn):
        cur = await conn.execute(sql, params)
        return [tuple(row.values())[:2] for row in await cur.fetchall()]


async def executor_pass(conn: AppConnection, *, clients_for: ClientsFor, settings: LoopSettings, worker: str,
                        hints: Sequence[str] = ()) -> int:
    """Execute approved proposals until none is left to take, and submit executions left CLAIMED by a crashed
    instance; return the count. Each proposal is leased first (``execution.leases``), so that executors running
    side by side take different ones; ``hints`` (the ids wake-ups named) are taken first."""
    done = 0
    tried: list[UUID] = []
    wanted = [UUID(h) for h in hints if _is_uuid(h)]
    while len(tried) < MAX_PROPOSALS_PER_PASS:
        hint = next((h for h in wanted if h not in tried), None)
        leased = await leases.lease_next(conn, worker, hint=hint, skip=tried)
        if leased is None:
            break
        proposal_id, user_id = leased
        tried.append(proposal_id)  # once per pass: one that waits for a live entry is tried again next pass
        try:
            result = await execute(conn, proposal_id, clients_for=clients_for, settings=settings.submit,
                                   user_id=user_id)
        except AutoInvestError as exc:
            log.warning("execute failed", extra={"proposal_id": str(proposal_id), "reason": exc.reason})
            await leases.release(conn, worker, proposal_id)
            continue
        log.info("executed", extra={"proposal_id": str(proposal_id), "state": result.state,
                                    "outcome": result.outcome.value, "reasons": list(result.reasons)})
        done += 1
        if result.execution_id is None:  # waiting for a live entry: free for the next pass, here or elsewhere
            await leases.release(conn, worker, proposal_id)
    stale = await _ids(conn, "SELECT * FROM execution_ids_in_state('CLAIMED', %s, %s)",
                       settings.claimed_grace_s, BATCH)
    for execution_id, user_id in stale:
        try:
            await submit_claimed(conn, user_id, execution_id, clients_for=clients_for, settings=settings.submit)
            done += 1
        except AutoInvestError as exc:  # one bad execution must not stall the others
            log.warning("submit failed", extra={"execution_id": str(execution_id), "reason": exc.reason})
    return done


async def _with_reader(conn: AppConnection, reader_for: Callable[[AppConnection, UUID], Awaitable[C]],
                       user_id: UUID, execution_id: UUID, step: str, work: Callable[[C], Awaitable[object]]) -> bool:
    """Run one item's exchange work with the user's client; a failure is logged, never fatal."""
    try:
        reader = await reader_for(conn, user_id)
        try:
            await work(reader)
        finally:
            await reader.close()
    except AutoInvestError as exc:  # one bad item must not stall the others
        log.warning(f"{step} failed", extra={"execution_id": str(execution_id), "reason": exc.reason})
        return False
    return True


async def resolver_pass(conn: AppConnection, *, lookup_for: LookupForFn, settings: LoopSettings) -> int:
    """Resolve SUBMITTING executions older than the grace period, and confirm (or reopen) provisional NOT_PLACED
    ones whose ``confirm_after`` has passed, by asking the exchange with the key that placed the order."""
    done = 0
    due = await _ids(conn, "SELECT * FROM execution_ids_in_state('SUBMITTING', %s, %s)",
                     settings.resolver_grace_s, BATCH)
    due += await _ids(conn, "SELECT * FROM unconfirmed_not_placed_ids(%s)", BATCH)
    for execution_id, user_id in due:

        async def work(lookup: OrderLookup, execution_id: UUID = execution_id) -> object:
            return await resolve(conn, execution_id, lookup=lookup, settings=settings.resolve)

        done += await _with_reader(conn, lookup_for, user_id, execution_id, "resolve", work)
    return done


async def monitor_pass(conn: AppConnection, *, reader_for: ReaderForFn, grace_s: int = 1) -> int:
    """Follow SUBMITTED orders to their end, applying what the exchange reports through the lifecycle."""
    done = 0
    for execution_id, user_id in await _ids(conn, "SELECT * FROM execution_ids_in_state('SUBMITTED', %s, %s)",
                                            grace_s, BATCH):
        async with user_tx(conn, user_id):
            execution = await executions.get(conn, execution_id)
        if execution is None or execution.exchange_order_id is None:
            continue

        async def work(reader: MarketData, execution: Execution = execution) -> object:
            assert execution.exchange_order_id is not None
            report = await reader.get_order(execution.market, order_id=execution.exchange_order_id)
            return await apply_order(conn, execution.user_id, execution.id, report)

        done += await _with_reader(conn, reader_for, user_id, execution_id, "monitor", work)
        async with user_tx(conn, user_id):  # to the back of the queue: every open order gets its turn
            await executions.touch(conn, execution_id)
    return done


def _is_uuid(text: str) -> bool:
    try:
        UUID(text)
    except ValueError:
        return False
    return True
