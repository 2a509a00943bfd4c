"""ccxt's bitvavo class (async, and sync) against the simulator, with only urls['api'] changed."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from decimal import ROUND_UP, Decimal

import ccxt
import ccxt.async_support as ccxt_async
import pytest

from tests.support.simulator import RunningSimulator, SimKey

OPERATOR = 777


def _config(simulator: RunningSimulator, key: SimKey) -> dict[str, object]:
    return {
        "apiKey": key.api_key, "secret": key.api_secret, "urls": simulator.ccxt_urls(),
        "options": {"operatorId": OPERATOR}, "enableRateLimit": False,
    }


def taker_fee(amount: str, price: str) -> Decimal:
    return (Decimal(amount) * Decimal(price) * Decimal("0.0025")).quantize(Decimal("1E-8"), rounding=ROUND_UP)


@pytest.fixture
async def exchange(simulator: RunningSimulator) -> AsyncIterator[ccxt_async.bitvavo]:
    key = simulator.admin.create_account({"EUR": "2000", "ETH": "1"})
    client = ccxt_async.bitvavo(_config(simulator, key))
    client.sim_key = key
    yield client
    await client.close()


async def test_markets_currencies_and_market_data(exchange: ccxt_async.bitvavo) -> None:
    markets = await exchange.load_markets()
    btc = markets["BTC/EUR"]
    assert btc["active"] is True
    assert btc["limits"]["cost"]["min"] == 5
    assert btc["precision"]["price"] == 1 and btc["precision"]["amount"] == 1e-8
    assert markets["ADA/EUR"]["precision"]["price"] == 0.0001
    assert exchange.currencies["EUR"]["precision"] == 0.01
    ticker = await exchange.fetch_ticker("ETH/EUR")
    assert ticker["bid"] < ticker["last"] < ticker["ask"]
    book = await exchange.fetch_order_book("ETH/EUR", 10)
    assert len(book["asks"]) == 10 and book["asks"][0][0] == ticker["ask"]
    candles = await exchange.fetch_ohlcv("ETH/EUR", "5m", limit=50)
    assert len(candles) == 50 and candles[0][0] < candles[-1][0]  # ccxt sorts oldest first
    assert all(c[0] % 300_000 == 0 for c in candles)
    trades = await exchange.fetch_trades("ETH/EUR", limit=5)
    assert 1 <= len(trades) <= 5
    assert (await exchange.fetch_trading_fee("ETH/EUR"))["taker"] == 0.0025


async def test_market_orders_limit_orders_and_lookups(exchange: ccxt_async.bitvavo) -> None:
    balance = await exchange.fetch_balance()
    assert balance["EUR"]["free"] == 2000 and balance["ETH"]["free"] == 1

    buy = await exchange.create_order("ETH/EUR", "market", "buy", 0.05)
    info = buy["info"]
    assert info["status"] == "filled" and info["filledAmount"] == "0.05"
    cost = sum(Decimal(f["amount"]) * Decimal(f["price"]) for f in info["fills"])
    fees = sum(taker_fee(f["amount"], f["price"]) for f in info["fills"])
    assert Decimal(info["feePaid"]) == fees

    by_cost = await exchange.create_order("ETH/EUR", "market", "buy", None, None, {"cost": 20})
    assert by_cost["info"]["amountQuote"] == "20"
    cost2 = Decimal(by_cost["info"]["filledAmountQuote"])
    fees2 = Decimal(by_cost["info"]["feePaid"])

    raw = await exchange.private_get_balance()
    eur = next(b for b in raw if b["symbol"] == "EUR")
    eth = next(b for b in raw if b["symbol"] == "ETH")
    assert Decimal(eur["available"]) == Decimal(2000) - cost - fees - cost2 - fees2
    assert Decimal(eth["available"]) == Decimal(1) + Decimal("0.05") + Decimal(by_cost["info"]["filledAmount"])

    ticker = await exchange.fetch_ticker("ETH/EUR")
    far = round(ticker["last"] * 1.5, 2)
    coid = str(uuid.uuid4())
    limit = await exchange.create_order("ETH/EUR", "limit", "sell", 0.1, far, {"clientOrderId": coid})
    assert limit["status"] == "open" and limit["info"]["clientOrderId"] == coid
    fetched = await exchange.fetch_order(None, "ETH/EUR", {"clientOrderId": coid})
    assert fetched["id"] == limit["id"] and fetched["price"] == far
    assert [o["id"] for o in await exchange.fetch_open_orders("ETH/EUR")] == [limit["id"]]
    held = await exchange.fetch_balance()
    assert held["ETH"]["used"] == 0.1

    await exchange.cancel_order(None, "ETH/EUR", {"clientOrderId": coid})
    assert (await exchange.fetch_order(limit["id"], "ETH/EUR"))["status"] == "canceled"

    second = await exchange.create_order("ETH/EUR", "limit", "sell", 0.1, far)
    await exchange.cancel_order(second["id"], "ETH/EUR")
    assert (await exchange.fetch_order(second["id"], "ETH/EUR"))["status"] == "canceled"
    assert await exchange.fetch_open_orders("ETH/EUR") == []

    history = await exchange.fetch_orders("ETH/EUR")
    assert {o["id"] for o in history} == {buy["id"], by_cost["id"], limit["id"], second["id"]}
    my_trades = await exchange.fetch_my_trades("ETH/EUR")
    assert {t["order"] for t in my_trades} == {buy["id"], by_cost["id"]}
    assert all(t["fee"]["currency"] == "EUR" for t in my_trades)


async def test_ccxt_errors_are_mapped(exchange: ccxt_async.bitvavo) -> None:
    with pytest.raises(ccxt.InsufficientFunds):
        await exchange.create_order("ETH/EUR", "market", "buy", 100)
    with pytest.raises(ccxt.InvalidOrder):
        await exchange.create_order("ETH/EUR", "market", "buy", None, None, {"cost": 1})
    with pytest.raises(ccxt.OrderNotFound):
        await exchange.fetch_order(str(uuid.uuid4()), "ETH/EUR")


def test_sync_ccxt_balance_and_order(simulator: RunningSimulator) -> None:
    key = simulator.admin.create_account({"EUR": "100"})
    client = ccxt.bitvavo(_config(simulator, key))
    try:
        assert client.fetch_balance()["EUR"]["free"] == 100
        order = client.create_order("SOL/EUR", "market", "buy", 0.1)
        assert order["status"] == "closed" and order["filled"] == 0.1
        spent = Decimal(order["info"]["filledAmountQuote"]) + Decimal(order["info"]["feePaid"])
        raw = {b["symbol"]: b for b in client.private_get_balance()}
        assert Decimal(raw["EUR"]["available"]) == Decimal(100) - spent
        assert raw["SOL"]["available"] == "0.1"
    finally:
        client.session.close()
