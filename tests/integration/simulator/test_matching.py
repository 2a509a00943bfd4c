"""Resting limit orders: partial fill at a touch, full fill as the price moves through; time in force; holds."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from tests.integration.simulator import signed
from tests.support.simulator import RunningSimulator, SimKey

OPERATOR = 5


@pytest.fixture
def paused(simulator: RunningSimulator) -> Iterator[RunningSimulator]:
    """Pause the automatic clock so that only the test moves prices."""
    simulator.admin.set_speed(0)
    try:
        yield simulator
    finally:
        simulator.admin.set_speed(1)


def place(sim: RunningSimulator, key: SimKey, **body: Any) -> dict[str, Any]:
    return signed.place_order(sim.url, key, operator_id=OPERATOR, **body)


def get(sim: RunningSimulator, key: SimKey, order_id: str) -> dict[str, Any]:
    return signed.get_order(sim.url, key, order_id)


def test_limit_buy_rests_then_fills_partly_and_fully(paused: RunningSimulator) -> None:
    sim = paused
    key = sim.admin.create_account({"EUR": "10000"})
    sim.admin.set_price("BTC-EUR", "60000")
    order = place(sim, key, side="buy", orderType="limit", amount="0.03", price="50000")
    assert order["status"] == "new" and order["onHold"] == "1503.75"  # 0.03 × 50000 × 1.0025
    assert sim.admin.balances(key.account_id)["EUR"] == {"available": Decimal("8496.25"),
                                                          "inOrder": Decimal("1503.75")}
    sim.admin.advance(60_000)  # time passes at a price far away: nothing happens
    assert get(sim, key, order["orderId"])["status"] == "new"

    sim.admin.set_price("BTC-EUR", "50000")  # a touch fills one synthetic level (0.01 BTC) as maker
    partial = get(sim, key, order["orderId"])
    assert partial["status"] == "partiallyFilled"
    assert (partial["filledAmount"], partial["amountRemaining"], partial["feePaid"]) == ("0.01", "0.02", "0.75")
    assert partial["fills"][0]["taker"] is False and partial["fills"][0]["price"] == "50000"
    balances = sim.admin.balances(key.account_id)
    assert balances["EUR"] == {"available": Decimal("8496.25"), "inOrder": Decimal("1003")}
    assert balances["BTC"]["available"] == Decimal("0.01")

    sim.admin.set_price("BTC-EUR", "49000")  # through the limit: the rest fills at the limit price
    done = get(sim, key, order["orderId"])
    assert done["status"] == "filled"
    assert (done["filledAmount"], done["filledAmountQuote"], done["feePaid"]) == ("0.03", "1500", "2.25")
    balances = sim.admin.balances(key.account_id)
    assert balances["EUR"] == {"available": Decimal("10000") - Decimal("1500") - Decimal("2.25"),
                               "inOrder": Decimal(0)}
    assert balances["BTC"] == {"available": Decimal("0.03"), "inOrder": Decimal(0)}
    admin_view = next(o for o in sim.admin.orders() if o["orderId"] == order["orderId"])
    assert (admin_view["status"], admin_view["filledAmount"], admin_view["feePaid"]) == ("filled", "0.03", "2.25")


def test_resting_orders_fill_as_the_clock_moves_the_price(paused: RunningSimulator) -> None:
    sim = paused
    key = sim.admin.create_account({"EUR": "1000", "BTC": "0.01"})
    sim.admin.set_price("BTC-EUR", "60000")
    sell = place(sim, key, side="sell", orderType="limit", amount="0.01", price="60010")
    buy = place(sim, key, side="buy", orderType="limit", amount="0.01", price="59990")
    assert (sell["status"], buy["status"]) == ("new", "new")
    assert sim.admin.balances(key.account_id)["BTC"] == {"available": Decimal(0), "inOrder": Decimal("0.01")}
    for _ in range(300):  # the random walk leaves a ±10 EUR band within simulated hours
        statuses = {o["orderId"]: o["status"] for o in sim.admin.orders() if o["accountId"] == key.account_id}
        if statuses[sell["orderId"]] == statuses[buy["orderId"]] == "filled":
            break
        sim.admin.advance(600_000)
    done = [get(sim, key, sell["orderId"]), get(sim, key, buy["orderId"])]
    assert [o["status"] for o in done] == ["filled", "filled"]
    fees = sum(Decimal(o["feePaid"]) for o in done)
    assert fees == sum(Decimal(f["fee"]) for o in done for f in o["fills"])
    assert all(not f["taker"] for o in done for f in o["fills"])
    balances = sim.admin.balances(key.account_id)
    assert balances["EUR"] == {"available": Decimal(1000) + Decimal("0.01") * (60010 - 59990) - fees,
                               "inOrder": Decimal(0)}
    assert balances["BTC"] == {"available": Decimal("0.01"), "inOrder": Decimal(0)}


def test_time_in_force_and_post_only(paused: RunningSimulator) -> None:
    sim = paused
    key = sim.admin.create_account({"EUR": "10000"})
    sim.admin.set_price("BTC-EUR", "60000")
    post_only = place(sim, key, side="buy", orderType="limit", amount="0.001", price="61000", postOnly=True)
    assert post_only["status"] == "canceledPostOnly" and post_only["fills"] == []
    fok = place(sim, key, side="buy", orderType="limit", amount="0.05", price="60010", timeInForce="FOK")
    assert fok["status"] == "canceledFOK" and fok["fills"] == []
    ioc = place(sim, key, side="buy", orderType="limit", amount="0.05", price="60010", timeInForce="IOC")
    assert ioc["status"] == "canceledIOC" and ioc["filledAmount"] == "0.01"  # one level of the book below 60010
    taker = place(sim, key, side="buy", orderType="limit", amount="0.015", price="60050")
    assert taker["status"] == "filled" and all(f["taker"] for f in taker["fills"])
    spent = sum(Decimal(o["filledAmountQuote"]) + Decimal(o["feePaid"]) for o in (ioc, taker))
    assert sim.admin.balances(key.account_id)["EUR"] == {"available": Decimal(10000) - spent, "inOrder": Decimal(0)}


def test_a_market_buy_by_amount_quote_has_the_fee_inside(paused: RunningSimulator) -> None:
    """Bitvavo's fee page: buying EUR 1,000 at 0.25 % gives EUR 997.50 of bitcoin; EUR 1,000 is spent, no more."""
    sim = paused
    key = sim.admin.create_account({"EUR": "1000"})
    sim.admin.set_price("BTC-EUR", "60000")
    order = place(sim, key, side="buy", orderType="market", amountQuote="1000")
    assert order["status"] == "filled", order
    filled_quote, fee = Decimal(order["filledAmountQuote"]), Decimal(order["feePaid"])
    assert filled_quote + fee == Decimal("1000")  # spent: exactly amountQuote
    assert Decimal("997.49") < filled_quote <= Decimal("997.50")  # of bitcoin: amountQuote less the 0.25 % fee
    assert Decimal("2.50") <= fee < Decimal("2.51")
    fills = order["fills"]
    assert sum(Decimal(f["amount"]) * Decimal(f["price"]) for f in fills) == filled_quote
    assert sum(Decimal(f["fee"]) for f in fills) == fee
    base = sum(Decimal(f["amount"]) for f in fills)
    assert Decimal(order["filledAmount"]) == base
    balances = sim.admin.balances(key.account_id)
    assert balances["EUR"] == {"available": Decimal(0), "inOrder": Decimal(0)}
    assert balances["BTC"]["available"] == base
