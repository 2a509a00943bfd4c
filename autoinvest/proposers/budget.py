"""The per-profile LLM call budget: calls per UTC day and per rolling hour, never exceeded under concurrency.

reserve   one transaction: lock the profile row (serialises every reservation of the profile), count the
          profile's llm_usage rows in both windows, insert a 'reserved' row if under both limits. It commits
          BEFORE the call, so a crash after it leaves the call counted.
complete  the row becomes 'completed' with tokens, latency and outcome; ``fail`` makes it 'failed'.
          Both count against the budget like a reservation: every row does.
Times are database time (now()); the tables are tenant tables, so each step runs in the profile's user_tx.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import LiteralString, Protocol
from uuid import UUID

from autoinvest.db.tx import AppConnection, user_tx

# lock_profile(): a scanner may lock the profile, not change it.
_LOCK_PROFILE: LiteralString = (
    "SELECT pp.llm_calls_per_day, pp.llm_calls_per_hour FROM profile_policies pp"
    " WHERE pp.profile_id = %(profile_id)s AND lock_profile(%(profile_id)s)"
)
_COUNT: LiteralString = (
    "SELECT count(*) FILTER (WHERE reserved_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')"
    " AS today, count(*) FILTER (WHERE reserved_at > now() - interval '1 hour') AS last_hour"
    " FROM llm_usage WHERE profile_id = %(profile_id)s"
    " AND reserved_at >= least(now() - interval '1 hour',"
    " date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')"
)
_RESERVE: LiteralString = (
    "INSERT INTO llm_usage (id, user_id, profile_id, status) VALUES (%(id)s, %(user_id)s, %(profile_id)s, 'reserved')"
)
_COMPLETE: LiteralString = (
    "UPDATE llm_usage SET status = %(status)s, completed_at = now(), prompt_tokens = %(prompt_tokens)s,"
    " completion_tokens = %(completion_tokens)s, latency_ms = %(latency_ms)s, outcome = %(outcome)s"
    " WHERE id = %(id)s AND status = 'reserved'"
)


@dataclass(frozen=True)
class Reservation:
    usage_id: UUID


class Budget(Protocol):
    """What the LLM proposer needs from a budget."""

    async def reserve(self) -> Reservation | None:
        """A committed reservation, or None when the day's or the hour's calls are used up."""
        ...

    async def complete(self, reservation: Reservation, *, prompt_tokens: int | None, completion_tokens: int | None,
                       latency_ms: int, outcome: str) -> None: ...

    async def fail(self, reservation: Reservation, *, latency_ms: int, outcome: str) -> None: ...


@dataclass(frozen=True)
class DbBudget:
    """The budget of one profile in the database, on a connection no transaction is open on."""

    conn: AppConnection
    user_id: UUID
    profile_id: UUID

    async def reserve(self) -> Reservation | None:
        params = {"id": uuid.uuid4(), "user_id": self.user_id, "profile_id": self.profile_id}
        async with user_tx(self.conn, self.user_id):
            cur = await self.conn.execute(_LOCK_PROFILE, params)
            limits = await cur.fetchone()
            if limits is None:
                return None
            cur = await self.conn.execute(_COUNT, params)
            used = await cur.fetchone()
            assert used is not None
            if used["today"] >= limits["llm_calls_per_day"] or used["last_hour"] >= limits["llm_calls_per_hour"]:
                return None
            await self.conn.execute(_RESERVE, params)
        return Reservation(params["id"])

    async def complete(self, reservation: Reservation, *, prompt_tokens: int | None, completion_tokens: int | None,
                       latency_ms: int, outcome: str) -> None:
        await self._finish(reservation, "completed", prompt_tokens, completion_tokens, latency_ms, outcome)

    async def fail(self, reservation: Reservation, *, latency_ms: int, outcome: str) -> None:
        await self._finish(reservation, "failed", None, None, latency_ms, outcome)

    async def _finish(self, reservation: Reservation, status: str, prompt_tokens: int | None,
                      completion_tokens: int | None, latency_ms: int, outcome: str) -> None:
        async with user_tx(self.conn, self.user_id):
            await self.conn.execute(_COMPLETE, {
                "id": reservation.usage_id, "status": status, "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens, "latency_ms": max(0, latency_ms), "outcome": outcome[:200],
            })
