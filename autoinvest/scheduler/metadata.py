"""Refresh ``market_metadata`` (status, minimums, precision) from the exchange; the executor's pre-flight reads
the exchange minimum order from there. Global table: written in a system_tx, at most every ``max_age_s``."""

from __future__ import annotations

import asyncio
import logging
import time
from decimal import Decimal
from typing import LiteralString

from autoinvest.db.tx import AppConnection, system_tx
from autoinvest.exchange.base import Market, MarketData

log = logging.getLogger(__name__)

_UPSERT: LiteralString = (
    "INSERT INTO market_metadata (market, base, quote, status, min_order_base, min_order_quote, max_order_base,"
    " tick_size, quantity_decimals, updated_at)"
    " VALUES (%(market)s, %(base)s, %(quote)s, %(status)s, %(min_order_base)s, %(min_order_quote)s,"
    " %(max_order_base)s, %(tick_size)s, %(quantity_decimals)s, now())"
    " ON CONFLICT (market) DO UPDATE SET base = EXCLUDED.base, quote = EXCLUDED.quote, status = EXCLUDED.status,"
    " min_order_base = EXCLUDED.min_order_base, min_order_quote = EXCLUDED.min_order_quote,"
    " max_order_base = EXCLUDED.max_order_base, tick_size = EXCLUDED.tick_size,"
    " quantity_decimals = EXCLUDED.quantity_decimals, updated_at = now()"
)
DEFAULT_QUANTITY_DECIMALS = 8


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


async def refresh(conn: AppConnection, reader: MarketData) -> int:
    """Upsert every market the exchange lists; returns how many rows were written."""
    # Sorted: instances upserting at once lock the rows in the same order (no deadlock).
    rows = [r for r in map(row_of, sorted(await reader.markets(), key=lambda m: m.market)) if r is not None]
    async with system_tx(conn), conn.cursor() as cur:
        await cur.executemany(_UPSERT, rows)
    return len(rows)


class MetadataRefresher:
    """Refresh at most every ``max_age_s`` per process (the first job of a process always refreshes)."""

    def __init__(self, max_age_s: float = 600.0) -> None:
        self._max_age_s = max_age_s
        self._last: float | None = None
        self._lock = asyncio.Lock()

    async def refresh_if_stale(self, conn: AppConnection, reader: MarketData) -> None:
        async with self._lock:
            if self._last is not None and time.monotonic() - self._last < self._max_age_s:
                return
            count = await refresh(conn, reader)
            self._last = time.monotonic()
            log.info("market metadata refreshed", extra={"markets": count})
