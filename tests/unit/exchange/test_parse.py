"""Raw exchange JSON becomes Decimal-valued reports; floats and gaps are refused."""

from __future__ import annotations

from decimal import Decimal

import pytest

from autoinvest.domain.states import Side
from autoinvest.errors import ExchangeError
from autoinvest.exchange import _parse

FILLED_SELL = {  # GET /orders item from the reference (live capture, Nov 2023), created as a string
    "orderId": "cc365406-280a-45a6-8b07-c690657bea09",
    "market": "BTC-EUR",
    "created": "1700130493027",
    "updated": 1700130493027,
    "status": "filled",
    "side": "sell",
    "orderType": "market",
    "clientOrderId": "3269836f-0de4-4176-a23f-8f5f73453ec3",
    "amount": "0.0002",
    "amountRemaining": "0",
    "filledAmount": "0.0002",
    "filledAmountQuote": "6.8928",
    "feePaid": "0.0228",
    "feeCurrency": "EUR",
    "fills": [
        {
            "id": "7cfcac66-6f14-4c60-a43b-561160f82e11",
            "timestamp": 1700130493037,
            "amount": "0.0002",
            "price": "34464",
            "taker": True,
            "fee": "0.0228",
            "feeCurrency": "EUR",
            "settled": True,
        }
    ],
}


def test_order_money_is_decimal_and_fills_carry_the_order_ids() -> None:
    report = _parse.order(FILLED_SELL)
    assert report.side is Side.SELL
    assert report.created == 1700130493027
    assert report.amount == Decimal("0.0002")
    assert report.amount_quote is None
    assert report.filled_amount_quote == Decimal("6.8928")
    assert report.fee_paid == Decimal("0.0228")
    assert not report.is_open
    (fill,) = report.fills
    assert fill.order_id == FILLED_SELL["orderId"]
    assert fill.client_order_id == FILLED_SELL["clientOrderId"]
    assert fill.price == Decimal("34464")
    assert fill.taker is True
    assert report.raw is FILLED_SELL


def test_floats_are_refused() -> None:
    with pytest.raises(ExchangeError, match="feePaid"):
        _parse.order({**FILLED_SELL, "feePaid": 0.0228})


def test_a_missing_field_is_named() -> None:
    raw = dict(FILLED_SELL)
    del raw["orderId"]
    with pytest.raises(ExchangeError, match="orderId") as caught:
        _parse.order(raw)
    assert caught.value.reason == "EXCHANGE_MALFORMED_RESPONSE"


def test_market_metadata() -> None:
    market = _parse.market(
        {
            "market": "BTC-EUR",
            "status": "trading",
            "base": "BTC",
            "quote": "EUR",
            "tickSize": "1.00",
            "minOrderInBaseAsset": "0.00006100",
            "minOrderInQuoteAsset": "5.00",
            "maxOrderInBaseAsset": "1000000000.00000000",
            "quantityDecimals": "8",
            "notionalDecimals": "2",
        }
    )
    assert market.tick_size == Decimal("1.00")
    assert market.quantity_decimals == 8
    assert market.min_order_in_quote_asset == Decimal("5.00")
    assert market.max_order_in_quote_asset is None
    assert market.trading


def test_tickers_join_price_and_book() -> None:
    tickers = _parse.tickers(
        [{"market": "BTC-EUR", "price": "34243"}],
        [
            {"market": "BTC-EUR", "bid": "34240", "bidSize": "0.1", "ask": "34250", "askSize": "0.2"},
            {"market": "ETH-EUR", "bid": None, "ask": None},
        ],
    )
    assert tickers["BTC-EUR"].price == Decimal("34243")
    assert tickers["BTC-EUR"].ask == Decimal("34250")
    assert tickers["ETH-EUR"].price is None and tickers["ETH-EUR"].bid is None


def test_candle_row() -> None:
    candle = _parse.candle([1700000000000, "1", "3", "0.5", "2", "10.5"])
    assert (candle.open, candle.high, candle.low, candle.close) == tuple(map(Decimal, ("1", "3", "0.5", "2")))


def _with_fill(**changes: object) -> dict[str, object]:
    fills = FILLED_SELL["fills"]
    assert isinstance(fills, list)
    return {**FILLED_SELL, "fills": [{**fills[0], **changes}]}


@pytest.mark.parametrize(("field", "value"), [
    ("amount", "1E+999999"), ("amount", "-1"), ("amount", "0"), ("price", "0"), ("price", "-34464"),
    ("amount", "1E+15"), ("fee", "-0.01"), ("amount", "0.0000000000000000001"), ("timestamp", 10**20),
])
def test_a_poison_number_in_a_fill_is_refused_with_its_code(field: str, value: object) -> None:
    with pytest.raises(ExchangeError, match=field) as caught:
        _parse.order(_with_fill(**{field: value}))
    assert caught.value.reason == "EXCHANGE_NUMBER_INVALID"


@pytest.mark.parametrize(("field", "value"), [
    ("filledAmount", "-0.0002"), ("feePaid", "-1"), ("amount", "0"), ("filledAmountQuote", "9E+20"),
    ("created", -1),
])
def test_a_poison_number_in_an_order_is_refused_with_its_code(field: str, value: object) -> None:
    with pytest.raises(ExchangeError, match=field) as caught:
        _parse.order({**FILLED_SELL, field: value})
    assert caught.value.reason == "EXCHANGE_NUMBER_INVALID"


def test_sane_edge_numbers_pass() -> None:
    report = _parse.order(_with_fill(amount="999999999999999.999999999999999999", fee="0.100000000000000000000"))
    assert report.fills[0].amount == Decimal("999999999999999.999999999999999999")
    assert report.fills[0].fee == Decimal("0.1")
    assert _parse.balance({"symbol": "EUR", "available": "0", "inOrder": "0"}).available == 0


def test_balances_and_fee_rates_are_checked() -> None:
    with pytest.raises(ExchangeError) as caught:
        _parse.balance({"symbol": "EUR", "available": "-5", "inOrder": "0"})
    assert caught.value.reason == "EXCHANGE_NUMBER_INVALID"
    with pytest.raises(ExchangeError, match="taker") as caught:
        _parse.fees({"taker": "1.5", "maker": "0.0015"})
    assert caught.value.reason == "EXCHANGE_NUMBER_INVALID"


@pytest.mark.parametrize("status", ["pendingSettlement", "", "FILLED"])
def test_an_order_status_we_do_not_know_is_open(status: str) -> None:
    # Closing on it would release the reservation of an order that may still fill.
    assert _parse.order({**FILLED_SELL, "status": status}).is_open


@pytest.mark.parametrize("status", ["filled", "canceled", "canceledMarketProtection", "expired", "rejected"])
def test_closed_statuses_are_closed(status: str) -> None:
    assert not _parse.order({**FILLED_SELL, "status": status}).is_open
