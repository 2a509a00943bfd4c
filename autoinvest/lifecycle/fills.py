"""The arithmetic of applying one exchange fill: the position's move, realized P&L and the ledger entries.

Pure: no I/O, no clock, Decimal only. ``lifecycle.apply`` reads the inputs (the position, locked; what is still
reserved for the execution), calls :func:`book` and writes what it returns in the fill's transaction.

* A **buy** adds ``amount`` to the position at its cost: the quote (``amount × price``) plus an EUR fee, since
  Bitvavo takes the fee out of the order's ``amountQuote`` (a buy of EUR X spends exactly X). The cost moves
  from the execution's reservation into positions (one FILL entry covered by what is left of the reservation).
* A **sell** releases the sold share of the average cost basis and realizes ``proceeds − basis − fee`` (an EXIT
  entry, and a FEE entry for an EUR fee). A sell larger than the position is **refused** (``OverSell``):
  clamping it would realize the proceeds of coins the profile never held as phantom profit.
* A fee charged in another currency (the base asset) is not valued in EUR: it costs nothing here and the
  position keeps the filled amount.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from autoinvest.domain.states import Side
from autoinvest.errors import InvalidEntry, OverSell
from autoinvest.exchange.base import FillReport
from autoinvest.ledger import entries
from autoinvest.ledger.entries import Entry

QUOTE = "EUR"
ZERO = Decimal(0)


@dataclass(frozen=True)
class Position:
    """A profile's holding in one market."""

    quantity: Decimal = ZERO
    cost_basis_eur: Decimal = ZERO
    realized_pnl_eur: Decimal = ZERO


@dataclass(frozen=True)
class Booking:
    """What one fill writes: its trade values, the position's move and the ledger entries, in posting order."""

    quote_eur: Decimal  #: amount × price, the trade's EUR value (cost of a buy, proceeds of a sell)
    fee_eur: Decimal  #: the fee when charged in EUR, else zero
    realized_pnl_eur: Decimal
    d_quantity: Decimal
    d_cost_basis_eur: Decimal
    entries: tuple[Entry, ...]

    def position_after(self, held: Position) -> Position:
        """``held`` moved by this fill, never below zero (as ``lifecycle.apply.move_position`` moves the row)."""
        return Position(quantity=max(held.quantity + self.d_quantity, ZERO),
                        cost_basis_eur=max(held.cost_basis_eur + self.d_cost_basis_eur, ZERO),
                        realized_pnl_eur=held.realized_pnl_eur + self.realized_pnl_eur)


def book(side: Side, fill: FillReport, held: Position, *, execution_id: UUID,
         reservation_remaining: Decimal) -> Booking:
    """The effects of ``fill`` (of an order on ``side``) on a profile holding ``held``.

    ``reservation_remaining`` is what is still reserved for the execution (a buy's quote and fee take from it
    first; a sell ignores it)."""
    amount = _decimal(fill.amount, "amount")
    price = _decimal(fill.price, "price")
    fee = _decimal(fill.fee, "fee")
    for value, name in ((held.quantity, "held quantity"), (held.cost_basis_eur, "held cost basis"),
                        (reservation_remaining, "reservation_remaining")):
        _decimal(value, name)
    quote = amount * price
    fee_eur = fee if (fill.fee_currency or QUOTE) == QUOTE else ZERO
    if side is Side.BUY:
        cost = quote + fee_eur  # the fee is part of what the position cost (it came out of the amountQuote)
        fill_entry = entries.fill(execution_id, fill.fill_id, cost, from_reservation=min(cost, reservation_remaining))
        return Booking(quote_eur=quote, fee_eur=fee_eur, realized_pnl_eur=ZERO, d_quantity=amount,
                       d_cost_basis_eur=cost, entries=(fill_entry,))
    if amount > held.quantity:
        raise OverSell(f"sell fill {fill.fill_id} of {amount} exceeds the position of {held.quantity}")
    basis = basis_sold(held, amount)
    posted = [entries.exit(fill.fill_id, basis, quote)]
    if fee_eur:
        posted.append(entries.fee(fill.fill_id, fee_eur))
    return Booking(quote_eur=quote, fee_eur=fee_eur, realized_pnl_eur=quote - basis - fee_eur, d_quantity=-amount,
                   d_cost_basis_eur=-basis, entries=tuple(posted))


def basis_sold(held: Position, amount: Decimal) -> Decimal:
    """The cost basis that selling ``amount`` releases: its share of the average cost, at most all of it."""
    if held.quantity <= 0:
        return ZERO
    sold = min(amount, held.quantity)
    return held.cost_basis_eur * sold / held.quantity


def _decimal(value: object, name: str) -> Decimal:
    # A float would already have lost precision: refuse it rather than round it silently.
    if not isinstance(value, Decimal) or not value.is_finite():
        raise InvalidEntry(f"{name} must be a finite Decimal, got {value!r}")
    return value


__all__ = ["QUOTE", "Booking", "Position", "basis_sold", "book"]
