"""The one writer of ``unmanaged_holdings``: coins the account holds beyond the positions our own fills built.

They are the user's (held before the profile started, deposited, bought by hand): recorded per (user, asset),
shown, never a position, never capital, never sold. Reconciliation refreshes them after every balance comparison.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import LiteralString

from autoinvest.db.tx import AppConnection

_SEEN: LiteralString = """
INSERT INTO unmanaged_holdings (user_id, asset, amount) VALUES (%(user)s, %(asset)s, %(amount)s)
ON CONFLICT (user_id, asset) DO UPDATE SET amount = EXCLUDED.amount, last_seen_at = now()
"""
_GONE: LiteralString = "UPDATE unmanaged_holdings SET amount = 0 WHERE asset = %(asset)s AND amount <> 0"
_LIST: LiteralString = "SELECT asset, amount, first_seen_at, last_seen_at FROM unmanaged_holdings ORDER BY asset"


async def record(conn: AppConnection, user_id: object, amounts: Mapping[str, Decimal]) -> None:
    """Set each asset's unmanaged amount (0: none any more), in the caller's ``user_tx``."""
    for asset, amount in sorted(amounts.items()):
        if amount > 0:
            await conn.execute(_SEEN, {"user": user_id, "asset": asset, "amount": amount})
        else:
            await conn.execute(_GONE, {"asset": asset})


async def holdings(conn: AppConnection) -> dict[str, Decimal]:
    """asset → unmanaged amount of the user (in the caller's ``user_tx``)."""
    cur = await conn.execute(_LIST)
    return {r["asset"]: r["amount"] for r in await cur.fetchall() if r["amount"] > 0}
