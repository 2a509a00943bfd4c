"""The database side of a reconciliation: one user's profiles, executions, proposals, fills and positions.

Every query runs in the caller's ``user_tx``: row-level security scopes it to the account's owner.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import LiteralString
from uuid import UUID

from autoinvest.db.tx import AppConnection
from autoinvest.execution.client_order_id import client_order_id
from autoinvest.reconcile.diff import DbOrder, DbView, Holding, canonical_uuid

# Orphans are matched only against recent proposals: an order is placed within minutes of its proposal.
PROPOSAL_LOOKBACK_DAYS = 7

_PROFILES: LiteralString = """
SELECT p.id, p.status, pp.allowlist, pp.trading_enabled
  FROM profiles p JOIN profile_policies pp ON pp.profile_id = p.id
 ORDER BY p.id
"""

_ORDERS: LiteralString = """
SELECT e.id, e.profile_id, e.client_order_id, e.exchange_order_id, e.market, e.state,
       coalesce((SELECT array_agg(f.exchange_fill_id) FROM fills f WHERE f.execution_id = e.id), '{}') AS fill_ids
  FROM executions e
 WHERE e.profile_id = ANY(%(profiles)s)
   AND (e.state IN ('SUBMITTING', 'SUBMITTED')
        OR e.exchange_order_id = ANY(%(order_ids)s)
        OR e.client_order_id = ANY(%(coids)s::uuid[]))
"""

_PROPOSALS: LiteralString = """
SELECT p.id, p.profile_id FROM trade_proposals p
 WHERE p.profile_id = ANY(%(profiles)s)
   AND p.created_at > now() - make_interval(days => %(days)s)
   AND NOT EXISTS (SELECT 1 FROM executions e WHERE e.proposal_id = p.id AND e.user_id = p.user_id)
"""

_KNOWN_FILLS: LiteralString = "SELECT exchange_fill_id FROM fills WHERE exchange_fill_id = ANY(%(ids)s)"

_HOLDINGS: LiteralString = "SELECT profile_id, market, quantity FROM positions ORDER BY profile_id, market"

_LEDGER_CASH: LiteralString = (
    "SELECT coalesce(sum(allocated - reserved_for_positions + realized_pnl), 0) AS cash FROM capital_accounts"
)


@dataclass(frozen=True)
class ProfileRow:
    profile_id: UUID
    status: str
    allowlist: tuple[str, ...]
    trading_enabled: bool


async def profiles(conn: AppConnection) -> list[ProfileRow]:
    """Every profile of the user (paused and archived too: their orders and positions still exist)."""
    cur = await conn.execute(_PROFILES)
    return [ProfileRow(r["id"], r["status"], tuple(r["allowlist"]), r["trading_enabled"])
            for r in await cur.fetchall()]


async def db_view(conn: AppConnection, user_id: UUID, profile_ids: Iterable[UUID], *,
                  order_ids: Iterable[str] = (), client_order_ids: Iterable[str] = (),
                  fill_ids: Iterable[str] = ()) -> DbView:
    """The executions that are live or that the exchange mentioned, orphan candidates and known fills."""
    profile_list = list(profile_ids)
    coids = [c for c in (canonical_uuid(c) for c in client_order_ids) if c is not None]
    cur = await conn.execute(_ORDERS, {"profiles": profile_list, "order_ids": list(order_ids), "coids": coids})
    orders = tuple(DbOrder(r["id"], r["profile_id"], str(r["client_order_id"]), r["exchange_order_id"], r["market"],
                           r["state"], frozenset(r["fill_ids"])) for r in await cur.fetchall())
    cur = await conn.execute(_PROPOSALS, {"profiles": profile_list, "days": PROPOSAL_LOOKBACK_DAYS})
    proposals = {str(client_order_id(user_id, r["id"])): (r["id"], r["profile_id"]) for r in await cur.fetchall()}
    cur = await conn.execute(_KNOWN_FILLS, {"ids": list(fill_ids)})
    known = frozenset(r["exchange_fill_id"] for r in await cur.fetchall())
    return DbView(orders, proposals, known)


async def holdings(conn: AppConnection) -> list[Holding]:
    """Every position of the user, per profile and market."""
    cur = await conn.execute(_HOLDINGS)
    return [Holding(r["profile_id"], r["market"], r["quantity"]) for r in await cur.fetchall()]


async def ledger_cash(conn: AppConnection) -> Decimal:
    """EUR the user's capital accounts hold as cash (free, or reserved for orders not yet filled)."""
    cur = await conn.execute(_LEDGER_CASH)
    row = await cur.fetchone()
    return Decimal(row["cash"]) if row else Decimal(0)
