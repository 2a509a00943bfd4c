"""MarketData against the simulator over real HTTP: every value is a Decimal from the raw strings."""

from __future__ import annotations

from decimal import Decimal

from tests.integration.exchange.conftest import Clients


async def test_markets_carry_decimal_metadata(clients: Clients) -> None:
    markets = {m.market: m for m in await clients.reader.markets()}

    btc = markets["BTC-EUR"]
    assert (btc.base, btc.quote, btc.status, btc.trading) == ("BTC", "EUR", "trading", True)
    assert btc.tick_size == Decimal("1")
    assert btc.quantity_decimals == 8
    assert btc.min_order_in_base_asset == Decimal("0.000061")
    assert btc.min_order_in_quote_asset == Decimal("5")
    assert btc.max_order_in_base_asset is not None and btc.max_order_in_base_asset > 0
    assert markets["ADA-EUR"].tick_size == Decimal("0.0001")
    assert markets["ADA-EUR"].quantity_decimals == 6


async def test_tickers_have_price_and_a_spread(clients: Clients) -> None:
    tickers = await clients.reader.tickers(["BTC-EUR", "ETH-EUR"])

    assert set(tickers) == {"BTC-EUR", "ETH-EUR"}
    for ticker in tickers.values():
        assert isinstance(ticker.price, Decimal)
        assert ticker.bid is not None and ticker.ask is not None
        assert 0 < ticker.bid < ticker.ask
    assert len(await clients.reader.tickers()) >= 4  # every market


async def test_candles_are_oldest_first_and_consistent(clients: Clients) -> None:
    candles = await clients.reader.candles("BTC-EUR", "1m", limit=5)

    assert len(candles) == 5
    assert [c.timestamp for c in candles] == sorted(c.timestamp for c in candles)
    assert all(c.timestamp % 60_000 == 0 for c in candles)
    for c in candles:
        assert isinstance(c.close, Decimal)
        assert c.low <= min(c.open, c.close) <= max(c.open, c.close) <= c.high
        assert c.volume >= 0


async def test_order_book_is_sorted_and_uncrossed(clients: Clients) -> None:
    book = await clients.reader.order_book("BTC-EUR", depth=3)

    assert book.market == "BTC-EUR"
    assert 0 < len(book.bids) <= 3 and 0 < len(book.asks) <= 3
    assert [b.price for b in book.bids] == sorted((b.price for b in book.bids), reverse=True)
    assert [a.price for a in book.asks] == sorted(a.price for a in book.asks)
    assert book.bids[0].price < book.asks[0].price
    assert all(level.amount > 0 for level in book.bids + book.asks)


async def test_balances_and_fees(clients: Clients) -> None:
    balances = await clients.reader.balances()

    assert balances["EUR"].available == Decimal("1000")
    assert balances["EUR"].in_order == Decimal("0")
    assert balances["BTC"].available == Decimal("0.01")

    fees = await clients.reader.fees("BTC-EUR")
    assert (fees.taker, fees.maker) == (Decimal("0.0025"), Decimal("0.0015"))
