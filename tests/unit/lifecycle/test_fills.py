"""The arithmetic of one fill (lifecycle.fills.book): position, cost basis, realized P&L and the entries it posts."""

from __future__ import annotations

import uuid
from dataclasses import fields
from decimal import ROUND_DOWN, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autoinvest.domain.states import Side
from autoinvest.errors import InvalidEntry, OverSell
from autoinvest.exchange.base import FillReport
from autoinvest.ledger import entries
from autoinvest.ledger.entries import Entry, Kind
from autoinvest.lifecycle.fills import Booking, Position, basis_sold, book

D = Decimal
EXEC = uuid.UUID("00000000-0000-0000-0000-0000000000e1")
NOTHING = Position()
#: The identities below hold to the context's precision (28 digits): the sold share of the cost basis is a division.
TOLERANCE = D("1e-12")


def report(side: Side, amount: str | Decimal, price: str | Decimal, fee: str | Decimal = "0",
           fee_currency: str | None = "EUR", fill_id: str = "f1") -> FillReport:
    return FillReport(fill_id=fill_id, order_id="o1", client_order_id=None, market="BTC-EUR", side=side,
                      amount=D(amount), price=D(price), fee=D(fee), fee_currency=fee_currency, taker=True,
                      timestamp=0)


def buy(held: Position, amount: str, price: str, fee: str = "0", *, reserved: str | None = None,
        fee_currency: str | None = "EUR", fill_id: str = "b1") -> Booking:
    fill = report(Side.BUY, amount, price, fee, fee_currency, fill_id)
    remaining = D(reserved) if reserved is not None else fill.amount * fill.price + fill.fee
    return book(Side.BUY, fill, held, execution_id=EXEC, reservation_remaining=remaining)


def sell(held: Position, amount: str | Decimal, price: str | Decimal, fee: str | Decimal = "0", *,
         fee_currency: str | None = "EUR", fill_id: str = "s1") -> Booking:
    return book(Side.SELL, report(Side.SELL, amount, price, fee, fee_currency, fill_id), held, execution_id=EXEC,
                reservation_remaining=D(0))


def deltas(e: Entry) -> tuple[Kind, Decimal, Decimal, Decimal, Decimal]:
    return e.kind, e.d_allocated, e.d_reserved_for_orders, e.d_reserved_for_positions, e.d_realized_pnl


def test_a_buy_then_a_partial_sell() -> None:
    bought = buy(NOTHING, "0.5", "20000", "25")  # EUR 10,025 by amountQuote: 10,000 of bitcoin and a 25 fee
    assert (bought.quote_eur, bought.fee_eur, bought.realized_pnl_eur) == (D(10000), D(25), D(0))
    assert [deltas(e) for e in bought.entries] == [
        (Kind.FILL, 0, D(-10025), D(10025), 0),  # the whole amount moves from the reservation into positions
    ]
    held = bought.position_after(NOTHING)
    assert held == Position(quantity=D("0.5"), cost_basis_eur=D(10025), realized_pnl_eur=D(0))  # fee in the cost

    sold = sell(held, "0.2", "25000", "12.5")
    # 0.2 of 0.5 sold: 40% of the cost basis is released; proceeds 5000 − basis 4010 − fee 12.5 are realized
    assert (sold.quote_eur, sold.fee_eur, sold.realized_pnl_eur) == (D(5000), D("12.5"), D("977.5"))
    assert [deltas(e) for e in sold.entries] == [(Kind.EXIT, 0, 0, D(-4010), D(990)), (Kind.FEE, 0, 0, 0, D("-12.5"))]
    assert sold.position_after(held) == Position(quantity=D("0.3"), cost_basis_eur=D(6015),
                                                 realized_pnl_eur=D("977.5"))


def test_a_buy_beyond_the_reservation_takes_the_rest_from_free_capital() -> None:
    exact = buy(NOTHING, "1", "99.75", "0.25", reserved="100")  # amountQuote 100, the fee inside
    assert [deltas(e) for e in exact.entries] == [(Kind.FILL, 0, D(-100), D(100), 0)]
    slipped = buy(NOTHING, "1", "100", "0.25", reserved="90")
    assert [deltas(e) for e in slipped.entries] == [(Kind.FILL, 0, D(-90), D("100.25"), 0)]


def test_a_buy_fee_in_eur_is_cost_a_sell_fee_an_expense_and_a_fee_in_the_base_asset_is_not_valued() -> None:
    in_eur = buy(NOTHING, "1", "100", "0.25")
    in_base = buy(NOTHING, "1", "100", "0.0025", fee_currency="BTC")
    assert (in_eur.fee_eur, in_eur.realized_pnl_eur, in_eur.d_cost_basis_eur) == (D("0.25"), 0, D("100.25"))
    assert (in_base.fee_eur, in_base.realized_pnl_eur, [e.kind for e in in_base.entries]) == (0, 0, [Kind.FILL])
    assert in_base.position_after(NOTHING).quantity == D(1)  # the position keeps the filled amount
    assert buy(NOTHING, "1", "100", "0.25", fee_currency=None).fee_eur == D("0.25")  # no currency: EUR

    held = Position(quantity=D(1), cost_basis_eur=D(100))
    assert sell(held, "1", "120", "0.3").realized_pnl_eur == D("19.7")
    base_fee = sell(held, "1", "120", "0.001", fee_currency="BTC")
    assert (base_fee.fee_eur, base_fee.realized_pnl_eur, [e.kind for e in base_fee.entries]) == (0, D(20), [Kind.EXIT])


def test_selling_the_whole_position_releases_all_of_its_cost() -> None:
    held = Position(quantity=D("0.3"), cost_basis_eur=D(6000), realized_pnl_eur=D("962.5"))
    sold = sell(held, "0.3", "30000", "9")
    assert (sold.quote_eur, sold.d_cost_basis_eur, sold.realized_pnl_eur) == (D(9000), D(-6000), D(2991))
    assert sold.position_after(held) == Position(quantity=D(0), cost_basis_eur=D(0), realized_pnl_eur=D("3953.5"))


def test_a_sell_larger_than_the_position_is_refused() -> None:
    # Clamping it would release the whole basis and realize the proceeds of 0.5 coins never held (phantom profit).
    held = Position(quantity=D(1), cost_basis_eur=D(100))
    with pytest.raises(OverSell, match="exceeds the position") as caught:
        sell(held, "1.5", "120", "1")
    assert caught.value.reason == "OVERSELL_REFUSED"
    with pytest.raises(OverSell):
        sell(NOTHING, "1", "120")
    assert sell(held, "1", "120").position_after(held) == Position(quantity=D(0), cost_basis_eur=D(0),
                                                                   realized_pnl_eur=D(20))
    assert basis_sold(held, D("0.5")) == D(50)


def test_decimal_only() -> None:
    results = [buy(NOTHING, "0.1", "3.33", "0.01"), sell(Position(D(3), D(10)), "1", "3.33", "0.01")]
    for booking in results:
        for f in fields(booking):
            if f.name != "entries":
                assert type(getattr(booking, f.name)) is Decimal, f.name
    assert results[1].d_cost_basis_eur == -(D(10) / 3)  # the division stays a Decimal at full precision
    float_fill = FillReport(fill_id="x", order_id=None, client_order_id=None, market="BTC-EUR", side=Side.BUY,
                            amount=0.1, price=D(100), fee=D(0), fee_currency="EUR", taker=True,  # type: ignore[arg-type]
                            timestamp=0)
    with pytest.raises(InvalidEntry, match="amount"):
        book(Side.BUY, float_fill, NOTHING, execution_id=EXEC, reservation_remaining=D(100))
    with pytest.raises(InvalidEntry, match="held quantity"):
        book(Side.SELL, report(Side.SELL, "1", "1"), Position(quantity=1.0), execution_id=EXEC,  # type: ignore[arg-type]
             reservation_remaining=D(0))


# ---------------------------------------------------------------- property

amounts = st.decimals(min_value=D("0.00000001"), max_value=D(10), places=8)
prices = st.decimals(min_value=D(1), max_value=D(100000), places=2)
fees = st.decimals(min_value=D(0), max_value=D(50), places=2)
steps = st.lists(st.tuples(st.sampled_from([Side.BUY, Side.SELL]), amounts, st.integers(1, 150), prices, fees,
                           st.sampled_from(["EUR", "BTC"])), min_size=1, max_size=30)


@settings(max_examples=300, deadline=None)
@given(steps, prices)
def test_realized_pnl_over_a_sequence_is_proceeds_minus_cost_minus_fees(
        history: list[tuple[Side, Decimal, int, Decimal, Decimal, str]], last_price: Decimal) -> None:
    held, posted = NOTHING, []
    proceeds = cost = paid = realized = D(0)
    for i, (side, amount, percent, price, fee, currency) in enumerate(history):
        if side is Side.SELL:  # a share of the position, never more than it (an over-sell is refused)
            amount = (held.quantity * min(percent, 100) / 100).quantize(D("0.00000001"), rounding=ROUND_DOWN)
            if amount <= 0:
                continue
        booking = book(side, report(side, amount, price, fee, currency, fill_id=str(i)), held,
                       execution_id=EXEC, reservation_remaining=amount * price + fee)
        proceeds += booking.quote_eur if side is Side.SELL else 0
        cost += booking.quote_eur if side is Side.BUY else 0
        paid += booking.fee_eur  # a buy's EUR fee is in the position's cost, a sell's is an expense: both count
        realized += booking.realized_pnl_eur
        posted.extend(booking.entries)
        held = booking.position_after(held)
        assert held.quantity >= 0 and held.cost_basis_eur >= 0
        # the ledger and the position agree at every step (docs/invariants.md)
        account = entries.rebuild(posted)
        assert abs(account.reserved_for_positions - held.cost_basis_eur) <= TOLERANCE
        assert abs(account.realized_pnl - held.realized_pnl_eur) <= TOLERANCE
    if held.quantity > 0:  # sell what is left: everything bought is now sold
        booking = sell(held, held.quantity, last_price)
        proceeds += booking.quote_eur
        realized += booking.realized_pnl_eur
        held = booking.position_after(held)
    assert held.quantity == 0 and held.cost_basis_eur <= TOLERANCE
    assert abs(realized - (proceeds - cost - paid)) <= TOLERANCE
    assert realized == held.realized_pnl_eur
