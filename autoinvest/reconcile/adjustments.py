"""The one writer of ``reconcile_adjustments``: coin shortfalls too large to book without an operator.

A run that finds a profile's coins gone, worth more than the acknowledgement threshold, records (or refreshes)
one pending item per profile and market instead of booking the ADJUST entry; ``autoinvest reconcile ack``
books it (``repair.acknowledge``). An item whose coins came back before that is cleared.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import LiteralString
from uuid import UUID

from autoinvest.db.tx import AppConnection

_HOLD: LiteralString = """
INSERT INTO reconcile_adjustments (id, user_id, profile_id, market, d_quantity, value_eur)
VALUES (%(id)s, %(user)s, %(profile)s, %(market)s, %(d_quantity)s, %(value)s)
ON CONFLICT (profile_id, market) WHERE status = 'pending'
DO UPDATE SET d_quantity = EXCLUDED.d_quantity, value_eur = EXCLUDED.value_eur, updated_at = now()
RETURNING id
"""
_CLEAR: LiteralString = """
UPDATE reconcile_adjustments SET status = 'cleared', updated_at = now()
 WHERE profile_id = %(profile)s AND market = %(market)s AND status = 'pending'
"""
_PENDING: LiteralString = """
SELECT id, profile_id, market, d_quantity, value_eur, created_at FROM reconcile_adjustments
 WHERE status = 'pending' AND (%(profile)s::uuid IS NULL OR profile_id = %(profile)s)
 ORDER BY created_at, id
"""
_LOCK_PENDING: LiteralString = _PENDING + " FOR UPDATE"
_BOOKED: LiteralString = """
UPDATE reconcile_adjustments SET status = 'booked', acked_at = now(), acked_by = %(actor)s, updated_at = now()
 WHERE id = %(id)s AND status = 'pending'
"""


@dataclass(frozen=True)
class Pending:
    id: UUID
    profile_id: UUID
    market: str
    d_quantity: Decimal
    value_eur: Decimal


async def hold(conn: AppConnection, user_id: UUID, profile_id: UUID, market: str, d_quantity: Decimal,
               value_eur: Decimal) -> UUID:
    """Record or refresh the profile's pending item for ``market``; its id."""
    cur = await conn.execute(_HOLD, {"id": uuid.uuid4(), "user": user_id, "profile": profile_id, "market": market,
                                     "d_quantity": d_quantity, "value": value_eur})
    row = await cur.fetchone()
    assert row is not None
    return UUID(str(row["id"]))


async def clear(conn: AppConnection, profile_id: UUID, market: str) -> None:
    await conn.execute(_CLEAR, {"profile": profile_id, "market": market})


async def pending(conn: AppConnection, profile_id: UUID | None = None, *, lock: bool = False) -> list[Pending]:
    """The user's pending items (of one profile); ``lock`` takes their row locks for an acknowledgement."""
    cur = await conn.execute(_LOCK_PENDING if lock else _PENDING, {"profile": profile_id})
    return [Pending(r["id"], r["profile_id"], r["market"], r["d_quantity"], r["value_eur"])
            for r in await cur.fetchall()]


async def mark_booked(conn: AppConnection, adjustment_id: UUID, actor: str) -> bool:
    cur = await conn.execute(_BOOKED, {"id": adjustment_id, "actor": actor})
    return cur.rowcount == 1
