"""Property: random ledger histories keep the invariant at every step; a breaking step changes nothing."""

from __future__ import annotations

import uuid
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from autoinvest.ledger import entries as L
from autoinvest.ledger.entries import Account, InvariantViolation
from tests.unit.ledger.model import LedgerModel, amounts

PROFILE = uuid.UUID(int=1)

TestLedgerMachine = LedgerModel.TestCase
TestLedgerMachine.settings = settings(max_examples=200, stateful_step_count=40, deadline=None)


@given(st.lists(st.tuples(st.sampled_from(["alloc", "reserve", "fee"]), amounts), max_size=30))
def test_folding_apply_equals_rebuild(ops: list[tuple[str, Decimal]]) -> None:
    account, accepted = Account(), []
    for i, (op, amount) in enumerate(ops):
        if op == "alloc":
            entry = L.allocate(PROFILE, str(i), amount)
        elif op == "reserve":
            entry = L.reserve(uuid.UUID(int=i), amount)
        else:
            entry = L.fee(str(i), amount)
        try:
            account = L.apply(account, entry)
        except InvariantViolation:
            continue
        accepted.append(entry)
    assert L.rebuild(accepted) == account
    account.check()
