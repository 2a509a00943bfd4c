"""The exchange side of a reconciliation, read with the user's read-only key (never the trade key)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from autoinvest.errors import OrderNotFound
from autoinvest.exchange.base import Balance, FillReport, MarketData, OrderReport
from autoinvest.reconcile.diff import Lookup

#: Trades per market compared with the database (Bitvavo's maximum page is 1000).
TRADES_LIMIT = 500


async def balances(reader: MarketData) -> dict[str, Balance]:
    return await reader.balances()


async def open_orders(reader: MarketData) -> list[OrderReport]:
    return await reader.open_orders()


async def trades(reader: MarketData, markets: Iterable[str]) -> list[FillReport]:
    # Sequential on purpose: each call spends the key's shared rate budget; a burst gains nothing.
    result: list[FillReport] = []
    for market in sorted(set(markets)):
        result.extend(await reader.trades(market, limit=TRADES_LIMIT))
    return result


async def lookups(reader: MarketData, needed: Iterable[Lookup]) -> dict[str, OrderReport | None]:
    """Each order by id; None when the exchange does not know it."""
    found: dict[str, OrderReport | None] = {}
    for lookup in needed:
        try:
            found[lookup.order_id] = await reader.get_order(lookup.market, order_id=lookup.order_id)
        except OrderNotFound:
            found[lookup.order_id] = None
    return found


async def prices(reader: MarketData, markets: Iterable[str]) -> dict[str, Decimal]:
    """Last prices of the markets (to value coins that appeared on the account)."""
    wanted = sorted(set(markets))
    if not wanted:
        return {}
    tickers = await reader.tickers(wanted)
    return {m: t.price for m, t in tickers.items() if t.price is not None}

