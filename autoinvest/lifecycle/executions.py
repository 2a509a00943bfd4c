"""The executions table: reading a row and moving it between states by compare-and-set."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from autoinvest.db import driver
from autoinvest.db.tx import AppConnection
from autoinvest.domain.states import ExecutionState, Side


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

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Execution:
        return cls(id=row["id"], user_id=row["user_id"], profile_id=row["profile_id"],
                   proposal_id=row["proposal_id"], market=row["market"], side=Side(row["side"]),
                   state=ExecutionState(row["state"]), client_order_id=row["client_order_id"],
                   amount_eur=row["amount_eur"], amount_base=row["amount_base"], reserved_eur=row["reserved_eur"],
                   reasons=tuple(row["reasons"]), exchange_order_id=row["exchange_order_id"],
                   submit_ts=row["submit_ts"], not_found_count=row["not_found_count"])


async def get(conn: AppConnection, execution_id: UUID, *, lock: bool = False) -> Execution | None:
    sql = "SELECT * FROM executions WHERE id = %(id)s" + (" FOR UPDATE" if lock else "")
    cur = await conn.execute(sql, {"id": execution_id})  # type: ignore[arg-type,unused-ignore]
    row = await cur.fetchone()
    return Execution.from_row(row) if row else None


async def for_proposal(conn: AppConnection, user_id: UUID, proposal_id: UUID) -> Execution | None:
    cur = await conn.execute("SELECT * FROM executions WHERE user_id = %s AND proposal_id = %s",
                             (user_id, proposal_id))
    row = await cur.fetchone()
    return Execution.from_row(row) if row else None


async def touch(conn: AppConnection, execution_id: UUID) -> None:
    """Mark an execution as looked at now (the monitor's round robin orders by updated_at)."""
    await conn.execute("UPDATE executions SET updated_at = now() WHERE id = %s", (execution_id,))


async def transition(conn: AppConnection, execution_id: UUID, from_state: ExecutionState, to_state: ExecutionState,
                     *, reasons: list[str] | None = None, response: object = None, exchange_order_id: str | None = None,
                     set_submit_ts: bool = False, request: object = None, lease_token: int | None = None,
                     ) -> Execution | None:
    """Move one execution from ``from_state`` to ``to_state``; None when it was not in ``from_state`` (lost race)."""
    cur = await conn.execute(
        """
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
        """,
        {"to": to_state.value, "from": from_state.value, "id": execution_id, "reasons": reasons,
         "response": driver.Jsonb(_jsonable(response)) if response is not None else None,
         "request": driver.Jsonb(_jsonable(request)) if request is not None else None,
         "order_id": exchange_order_id, "set_ts": set_submit_ts, "token": lease_token})
    row = await cur.fetchone()
    return Execution.from_row(row) if row else None


def _jsonable(value: object) -> object:
    return json.loads(json.dumps(value, default=str))
