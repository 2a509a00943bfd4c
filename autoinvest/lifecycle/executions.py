"""The execution state machine and the only writer of the ``executions`` table.

An execution is created by a claim (CLAIMED, or REJECTED with its reasons) or adopted by reconciliation
(SUBMITTED), and then only moves forward by compare-and-set :func:`transition`: CLAIMED → SUBMITTING (committed
before the send) → SUBMITTED → FILLED | CANCELED, or to REJECTED / NOT_PLACED when no order will fill. A
SUBMITTING execution whose outcome is unknown is looked up under a fenced lease (:func:`take_lease`,
:func:`count_not_found`, :func:`drop_lease`); it is never sent again. NOT_PLACED is provisional
(:func:`not_placed`): it keeps its reservation and counts as live until a later look confirms it
(:func:`confirm_not_placed`) or finds the order after all (:func:`reopen`, back to SUBMITTED).

Every statement that writes ``executions`` is a constant of this module; the callers (claim, submit, resolve,
the lifecycle, reconciliation) decide when, this module decides how.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, LiteralString
from uuid import UUID

from autoinvest.db import driver
from autoinvest.db.tx import AppConnection
from autoinvest.domain.states import ExecutionState, Side

_GET: LiteralString = "SELECT * FROM executions WHERE id = %(id)s"
_GET_FOR_UPDATE: LiteralString = _GET + " FOR UPDATE"
_FOR_PROPOSAL: LiteralString = "SELECT * FROM executions WHERE user_id = %(user)s AND proposal_id = %(proposal)s"

_CREATE: LiteralString = """
INSERT INTO executions (id, user_id, profile_id, proposal_id, market, side, state, client_order_id,
                        amount_eur, amount_base, reserved_eur, reasons, preflight)
VALUES (%(id)s, %(user)s, %(profile)s, %(proposal)s, %(market)s, %(side)s, %(state)s, %(coid)s,
        %(eur)s, %(base)s, %(reserved)s, %(reasons)s, %(preflight)s)
RETURNING *
"""
_ADOPT: LiteralString = """
INSERT INTO executions (id, user_id, profile_id, proposal_id, market, side, state, client_order_id, amount_eur,
                        amount_base, reserved_eur, reasons, submit_ts, exchange_order_id, response)
VALUES (%(id)s, %(user)s, %(profile)s, %(proposal)s, %(market)s, %(side)s, 'SUBMITTED', %(coid)s, %(eur)s,
        %(base)s, %(reserved)s, %(reasons)s, now(), %(order_id)s, %(raw)s::jsonb)
ON CONFLICT DO NOTHING
RETURNING id
"""
_UNRESERVE: LiteralString = "UPDATE executions SET reserved_eur = 0 WHERE id = %(id)s"
_TOUCH: LiteralString = "UPDATE executions SET updated_at = now() WHERE id = %(id)s"
_TRANSITION: LiteralString = """
UPDATE executions
   SET state = %(to)s, updated_at = now(),
       reasons = CASE WHEN %(reasons)s::text[] IS NULL THEN reasons ELSE reasons || %(reasons)s::text[] END,
       response = coalesce(%(response)s, response),
       request = coalesce(%(request)s, request),
       exchange_order_id = coalesce(%(order_id)s, exchange_order_id),
       submit_ts = CASE WHEN %(set_ts)s THEN now() ELSE submit_ts END,
       lease_owner = NULL, lease_until = NULL
 WHERE id = %(id)s AND state = %(from)s
   AND (%(token)s::bigint IS NULL OR lease_token = %(token)s::bigint)
RETURNING *
"""
_TAKE_LEASE: LiteralString = """
UPDATE executions
   SET lease_owner = %(worker)s, lease_until = now() + make_interval(secs => %(lease)s),
       lease_token = lease_token + 1
 WHERE id = %(id)s AND (state = 'SUBMITTING' OR (state = 'NOT_PLACED' AND confirmed_at IS NULL))
   AND (lease_until IS NULL OR lease_until < now())
RETURNING lease_token,
          CASE WHEN state = 'NOT_PLACED' THEN now() >= confirm_after
               ELSE now() > submit_ts + make_interval(secs => %(fence_ms)s / 1000.0) END AS window_passed
"""
# Counted only a spacing after the previous "not found": two lookups back to back prove no more than one.
_COUNT_NOT_FOUND: LiteralString = """
UPDATE executions
   SET not_found_count = not_found_count + 1, last_not_found_at = now(), lease_owner = NULL, lease_until = NULL
 WHERE id = %(id)s AND state = 'SUBMITTING' AND lease_token = %(token)s
   AND (last_not_found_at IS NULL OR now() >= last_not_found_at + make_interval(secs => %(spacing_ms)s / 1000.0))
RETURNING not_found_count
"""
_NOT_PLACED: LiteralString = """
UPDATE executions
   SET state = 'NOT_PLACED', updated_at = now(), reasons = reasons || %(reasons)s::text[],
       confirm_after = now() + make_interval(secs => %(confirm_ms)s / 1000.0),
       lease_owner = NULL, lease_until = NULL
 WHERE id = %(id)s AND state = 'SUBMITTING' AND lease_token = %(token)s
RETURNING *
"""
_CONFIRM: LiteralString = """
UPDATE executions SET confirmed_at = now(), updated_at = now(), lease_owner = NULL, lease_until = NULL
 WHERE id = %(id)s AND state = 'NOT_PLACED' AND confirmed_at IS NULL AND confirm_after <= now()
   AND lease_token = %(token)s
RETURNING *
"""
_REOPEN: LiteralString = """
UPDATE executions
   SET state = 'SUBMITTED', updated_at = now(), reasons = reasons || %(reasons)s::text[],
       exchange_order_id = %(order_id)s, response = %(response)s, confirm_after = NULL,
       lease_owner = NULL, lease_until = NULL
 WHERE id = %(id)s AND state = 'NOT_PLACED' AND confirmed_at IS NULL
   AND (%(token)s::bigint IS NULL OR lease_token = %(token)s::bigint)
RETURNING *
"""
_DROP_LEASE: LiteralString = (
    "UPDATE executions SET lease_owner = NULL, lease_until = NULL WHERE id = %(id)s AND lease_token = %(token)s"
)


@dataclass(frozen=True)
class Execution:
    id: UUID
    user_id: UUID
    profile_id: UUID
    proposal_id: UUID
    market: str
    side: Side
    state: ExecutionState
    client_order_id: UUID
    amount_eur: Decimal | None
    amount_base: Decimal | None
    reserved_eur: Decimal
    reasons: tuple[str, ...]
    exchange_order_id: str | None
    submit_ts: datetime | None
    not_found_count: int
    confirmed_at: datetime | None = None  #: a NOT_PLACED is provisional (and live) until a later look sets this

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Execution:
        return cls(id=row["id"], user_id=row["user_id"], profile_id=row["profile_id"],
                   proposal_id=row["proposal_id"], market=row["market"], side=Side(row["side"]),
                   state=ExecutionState(row["state"]), client_order_id=row["client_order_id"],
                   amount_eur=row["amount_eur"], amount_base=row["amount_base"], reserved_eur=row["reserved_eur"],
                   reasons=tuple(row["reasons"]), exchange_order_id=row["exchange_order_id"],
                   submit_ts=row["submit_ts"], not_found_count=row["not_found_count"],
                   confirmed_at=row["confirmed_at"])


@dataclass(frozen=True)
class Lease:
    """A resolver's hold on a SUBMITTING (or unconfirmed NOT_PLACED) execution: the fencing token of its writes,
    and whether its lookup comes after ``submit_ts`` + the fence (or ``confirm_after``): only then does "not
    found" count."""

    token: int
    window_passed: bool


# ---------------------------------------------------------------- reads

async def get(conn: AppConnection, execution_id: UUID, *, lock: bool = False) -> Execution | None:
    cur = await conn.execute(_GET_FOR_UPDATE if lock else _GET, {"id": execution_id})
    row = await cur.fetchone()
    return Execution.from_row(row) if row else None


async def for_proposal(conn: AppConnection, user_id: UUID, proposal_id: UUID) -> Execution | None:
    cur = await conn.execute(_FOR_PROPOSAL, {"user": user_id, "proposal": proposal_id})
    row = await cur.fetchone()
    return Execution.from_row(row) if row else None


# ---------------------------------------------------------------- creation

async def create(conn: AppConnection, *, execution_id: UUID, user_id: UUID, profile_id: UUID, proposal_id: UUID,
                 market: str, side: Side, state: ExecutionState, client_order_id: UUID, amount_eur: Decimal | None,
                 amount_base: Decimal | None, reserved_eur: Decimal, reasons: Sequence[str],
                 preflight: dict[str, object]) -> Execution:
    """The claim's record: CLAIMED (may be submitted) or REJECTED (never sent). UNIQUE(user, proposal) and the
    one-live-entry index raise ``driver.UniqueViolation`` for a second one."""
    assert state in (ExecutionState.CLAIMED, ExecutionState.REJECTED), state
    cur = await conn.execute(_CREATE, {
        "id": execution_id, "user": user_id, "profile": profile_id, "proposal": proposal_id, "market": market,
        "side": side.value, "state": state.value, "coid": client_order_id, "eur": amount_eur, "base": amount_base,
        "reserved": reserved_eur, "reasons": list(reasons), "preflight": driver.Jsonb(preflight)})
    row = await cur.fetchone()
    assert row is not None
    return Execution.from_row(row)


async def adopt(conn: AppConnection, *, execution_id: UUID, user_id: UUID, profile_id: UUID, proposal_id: UUID,
                market: str, side: Side, client_order_id: UUID, amount_eur: Decimal | None,
                amount_base: Decimal | None, reserved_eur: Decimal, reasons: Sequence[str], exchange_order_id: str,
                response: dict[str, object]) -> bool:
    """Record an order found on the exchange that we never recorded, as SUBMITTED; False (nothing written) when
    the proposal already has an execution or another entry of its profile+market is live."""
    cur = await conn.execute(_ADOPT, {
        "id": execution_id, "user": user_id, "profile": profile_id, "proposal": proposal_id, "market": market,
        "side": side.value, "coid": client_order_id, "eur": amount_eur, "base": amount_base,
        "reserved": reserved_eur, "reasons": list(reasons), "order_id": exchange_order_id,
        "raw": json.dumps(response)})
    return await cur.fetchone() is not None


async def unreserve(conn: AppConnection, execution_id: UUID) -> None:
    """Record that nothing is reserved for the execution (an adopted order its capital could not cover)."""
    await conn.execute(_UNRESERVE, {"id": execution_id})


# ---------------------------------------------------------------- moves

async def touch(conn: AppConnection, execution_id: UUID) -> None:
    """Mark an execution as looked at now (the monitor's round robin orders by updated_at)."""
    await conn.execute(_TOUCH, {"id": execution_id})


async def transition(conn: AppConnection, execution_id: UUID, from_state: ExecutionState, to_state: ExecutionState,
                     *, reasons: list[str] | None = None, response: object = None, exchange_order_id: str | None = None,
                     set_submit_ts: bool = False, request: object = None, lease_token: int | None = None,
                     ) -> Execution | None:
    """Move one execution from ``from_state`` to ``to_state``; None when it was not in ``from_state`` (lost race)."""
    cur = await conn.execute(_TRANSITION, {
        "to": to_state.value, "from": from_state.value, "id": execution_id, "reasons": reasons,
        "response": driver.Jsonb(_jsonable(response)) if response is not None else None,
        "request": driver.Jsonb(_jsonable(request)) if request is not None else None,
        "order_id": exchange_order_id, "set_ts": set_submit_ts, "token": lease_token})
    row = await cur.fetchone()
    return Execution.from_row(row) if row else None


# ---------------------------------------------------------------- the resolver's lease

async def take_lease(conn: AppConnection, execution_id: UUID, *, worker: str, lease_s: int,
                     fence_ms: int) -> Lease | None:
    """Lease a SUBMITTING execution for one lookup (a new fencing token); None when it is not SUBMITTING any
    more or another resolver's lease is still running. ``fence_ms`` after ``submit_ts`` a lookup counts."""
    cur = await conn.execute(_TAKE_LEASE, {"worker": worker, "lease": lease_s, "id": execution_id,
                                           "fence_ms": fence_ms})
    row = await cur.fetchone()
    return None if row is None else Lease(token=int(row["lease_token"]), window_passed=bool(row["window_passed"]))


async def count_not_found(conn: AppConnection, execution_id: UUID, token: int, *, spacing_ms: int) -> int | None:
    """Count one "not found" lookup and end the lease; the count so far, or None (nothing written) when the lease
    was lost or the previous counted lookup is less than ``spacing_ms`` ago."""
    cur = await conn.execute(_COUNT_NOT_FOUND, {"id": execution_id, "token": token, "spacing_ms": spacing_ms})
    row = await cur.fetchone()
    return None if row is None else int(row["not_found_count"])


async def not_placed(conn: AppConnection, execution_id: UUID, token: int, *, reasons: list[str],
                     confirm_after_ms: int) -> Execution | None:
    """SUBMITTING → NOT_PLACED, provisional: its confirming look may run ``confirm_after_ms`` from now (database
    time); until then it keeps its reservation and counts as live. None when the lease was lost."""
    cur = await conn.execute(_NOT_PLACED, {"id": execution_id, "token": token, "reasons": reasons,
                                           "confirm_ms": confirm_after_ms})
    row = await cur.fetchone()
    return Execution.from_row(row) if row else None


async def confirm_not_placed(conn: AppConnection, execution_id: UUID, token: int) -> Execution | None:
    """Confirm a NOT_PLACED whose ``confirm_after`` has passed (the caller then voids its reservation)."""
    cur = await conn.execute(_CONFIRM, {"id": execution_id, "token": token})
    row = await cur.fetchone()
    return Execution.from_row(row) if row else None


async def reopen(conn: AppConnection, execution_id: UUID, token: int | None, *, exchange_order_id: str,
                 response: object, reasons: list[str]) -> Execution | None:
    """An unconfirmed NOT_PLACED whose order was found after all → SUBMITTED (its reservation was kept); ``token``:
    the resolver's lease, or None for the sender's own late ack."""
    cur = await conn.execute(_REOPEN, {"id": execution_id, "token": token, "order_id": exchange_order_id,
                                       "response": driver.Jsonb(_jsonable(response)), "reasons": reasons})
    row = await cur.fetchone()
    return Execution.from_row(row) if row else None


async def drop_lease(conn: AppConnection, execution_id: UUID, token: int) -> None:
    """End the lease without counting anything (the lookup proved nothing)."""
    await conn.execute(_DROP_LEASE, {"id": execution_id, "token": token})


def _jsonable(value: object) -> object:
    return json.loads(json.dumps(value, default=str))
