"""The scheduler role's pass: housekeeping that belongs to no scan job. It marks overdue proposals of every
active profile EXPIRED (a profile's own scans do it too, fenced) and refreshes ``market_metadata`` of every
exchange its users trade on when it is stale. It never loads a trade key: it gets a read-only client per user
through ``reader_for``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import LiteralString
from uuid import UUID

from autoinvest.accounts import proposals, vault
from autoinvest.config import Settings
from autoinvest.db.tx import AppConnection, system_tx, user_tx
from autoinvest.errors import AutoInvestError
from autoinvest.exchange.base import MarketData
from autoinvest.observability import metrics
from autoinvest.scheduler.metadata import MetadataRefresher

ReaderFor = Callable[[AppConnection, UUID], Awaitable[MarketData]]
Pass = Callable[[AppConnection], Awaitable[int]]

_ACTIVE: LiteralString = "SELECT profile_id, user_id FROM active_profile_ids()"


def housekeeping_pass(reader_for: ReaderFor, settings: Settings) -> Pass:
    """The scheduler role's pass: expire overdue proposals of active profiles; refresh stale market metadata of
    each exchange (base URL) that a user with an active profile trades on."""
    refresher = MetadataRefresher()

    async def one_pass(conn: AppConnection) -> int:
        async with system_tx(conn):
            cur = await conn.execute(_ACTIVE)
            profiles = await cur.fetchall()
        expired = 0
        for row in profiles:
            async with user_tx(conn, row["user_id"]):
                expired += len(await proposals.expire_overdue(conn, row["profile_id"]))
        metrics.PROPOSALS_EXPIRED.inc(expired)
        for user_id in dict.fromkeys(r["user_id"] for r in profiles):  # per exchange, its first user with a key
            async with user_tx(conn, user_id):
                exchange_url = await vault.exchange_url(conn, user_id, settings)
            if not refresher.stale(exchange_url):  # refreshed already (this pass or lately)
                continue
            try:
                reader = await reader_for(conn, user_id)
            except AutoInvestError:
                continue
            try:
                await refresher.refresh_if_stale(conn, reader, exchange_url)
            finally:
                await reader.close()
        return expired

    return one_pass
