"""The official python-bitvavo-api SDK against the simulator, over HTTP, with only RESTURL changed."""

from __future__ import annotations

import uuid
from decimal import ROUND_UP, Decimal

import pytest
from python_bitvavo_api.bitvavo import Bitvavo

from tests.integration.simulator import signed
from tests.support.simulator import RunningSimulator

OPERATOR = 4242


def taker_fee(amount: str, price: str) -> Decimal:
    return (Decimal(amount) * Decimal(price) * Decimal("0.0025")).quantize(Decimal("1E-8"), rounding=ROUND_UP)


def balances(sdk: Bitvavo) -> dict[str, tuple[Decimal, Decimal]]:
    return {b["symbol"]: (Decimal(b["available"]), Decimal(b["inOrder"])) for b in sdk.balance({})}


@pytest.fixture
def sdk(simulator: RunningSimulator) -> Bitvavo:
    key = simulator.admin.create_account({"EUR": "1000", "BTC": "0.01"})
    client = Bitvavo({"APIKEY": key.api_key, "APISECRET": key.api_secret, "RESTURL": simulator.url})
    client.sim_key = key  # type: ignore[attr-defined]
    return client


def test_public_market_data(sdk: Bitvavo) -> None:
    markets = {m["market"]: m for m in sdk.markets({})}
    assert {"BTC-EUR", "ETH-EUR", "SOL-EUR", "ADA-EUR"} <= set(markets)
    assert markets["BTC-EUR"]["minOrderInQuoteAsset"] == "5"
    assert markets["BTC-EUR"]["status"] == "trading"
    assets = {a["symbol"]: a for a in sdk.assets({})}
    assert assets["EUR"]["decimals"] == 2 and assets["EUR"]["networks"]
    price = Decimal(sdk.tickerPrice({"market": "BTC-EUR"})["price"])
    book = sdk.book("BTC-EUR", {"depth": 5})
    assert len(book["bids"]) == 5 and len(book["asks"]) == 5
    assert Decimal(book["bids"][0][0]) < price < Decimal(book["asks"][0][0])
    ticker = sdk.ticker24h({"market": "BTC-EUR"})
    assert Decimal(ticker["last"]) == price
    candles = sdk.candles("BTC-EUR", "1m", {}, limit=100)
    assert len(candles) == 100
    assert candles[0][0] > candles[-1][0]  # newest first
    for _ts, o, h, low, c, _v in candles:
        assert Decimal(low) <= min(Decimal(o), Decimal(c)) <= max(Decimal(o), Decimal(c)) <= Decimal(h)
    assert sdk.time()["time"] > 0


def test_market_orders_by_amount_and_quote_move_balances_exactly(sdk: Bitvavo) -> None:
    before = balances(sdk)
    buy = sdk.placeOrder("BTC-EUR", "buy", "market", {"amountQuote": "100", "operatorId": OPERATOR})
    assert buy["status"] == "filled", buy
    assert "amount" not in buy and buy["amountQuote"] == "100"
    cost = sum(Decimal(f["amount"]) * Decimal(f["price"]) for f in buy["fills"])
    fees = sum(Decimal(f["fee"]) for f in buy["fills"])
    assert Decimal(buy["filledAmountQuote"]) == cost <= Decimal("99.75")  # the 0.25 % fee is inside amountQuote
    assert Decimal(buy["feePaid"]) == fees == Decimal("100") - cost  # all of amountQuote is spent, no more
    after_buy = balances(sdk)
    assert after_buy["EUR"] == (before["EUR"][0] - Decimal("100"), Decimal(0))
    assert after_buy["BTC"][0] == before["BTC"][0] + Decimal(buy["filledAmount"])

    sell = sdk.placeOrder("BTC-EUR", "sell", "market", {"amount": "0.002", "operatorId": OPERATOR})
    assert sell["status"] == "filled" and sell["filledAmount"] == "0.002", sell
    proceeds = sum(Decimal(f["amount"]) * Decimal(f["price"]) for f in sell["fills"])
    sell_fees = sum(taker_fee(f["amount"], f["price"]) for f in sell["fills"])
    after_sell = balances(sdk)
    assert after_sell["EUR"][0] == after_buy["EUR"][0] + proceeds - sell_fees
    assert after_sell["BTC"][0] == after_buy["BTC"][0] - Decimal("0.002")


def test_limit_order_get_cancel_and_lists(sdk: Bitvavo, simulator: RunningSimulator) -> None:
    price = Decimal(sdk.tickerPrice({"market": "BTC-EUR"})["price"])
    limit = str((price * Decimal("0.5")).quantize(Decimal(1)))
    coid = str(uuid.uuid4())
    order = sdk.placeOrder("BTC-EUR", "buy", "limit", {
        "amount": "0.001", "price": limit, "operatorId": OPERATOR, "clientOrderId": coid,
    })
    assert order["status"] == "new" and order["clientOrderId"] == coid, order
    hold = (Decimal("0.001") * Decimal(limit) * Decimal("1.0025")).quantize(Decimal("0.01"), rounding=ROUND_UP)
    assert Decimal(order["onHold"]) == hold
    assert balances(sdk)["EUR"] == (Decimal(1000) - hold, hold)

    fetched = sdk.getOrder("BTC-EUR", order["orderId"])
    assert fetched["orderId"] == order["orderId"] and fetched["price"] == limit
    assert [o["orderId"] for o in sdk.ordersOpen({"market": "BTC-EUR"})] == [order["orderId"]]

    key = sdk.sim_key  # type: ignore[attr-defined]
    by_client_id = signed.call(simulator.url, key, "GET", "/order", {"market": "BTC-EUR", "clientOrderId": coid})
    assert by_client_id.status_code == 200 and by_client_id.json()["orderId"] == order["orderId"]

    cancelled = sdk.cancelOrder("BTC-EUR", order["orderId"], operatorId=OPERATOR)
    assert cancelled == {"orderId": order["orderId"], "clientOrderId": coid, "operatorId": OPERATOR}
    assert balances(sdk)["EUR"] == (Decimal(1000), Decimal(0))
    assert sdk.getOrder("BTC-EUR", order["orderId"])["status"] == "canceled"
    assert sdk.ordersOpen({"market": "BTC-EUR"}) == []

    market = sdk.placeOrder("BTC-EUR", "buy", "market", {"amount": "0.0002", "operatorId": OPERATOR})
    history = sdk.getOrders("BTC-EUR", {"limit": 10})
    assert [o["orderId"] for o in history] == [market["orderId"], order["orderId"]]
    trades = sdk.trades("BTC-EUR", {})
    assert [t["orderId"] for t in trades] == [market["orderId"]] * len(market["fills"])
    assert trades[0]["fee"] == market["fills"][0]["fee"] and trades[0]["taker"] is True
    fees = sdk.fees()
    assert (fees["taker"], fees["maker"]) == ("0.0025", "0.0015")
    assert sdk.account()["fees"]["taker"] == "0.0025"
