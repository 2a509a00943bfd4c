"""A reference model of one profile's ledger as a Hypothesis state machine, shared by unit and DB tests.

Each rule builds an entry the way the lifecycle would (fills and fees take from the execution's
remaining reservation first) and hands it to ``step``. The pure model decides whether it is accepted;
subclasses also post it somewhere real and assert the same outcome.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from autoinvest.errors import InvariantViolation
from autoinvest.ledger import entries as L
from autoinvest.ledger.entries import Account, Entry

CENT = Decimal("0.01")
amounts = st.decimals(min_value=CENT, max_value=Decimal(1000), places=2)
percents = st.integers(min_value=1, max_value=100)


def share(total: Decimal, percent: int) -> Decimal:
    return (total * percent / 100).quantize(CENT)


class LedgerModel(RuleBasedStateMachine):
    """A profile's ledger driven through the pure API, with a per-execution model of the reservations."""

    def __init__(self) -> None:
        super().__init__()
        self.account = Account()
        self.accepted: list[Entry] = []
        self.open: dict[uuid.UUID, Decimal] = {}  # execution -> what is still reserved for it
        self.profile_id = uuid.UUID(int=1)
        self.n = 0

    def new_id(self) -> uuid.UUID:
        """A fresh execution or fill id (subclasses make them unique across runs)."""
        self.n += 1
        return uuid.UUID(int=1000 + self.n)

    def step(self, entry: Entry) -> bool:
        """Apply; on refusal the sum would indeed break the invariant and nothing moved."""
        before = self.account
        try:
            self.account = L.apply(self.account, entry)
        except InvariantViolation:
            assert self.account is before
            with pytest.raises(InvariantViolation):
                L.rebuild([*self.accepted, entry]).check()
            return False
        self.accepted.append(entry)
        return True

    @rule(amount=amounts)
    def allocate(self, amount: Decimal) -> None:
        self.step(L.allocate(self.profile_id, str(self.new_id()), amount))

    @rule(amount=amounts)
    def deallocate(self, amount: Decimal) -> None:
        before = self.account
        accepted = self.step(L.deallocate(self.profile_id, str(self.new_id()), amount))
        assert accepted == (amount <= before.allocated and amount <= before.free)

    @rule(amount=amounts)
    def reserve(self, amount: Decimal) -> None:
        execution = self.new_id()
        free = self.account.free
        accepted = self.step(L.reserve(execution, amount))
        assert accepted == (amount <= free)
        if accepted:
            self.open[execution] = amount

    @rule(extra=amounts)
    def over_reserve(self, extra: Decimal) -> None:
        assert not self.step(L.reserve(self.new_id(), self.account.free + extra))

    @precondition(lambda self: self.open)
    @rule(data=st.data(), percent=percents, slippage=st.sampled_from([Decimal(0), Decimal(0), CENT, Decimal(5)]))
    def fill(self, data: st.DataObject, percent: int, slippage: Decimal) -> None:
        execution = data.draw(st.sampled_from(list(self.open)))
        remaining = self.open[execution]
        quote = share(remaining, percent) + slippage
        if quote <= 0:
            return
        covered = min(quote, remaining)
        if self.step(L.fill(execution, self.new_id(), quote, from_reservation=covered)):
            self.open[execution] = remaining - covered

    @rule(data=st.data(), amount=st.decimals(min_value=0, max_value=Decimal(5), places=2))
    def fee(self, data: st.DataObject, amount: Decimal) -> None:
        execution = data.draw(st.sampled_from(list(self.open))) if self.open else None
        covered = min(amount, self.open[execution]) if execution else Decimal(0)
        if self.step(L.fee(self.new_id(), amount, execution_id=execution, from_reservation=covered)) and execution:
            self.open[execution] -= covered

    @precondition(lambda self: self.open)
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        execution = data.draw(st.sampled_from(list(self.open)))
        assert self.step(L.release(execution, self.open.pop(execution)))  # voiding never breaks the invariant

    @rule(percent=st.integers(min_value=0, max_value=110), proceeds=st.decimals(min_value=0, max_value=2000, places=2))
    def exit(self, percent: int, proceeds: Decimal) -> None:
        held = self.account.reserved_for_positions
        basis = share(held, percent)
        # Free capital grows by the proceeds, so only selling more cost basis than is held can be refused.
        assert self.step(L.exit(self.new_id(), basis, proceeds)) == (basis <= held)

    @invariant()
    def invariant_holds_and_history_rebuilds(self) -> None:
        self.account.check()
        assert L.rebuild(self.accepted) == self.account
        assert sum(self.open.values(), Decimal(0)) == self.account.reserved_for_orders
        for execution, remaining in self.open.items():
            assert L.reservation_remaining(self.accepted, execution) == remaining
