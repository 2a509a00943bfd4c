"""Public market data shared by the profiles a process scans: one fetch per market per window (single flight).

Keys carry the exchange's base URL (tenants on different exchanges never share an entry) and the window (the
scan window's start and the interval), so an entry is never reused in a later window; the cache keeps the most
recent entries only.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar, cast

from autoinvest.exchange.base import Candle, MarketData, Ticker
from autoinvest.observability import metrics

T = TypeVar("T")
Key = tuple[str, str, str, str, int, datetime]


class MarketCache:
    """A small per-process cache of tickers and candles keyed by (kind, exchange URL, market, candle interval,
    window)."""

    def __init__(self, max_entries: int = 256) -> None:
        self._entries: OrderedDict[Key, asyncio.Future[Any]] = OrderedDict()
        self._max = max_entries

    async def _get(self, key: Key, fetch: Callable[[], Awaitable[T]]) -> T:
        entry = self._entries.get(key)
        if entry is not None:
            metrics.MARKET_DATA_REQUESTS.labels(key[0], "hit").inc()
            return cast(T, await asyncio.shield(entry))
        metrics.MARKET_DATA_REQUESTS.labels(key[0], "miss").inc()
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._entries[key] = future
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
        try:
            value = await fetch()
        except BaseException as exc:
            self._entries.pop(key, None)  # a failure is not cached: the next job tries again
            if not future.done():
                future.set_exception(exc if isinstance(exc, Exception) else RuntimeError("fetch cancelled"))
                future.exception()  # retrieved: no "exception never retrieved" warning when nobody waits
            raise
        future.set_result(value)
        return value

    async def tickers(self, reader: MarketData, exchange_url: str, interval_s: int,
                      window: datetime) -> dict[str, Ticker]:
        """Every market's ticker at ``reader``'s exchange, ``exchange_url`` (two requests for all markets)."""
        return await self._get(("tickers", exchange_url, "*", "", interval_s, window), lambda: reader.tickers())

    async def candles(self, reader: MarketData, exchange_url: str, market: str, candle_interval: str, limit: int,
                      interval_s: int, window: datetime) -> list[Candle]:
        """The last ``limit`` candles of one market at ``reader``'s exchange, ``exchange_url``, oldest first."""
        return await self._get(("candles", exchange_url, market, candle_interval, interval_s, window),
                               lambda: reader.candles(market, candle_interval, limit=limit))

    def __len__(self) -> int:
        return len(self._entries)
