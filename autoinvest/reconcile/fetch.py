"""The exchange side of a reconciliation, read with the user's read-only key (never the trade key)."""

from __future__ import annotations

from collections.abc import Iterable

from autoinvest.errors import AutoInvestError, OrderNotFound
from autoinvest.exchange.base import Balance, FillReport, MarketData, OrderReport
from autoinvest.reconcile.diff import Lookup

#: Trades per market compared with the database (Bitvavo's maximum page is 1000).
TRADES_LIMIT = 500
#: Up to this many markets, open orders are read market by market: ``GET /ordersOpen`` weighs 5 with a market
#: and 100 without (ccxt's weights, which our budget spends), so one call per market is cheaper below 20.
OPEN_ORDERS_PER_MARKET_UP_TO = 19


async def balances(reader: MarketData) -> dict[str, Balance]:
    return await reader.balances()


async def open_orders(reader: MarketData, markets: Iterable[str]) -> tuple[list[OrderReport], dict[str, str]]:
    """The account's open orders in ``markets`` (those its profiles trade, hold or have live orders in: an order
    elsewhere is none of ours), and market → error for those the exchange refused. Above
    ``OPEN_ORDERS_PER_MARKET_UP_TO`` markets, one call for all markets (its failure fails the account)."""
    wanted = sorted(set(markets))
    if len(wanted) > OPEN_ORDERS_PER_MARKET_UP_TO:
        return await reader.open_orders(), {}
    result: list[OrderReport] = []
    failed: dict[str, str] = {}
    for market in wanted:
        try:
            result.extend(await reader.open_orders(market))
        except AutoInvestError as exc:
            failed[market] = f"open orders {market}: {exc}"
    return result, failed


async def trades(reader: MarketData, markets: Iterable[str]) -> tuple[list[FillReport], dict[str, str]]:
    """The trades of each market, and market → error for those the exchange refused (e.g. error 205 for a
    market it does not list): one bad market fails only the profiles that trade it, not the whole account."""
    # Sequential on purpose: each call spends the key's shared rate budget; a burst gains nothing.
    result: list[FillReport] = []
    failed: dict[str, str] = {}
    for market in sorted(set(markets)):
        try:
            result.extend(await reader.trades(market, limit=TRADES_LIMIT))
        except AutoInvestError as exc:
            failed[market] = f"trades {market}: {exc}"
    return result, failed


async def lookups(reader: MarketData, needed: Iterable[Lookup],
                  failed: dict[str, str]) -> dict[str, OrderReport | None]:
    """Each order by id; None when the exchange does not know it. A lookup the exchange refuses is left out
    and its market's error added to ``failed``."""
    found: dict[str, OrderReport | None] = {}
    for lookup in needed:
        try:
            found[lookup.order_id] = await reader.get_order(lookup.market, order_id=lookup.order_id)
        except OrderNotFound:
            found[lookup.order_id] = None
        except AutoInvestError as exc:
            failed.setdefault(lookup.market, f"order {lookup.order_id} on {lookup.market}: {exc}")
    return found

