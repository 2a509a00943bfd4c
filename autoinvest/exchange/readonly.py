"""The read-only client: ``MarketData`` over ccxt's async bitvavo, for a View-only key.

It cannot place or cancel: it has no such methods, it never imports the trade
side, and it refuses to be built from a trade key.
"""

from __future__ import annotations

from autoinvest.domain.states import CredentialPurpose
from autoinvest.exchange import _endpoints as ep
from autoinvest.exchange import _parse
from autoinvest.exchange._session import DEFAULT_ACCESS_WINDOW_MS, DEFAULT_TIMEOUT_MS, Session
from autoinvest.exchange.base import (
    Balance,
    Candle,
    Fees,
    FillReport,
    Market,
    MarketData,
    OrderBook,
    OrderReport,
    QuarantineSink,
    Ticker,
)
from autoinvest.exchange.budget import DEFAULT_BUDGETS, BudgetRegistry
from autoinvest.exchange.credentials import Credential
from autoinvest.exchange.pool import SessionPool, borrow


class ReadOnlyClient:
    """``MarketData`` for one View-only key; build it with :func:`market_data`."""

    def __init__(self, session: Session, *, quarantine: QuarantineSink | None, private: SessionPool | None) -> None:
        self._session = session
        self._quarantine = quarantine
        self._private = private

    async def markets(self) -> list[Market]:
        return [_parse.market(m) for m in _parse.as_list(await self._session.call(ep.MARKETS, {}))]

    async def tickers(self, markets: list[str] | None = None) -> dict[str, Ticker]:
        # Two weight-1 calls for every market beat 2×N calls for a few.
        prices = await self._session.call(ep.TICKER_PRICE, {})
        books = await self._session.call(ep.TICKER_BOOK, {})
        result = _parse.tickers(prices, books)
        if markets is None:
            return result
        return {name: result[name] for name in markets if name in result}

    async def candles(
        self,
        market: str,
        interval: str,
        *,
        limit: int | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> list[Candle]:
        params = {"market": market, "interval": interval, "limit": limit, "start": start_ms, "end": end_ms}
        rows = _parse.as_list(await self._session.call(ep.CANDLES, params))
        return sorted((_parse.candle(row) for row in rows), key=lambda candle: candle.timestamp)

    async def order_book(self, market: str, *, depth: int | None = None) -> OrderBook:
        return _parse.order_book(await self._session.call(ep.BOOK, {"market": market, "depth": depth}))

    async def balances(self) -> dict[str, Balance]:
        # Refused whole, never item by item: a balance left out would read as zero (a drift that is not there).
        raw = await self._session.call(ep.BALANCE, {})
        return await self._session.one(ep.BALANCE, raw, _balances, self._quarantine)

    async def fees(self, market: str | None = None) -> Fees:
        raw = await self._session.call(ep.FEES, {"market": market})
        return await self._session.one(ep.FEES, raw, _parse.fees, self._quarantine)

    async def get_order(
        self, market: str, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> OrderReport:
        return await self._session.get_order(market, order_id=order_id, client_order_id=client_order_id,
                                             quarantine=self._quarantine)

    async def open_orders(self, market: str | None = None) -> list[OrderReport]:
        return await self._session.many(ep.OPEN_ORDERS, await self._session.call(ep.OPEN_ORDERS, {"market": market}),
                                        _parse.order, self._quarantine)

    async def order_history(
        self, market: str, *, limit: int | None = None, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[OrderReport]:
        params = {"market": market, "limit": limit, "start": start_ms, "end": end_ms}
        return await self._session.many(ep.ORDERS, await self._session.call(ep.ORDERS, params), _parse.order,
                                        self._quarantine)

    async def trades(
        self, market: str, *, limit: int | None = None, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[FillReport]:
        params = {"market": market, "limit": limit, "start": start_ms, "end": end_ms}
        return await self._session.many(ep.TRADES, await self._session.call(ep.TRADES, params), _parse.fill,
                                        self._quarantine)

    async def close(self) -> None:
        """Release the client: a session of a shared pool stays cached; a private one is closed."""
        if self._private is not None:
            await self._private.close()


def _balances(raw: object) -> dict[str, Balance]:
    return {b.symbol: b for b in map(_parse.balance, _parse.as_list(raw))}


def market_data(
    credential: Credential,
    *,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
    budgets: BudgetRegistry = DEFAULT_BUDGETS,
    quarantine: QuarantineSink | None = None,
    pool: SessionPool | None = None,
    owner: str = "",
) -> MarketData:
    """Build the read-only client; a trade credential raises KeySeparationError.

    ``quarantine`` receives every item the client refuses (see ``Session.one``/``Session.many``). With ``pool``
    the client borrows ``owner``'s cached session (see ``exchange.pool``)."""
    credential.require(CredentialPurpose.READONLY)
    session, private = borrow(credential, pool, owner=owner, timeout_ms=timeout_ms,
                              access_window_ms=DEFAULT_ACCESS_WINDOW_MS, budgets=budgets)
    return ReadOnlyClient(session, quarantine=quarantine, private=private)
