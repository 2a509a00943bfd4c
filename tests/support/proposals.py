"""Make policies and proposals in SQL, for the execution tests."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from psycopg import sql

from autoinvest.db.tx import AppConnection, user_tx


async def set_policy(conn: AppConnection, user: uuid.UUID, profile: uuid.UUID, **values: Any) -> None:
    async with user_tx(conn, user):
        assignments = sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(k)) for k in values)
        await conn.execute(sql.SQL("UPDATE profile_policies SET {} WHERE profile_id = %s").format(assignments),
                           [*values.values(), profile])


async def make_proposal(conn: AppConnection, user: uuid.UUID, profile: uuid.UUID, *, market: str = "BTC-EUR",
                        side: str = "buy", amount_eur: Decimal | None = Decimal("10"),
                        amount_base: Decimal | None = None, confidence: int = 75, status: str = "APPROVED",
                        ttl_seconds: int = 600, override_cooldown: bool = False,
                        override_anti_flip: bool = False) -> uuid.UUID:
    proposal = uuid.uuid4()
    async with user_tx(conn, user):
        await conn.execute(
            """
            INSERT INTO trade_proposals (id, user_id, profile_id, market, side, amount_eur, amount_base, confidence,
                                         source, status, expires_at, override_cooldown, override_anti_flip)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'manual', %s, now() + make_interval(secs => %s), %s, %s)
            """, (proposal, user, profile, market, side, amount_eur, amount_base, confidence, status, ttl_seconds,
                  override_cooldown, override_anti_flip))
    return proposal
