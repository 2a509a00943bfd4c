"""Trading against the simulator over real HTTP: place, look up, cancel, history, fills."""

from __future__ import annotations

import asyncio
import time
import uuid
from decimal import Decimal

import pytest

from autoinvest.domain.money import quantize_down
from autoinvest.domain.states import Side
from autoinvest.errors import AuthenticationFailed, OrderNotFound
from autoinvest.exchange.base import OrderReport, OrderRequest, Signing
from tests.integration.exchange.conftest import Clients

OPERATOR = 4242
FEE = Decimal("0.0025")


def cid() -> str:
    return str(uuid.uuid4())


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def assert_fills_add_up(order: OrderReport) -> None:
    assert order.fills, "a filled market order has fills"
    assert sum(f.amount for f in order.fills) == order.filled_amount
    assert sum(f.amount * f.price for f in order.fills) == pytest.approx(order.filled_amount_quote, abs=Decimal("0.01"))
    assert sum(f.fee for f in order.fills) == order.fee_paid
    assert all(f.order_id == order.order_id and f.client_order_id == order.client_order_id for f in order.fills)


async def test_market_buy_by_amount_quote(clients: Clients) -> None:
    client_order_id = cid()
    order = await clients.trader.place_order(
        OrderRequest.market_order(
            market="BTC-EUR",
            side=Side.BUY,
            client_order_id=client_order_id,
            operator_id=OPERATOR,
            amount_quote=Decimal("10"),
        )
    )

    assert (order.client_order_id, order.market, order.side, order.order_type) == (
        client_order_id,
        "BTC-EUR",
        Side.BUY,
        "market",
    )
    assert order.status == "filled" and not order.is_open
    assert order.amount_quote == Decimal("10") and order.amount is None
    # Bitvavo takes the fee out of amountQuote: EUR 10 buys EUR 9.975 of bitcoin (less the dust below one unit)
    assert Decimal("9.97") < order.filled_amount_quote <= Decimal("10") * (1 - FEE)
    assert order.fee_currency == "EUR"
    assert order.filled_amount_quote + order.fee_paid == Decimal("10")
    assert order.fee_paid >= Decimal("10") * FEE
    assert_fills_add_up(order)

    balances = await clients.reader.balances()
    assert balances["EUR"].available == Decimal("1000") - Decimal("10")
    assert balances["BTC"].available == Decimal("0.01") + order.filled_amount


async def test_market_sell_by_amount(clients: Clients) -> None:
    order = await clients.trader.place_order(
        OrderRequest.market_order(
            market="BTC-EUR", side=Side.SELL, client_order_id=cid(), operator_id=OPERATOR, amount=Decimal("0.001")
        )
    )

    assert order.status == "filled"
    assert order.amount == Decimal("0.001")
    assert order.filled_amount == Decimal("0.001")
    assert_fills_add_up(order)
    balances = await clients.reader.balances()
    assert balances["BTC"].available == Decimal("0.009")
    assert balances["EUR"].available == Decimal("1000") + order.filled_amount_quote - order.fee_paid


async def resting_buy(clients: Clients, client_order_id: str) -> OrderReport:
    """A limit buy far below the market, so it rests in the book."""
    price = (await clients.reader.tickers(["BTC-EUR"]))["BTC-EUR"].price
    assert price is not None
    limit = quantize_down(price / 2, Decimal("1"))
    return await clients.trader.place_order(
        OrderRequest.limit_order(
            market="BTC-EUR",
            side=Side.BUY,
            client_order_id=client_order_id,
            operator_id=OPERATOR,
            amount=Decimal("0.001"),
            price=limit,
        )
    )


async def test_limit_order_lookup_open_orders_and_cancel_by_order_id(clients: Clients) -> None:
    client_order_id = cid()
    placed = await resting_buy(clients, client_order_id)
    assert placed.status == "new" and placed.is_open
    assert placed.order_type == "limit"
    assert placed.amount == Decimal("0.001")
    assert placed.price is not None and placed.filled_amount == 0

    by_id = await clients.reader.get_order("BTC-EUR", order_id=placed.order_id)
    by_client_id = await clients.reader.get_order("BTC-EUR", client_order_id=client_order_id)
    assert by_id == by_client_id
    assert (by_id.order_id, by_id.client_order_id, by_id.price) == (placed.order_id, client_order_id, placed.price)

    assert placed.order_id in {o.order_id for o in await clients.reader.open_orders("BTC-EUR")}
    assert placed.order_id in {o.order_id for o in await clients.reader.open_orders()}
    hold = (await clients.reader.balances())["EUR"].in_order
    assert hold >= Decimal("0.001") * placed.price  # the order's value (plus fee) is on hold

    canceled = await clients.trader.cancel_order("BTC-EUR", order_id=placed.order_id, operator_id=OPERATOR)
    assert canceled.order_id == placed.order_id

    after = await clients.trader.get_order("BTC-EUR", order_id=placed.order_id)
    assert after.status == "canceled" and not after.is_open
    assert await clients.reader.open_orders("BTC-EUR") == []
    balances = await clients.reader.balances()
    assert balances["EUR"].in_order == 0
    assert balances["EUR"].available == Decimal("1000")


async def test_cancel_by_client_order_id(clients: Clients) -> None:
    client_order_id = cid()
    placed = await resting_buy(clients, client_order_id)

    canceled = await clients.trader.cancel_order("BTC-EUR", client_order_id=client_order_id, operator_id=OPERATOR)

    assert canceled.order_id == placed.order_id
    assert (await clients.reader.get_order("BTC-EUR", client_order_id=client_order_id)).status == "canceled"
    with pytest.raises(OrderNotFound):  # no longer active
        await clients.trader.cancel_order("BTC-EUR", client_order_id=client_order_id, operator_id=OPERATOR)


async def test_history_and_trades(clients: Clients) -> None:
    buy = await clients.trader.place_order(
        OrderRequest.market_order(
            market="BTC-EUR", side=Side.BUY, client_order_id=cid(), operator_id=OPERATOR, amount_quote=Decimal("20")
        )
    )
    resting = await resting_buy(clients, cid())

    history = await clients.reader.order_history("BTC-EUR")
    assert [o.order_id for o in history] == [resting.order_id, buy.order_id]  # newest first
    assert history[1].filled_amount == buy.filled_amount

    fills = await clients.reader.trades("BTC-EUR")
    assert {f.fill_id for f in fills} == {f.fill_id for f in buy.fills}
    for fill in fills:
        assert (fill.order_id, fill.client_order_id, fill.side, fill.market) == (
            buy.order_id,
            buy.client_order_id,
            Side.BUY,
            "BTC-EUR",
        )
        assert fill.fee_currency == "EUR" and fill.taker is True
        assert isinstance(fill.price, Decimal)
    await clients.trader.cancel_order("BTC-EUR", order_id=resting.order_id, operator_id=OPERATOR)


async def test_an_order_signed_with_submit_ts_is_refused_after_its_window(clients: Clients) -> None:
    late, fresh = cid(), cid()

    def market_buy(client_order_id: str) -> OrderRequest:
        return OrderRequest.market_order(
            market="BTC-EUR",
            side=Side.BUY,
            client_order_id=client_order_id,
            operator_id=OPERATOR,
            amount_quote=Decimal("6"),
        )

    # Two concurrent orders on one client, each signed with its own timestamp: only the fresh one goes through.
    results = await asyncio.gather(
        clients.trader.place_order(market_buy(late), signing=Signing(timestamp_ms=now_ms() - 70_000, window_ms=60_000)),
        clients.trader.place_order(market_buy(fresh), signing=Signing(timestamp_ms=now_ms(), window_ms=2_000)),
        return_exceptions=True,
    )

    assert isinstance(results[0], AuthenticationFailed)
    assert "304" in str(results[0])
    assert isinstance(results[1], OrderReport) and results[1].status == "filled"
    with pytest.raises(OrderNotFound):  # the refused order was never placed
        await clients.reader.get_order("BTC-EUR", client_order_id=late)
