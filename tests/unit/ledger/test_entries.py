"""Each constructor's deltas and reference; the account invariant; apply and rebuild."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from autoinvest.errors import AutoInvestError, InvalidEntry, InvariantViolation
from autoinvest.ledger import entries as L
from autoinvest.ledger.entries import Account, Entry, Kind

D = Decimal
PROFILE = uuid.UUID("00000000-0000-0000-0000-0000000000a1")
EXEC = uuid.UUID("00000000-0000-0000-0000-0000000000e1")
FILL = uuid.UUID("00000000-0000-0000-0000-0000000000f1")


def deltas(e: Entry) -> tuple[object, ...]:
    return e.d_allocated, e.d_reserved_for_orders, e.d_reserved_for_positions, e.d_realized_pnl


def test_allocate_and_deallocate_move_allocated_under_a_profile_scoped_reference() -> None:
    a = L.allocate(PROFILE, "1", D("100"))
    assert (a.kind, a.reference, deltas(a)) == (Kind.ALLOCATE, f"alloc:{PROFILE}:1", (D(100), 0, 0, 0))
    d = L.deallocate(PROFILE, "2", D("40"))
    assert (d.kind, d.reference, deltas(d)) == (Kind.DEALLOCATE, f"dealloc:{PROFILE}:2", (D(-40), 0, 0, 0))


def test_reserve_opens_a_pending_reservation() -> None:
    e = L.reserve(EXEC, D("25.50"))
    assert (e.kind, e.reference, deltas(e)) == (Kind.RESERVE, f"exec:{EXEC}", (0, D("25.50"), 0, 0))
    assert e.memo == {"execution_id": str(EXEC)}


def test_fill_posts_the_reservation_into_positions() -> None:
    e = L.fill(EXEC, FILL, D("10"))
    assert (e.kind, e.reference, deltas(e)) == (Kind.FILL, f"fill:{FILL}", (0, D(-10), D(10), 0))
    assert e.memo["execution_id"] == str(EXEC)


def test_fill_beyond_the_reservation_takes_the_rest_from_free_capital() -> None:
    e = L.fill(EXEC, "exch-fill-7", D("10"), from_reservation=D("4"))
    assert e.reference == "fill:exch-fill-7"
    assert deltas(e) == (0, D(-4), D(10), 0)
    with pytest.raises(InvalidEntry):
        L.fill(EXEC, FILL, D("10"), from_reservation=D("11"))


def test_fee_is_an_expense_optionally_paid_from_the_reservation() -> None:
    e = L.fee(FILL, D("0.25"))
    assert (e.kind, e.reference, deltas(e)) == (Kind.FEE, f"fee:{FILL}", (0, 0, 0, D("-0.25")))
    paid = L.fee(FILL, D("0.25"), execution_id=EXEC, from_reservation=D("0.25"))
    assert deltas(paid) == (0, D("-0.25"), 0, D("-0.25"))
    assert L.apply(Account(D(10), D("0.25")), paid).free == Account(D(10), D("0.25")).free
    with pytest.raises(InvalidEntry):
        L.fee(FILL, D("0.25"), from_reservation=D("0.25"))  # no execution to pay from


def test_release_voids_the_remainder_once_per_execution() -> None:
    e = L.release(EXEC, D("3"))
    assert (e.kind, e.reference, deltas(e)) == (Kind.RELEASE, f"exec:{EXEC}", (0, D(-3), 0, 0))
    assert deltas(L.release(EXEC, D(0))) == (0, 0, 0, 0)  # closes a fully used reservation


def test_exit_releases_cost_basis_and_realizes_the_result() -> None:
    gain = L.exit(FILL, D("10"), D("12"))
    assert (gain.kind, gain.reference, deltas(gain)) == (Kind.EXIT, f"fill:{FILL}", (0, 0, D(-10), D(2)))
    loss = L.exit(FILL, D("10"), D("7"))
    assert deltas(loss) == (0, 0, D(-10), D(-3))
    before = Account(D(100), D(0), D(10), D(0))
    assert L.apply(before, gain).free == before.free + D(12)


def test_adjust_carries_explicit_deltas_and_a_reason() -> None:
    e = L.adjust(PROFILE, "r1", reason="exchange balance drift", d_realized_pnl=D("-1.5"), memo={"run": "x"})
    assert (e.kind, e.reference, deltas(e)) == (Kind.ADJUST, f"adjust:{PROFILE}:r1", (0, 0, 0, D("-1.5")))
    assert e.memo == {"run": "x", "reason": "exchange balance drift", "request_id": "r1"}
    with pytest.raises(InvalidEntry):
        L.adjust(PROFILE, "r2", reason="nothing")
    with pytest.raises(InvalidEntry):
        L.adjust(PROFILE, "r3", reason="", d_allocated=D(1))


def test_fill_and_exit_of_the_same_fill_id_have_different_kinds() -> None:
    # UNIQUE(kind, reference): the same reference under two kinds never collides.
    assert L.fill(EXEC, FILL, D(1)).reference == L.exit(FILL, D(1), D(1)).reference


@pytest.mark.parametrize("bad", [D(0), D(-1), D("NaN"), D("Infinity"), 1.5, 3])
def test_amounts_must_be_positive_finite_decimals(bad: object) -> None:
    with pytest.raises(InvalidEntry):
        L.reserve(EXEC, bad)  # type: ignore[arg-type]


def test_empty_ids_are_refused() -> None:
    with pytest.raises(InvalidEntry):
        L.fill(EXEC, "", D(1))
    with pytest.raises(InvalidEntry):
        L.allocate(PROFILE, " ", D(1))


def test_free_and_the_invariant() -> None:
    acct = Account(D(100), D(30), D(50), D(-20))
    assert acct.free == D(0)
    acct.check()
    with pytest.raises(InvariantViolation) as exc:
        Account(D(100), D(30), D(50), D("-20.01")).check()
    assert exc.value.reason == "CAPITAL_INVARIANT_VIOLATED"
    assert isinstance(exc.value, AutoInvestError)
    for negative in (Account(allocated=D(-1), realized_pnl=D(5)), Account(D(5), D(-1)), Account(D(5), D(0), D(-1))):
        with pytest.raises(InvariantViolation):
            negative.check()


def test_apply_refuses_a_breaking_entry_and_leaves_the_account_unchanged() -> None:
    acct = L.apply(Account(), L.allocate(PROFILE, "1", D(10)))
    with pytest.raises(InvariantViolation):
        L.apply(acct, L.reserve(EXEC, D("10.01")))
    assert acct == Account(allocated=D(10))
    with pytest.raises(InvariantViolation):
        L.apply(acct, L.release(EXEC, D(1)))  # releasing what was never reserved


def test_rebuild_sums_from_zero_and_difference_names_the_drift() -> None:
    history = [L.allocate(PROFILE, "1", D(100)), L.reserve(EXEC, D(30)), L.fill(EXEC, FILL, D(20)),
               L.fee(FILL, D(1), execution_id=EXEC, from_reservation=D(1)), L.release(EXEC, D(9)),
               L.exit(FILL, D(20), D(25))]
    acct = L.rebuild(history)
    assert acct == Account(D(100), D(0), D(0), D(4))
    assert L.reservation_remaining(history[:3], EXEC) == D(10)
    assert L.reservation_remaining(history, EXEC) == D(0)
    assert L.difference(acct, acct) is None
    diff = L.difference(Account(D(100), D(1), D(0), D(4)), acct)
    assert diff is not None and diff.drift == {"reserved_for_orders": D(1)}


def test_entries_are_immutable() -> None:
    e = L.reserve(EXEC, D(1))
    with pytest.raises(AttributeError):
        e.d_reserved_for_orders = D(2)  # type: ignore[misc]
