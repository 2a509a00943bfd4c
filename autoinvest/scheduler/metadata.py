"""Refresh ``market_metadata`` (status, minimums, precision) from the exchange; the executor's pre-flight reads
the exchange minimum order from there, and profile and proposal creation the listing. Global table, one set of
rows per exchange URL (the schema's ``exchange_key``): each tenant sees its own exchange's markets. Written in a
system_tx, at most every ``max_age_s`` per exchange."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from decimal import Decimal
from typing import LiteralString

from autoinvest.db.tx import AppConnection, system_tx
from autoinvest.exchange.base import Market, MarketData

log = logging.getLogger(__name__)

_UPSERT: LiteralString = (
    "INSERT INTO market_metadata (exchange_url, market, base, quote, status, min_order_base, min_order_quote,"
    " max_order_base, tick_size, quantity_decimals, updated_at)"
    " VALUES (exchange_key(%(exchange_url)s), %(market)s, %(base)s, %(quote)s, %(status)s, %(min_order_base)s,"
    " %(min_order_quote)s, %(max_order_base)s, %(tick_size)s, %(quantity_decimals)s, now())"
    " ON CONFLICT (exchange_url, market) DO UPDATE SET base = EXCLUDED.base, quote = EXCLUDED.quote,"
    " status = EXCLUDED.status, min_order_base = EXCLUDED.min_order_base, min_order_quote = EXCLUDED.min_order_quote,"
    " max_order_base = EXCLUDED.max_order_base, tick_size = EXCLUDED.tick_size,"
    " quantity_decimals = EXCLUDED.quantity_decimals, updated_at = now()"
)
_LISTING: LiteralString = (
    "SELECT market, status FROM market_metadata WHERE exchange_url = exchange_key(%(exchange_url)s)"
    " AND updated_at > now() - make_interval(secs => %(max_age_s)s)"
)
DEFAULT_QUANTITY_DECIMALS = 8
#: How old the stored listing may be before a refresh (the refresher's period).
MAX_AGE_S = 600.0


def row_of(m: Market) -> dict[str, object] | None:
    """The table row of one market; None when the exchange gave no tick size (the column is required)."""
    if m.tick_size is None or m.tick_size <= 0:
        return None
    return {
        "market": m.market, "base": m.base, "quote": m.quote, "status": m.status,
        "min_order_base": m.min_order_in_base_asset or Decimal(0),
        "min_order_quote": m.min_order_in_quote_asset or Decimal(0),
        "max_order_base": m.max_order_in_base_asset if m.max_order_in_base_asset else None,
        "tick_size": m.tick_size,
        "quantity_decimals": m.quantity_decimals if m.quantity_decimals is not None else DEFAULT_QUANTITY_DECIMALS,
    }


async def refresh(conn: AppConnection, reader: MarketData, exchange_url: str) -> dict[str, str]:
    """Upsert every market the exchange at ``exchange_url`` (``reader``'s) lists; returns market -> status."""
    # Sorted: instances upserting at once lock the rows in the same order (no deadlock).
    rows = [r for r in map(row_of, sorted(await reader.markets(), key=lambda m: m.market)) if r is not None]
    async with system_tx(conn), conn.cursor() as cur:
        await cur.executemany(_UPSERT, [r | {"exchange_url": exchange_url} for r in rows])
    return {str(r["market"]): str(r["status"]) for r in rows}


async def stored_listing(conn: AppConnection, exchange_url: str, *, max_age_s: float = MAX_AGE_S,
                         ) -> dict[str, str]:
    """market -> status of the exchange's markets refreshed within ``max_age_s``; empty when none is that fresh."""
    async with system_tx(conn):
        cur = await conn.execute(_LISTING, {"exchange_url": exchange_url, "max_age_s": max_age_s})
        return {r["market"]: r["status"] for r in await cur.fetchall()}


async def listing(conn: AppConnection, exchange_url: str, reader: Callable[[], MarketData]) -> dict[str, str]:
    """What the exchange at ``exchange_url`` lists (market -> status), to refuse unknown markets at creation: the
    stored rows while fresh (the scheduler refreshes them), else the exchange's ``/markets`` through ``reader()``
    (stored on the way). An exchange that cannot answer raises: nothing is created on a guess."""
    found = await stored_listing(conn, exchange_url)
    if found:
        return found
    client = reader()
    try:
        return await refresh(conn, client, exchange_url)
    finally:
        await client.close()


class MetadataRefresher:
    """Refresh each exchange at most every ``max_age_s`` per process (the first job of a process always refreshes)."""

    def __init__(self, max_age_s: float = MAX_AGE_S) -> None:
        self._max_age_s = max_age_s
        self._last: dict[str, float] = {}
        self._lock = asyncio.Lock()

    def stale(self, exchange_url: str) -> bool:
        last = self._last.get(exchange_url)
        return last is None or time.monotonic() - last >= self._max_age_s

    async def refresh_if_stale(self, conn: AppConnection, reader: MarketData, exchange_url: str) -> None:
        async with self._lock:
            if not self.stale(exchange_url):
                return
            count = len(await refresh(conn, reader, exchange_url))
            self._last[exchange_url] = time.monotonic()
            log.info("market metadata refreshed", extra={"markets": count, "exchange_url": exchange_url})
