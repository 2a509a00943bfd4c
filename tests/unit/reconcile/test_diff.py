"""The pure reconciliation diff: each kind of difference becomes the right action, and agreement becomes none."""

from __future__ import annotations

import uuid
from decimal import Decimal

from autoinvest.domain.states import Side
from autoinvest.exchange.base import Balance, FillReport, OrderReport
from autoinvest.reconcile.diff import (
    AdoptOrder,
    DbOrder,
    DbView,
    ExchangeView,
    Holding,
    Lookup,
    Mismatch,
    balance_drift,
    eur_shortfall,
    lookups_needed,
    plan_orders,
)

D = Decimal
P1, P2 = uuid.UUID(int=1), uuid.UUID(int=2)
E1 = uuid.UUID(int=11)
COID = str(uuid.UUID(int=21))


def fill(fill_id: str, order_id: str = "o1", coid: str | None = COID) -> FillReport:
    return FillReport(fill_id=fill_id, order_id=order_id, client_order_id=coid, market="BTC-EUR", side=Side.BUY,
                      amount=D("0.01"), price=D("50000"), fee=D("0.75"), fee_currency="EUR", taker=False,
                      timestamp=1)


def order(status: str = "new", fills: tuple[FillReport, ...] = (), order_id: str = "o1",
          coid: str | None = COID) -> OrderReport:
    return OrderReport(order_id=order_id, client_order_id=coid, market="BTC-EUR", side=Side.BUY, order_type="limit",
                       status=status, amount=D("0.02"), amount_quote=None, price=D("50000"),
                       filled_amount=sum((f.amount for f in fills), D(0)), filled_amount_quote=D(0), fee_paid=D(0),
                       fee_currency="EUR", created=1, updated=1, fills=fills, raw={})


def db_order(state: str = "SUBMITTED", fill_ids: frozenset[str] = frozenset()) -> DbOrder:
    return DbOrder(E1, P1, COID, "o1", "BTC-EUR", state, fill_ids)


def test_agreement_plans_nothing() -> None:
    db = DbView((db_order(fill_ids=frozenset({"f1"})),), known_fill_ids=frozenset({"f1"}))
    plan = plan_orders(db, ExchangeView((order("partiallyFilled", (fill("f1"),)),), (fill("f1"),)))
    assert plan.applies == () and plan.adoptions == () and plan.notices == ()
    assert set(plan.counts().values()) == {0}


def test_a_missed_fill_on_an_open_order_is_applied() -> None:
    plan = plan_orders(DbView((db_order(),)), ExchangeView((order("partiallyFilled", (fill("f1"),)),), ()))
    [action] = plan.applies
    assert action.execution_id == E1 and action.kinds == (Mismatch.MISSED_FILL,) and action.new_fill_ids == ("f1",)
    assert plan.counts()[Mismatch.MISSED_FILL] == 1


def test_an_order_closed_on_the_exchange_is_looked_up_and_closed_here() -> None:
    db = DbView((db_order(fill_ids=frozenset({"f1"})),), known_fill_ids=frozenset({"f1"}))
    assert lookups_needed(db, [], []) == [Lookup("BTC-EUR", "o1")]
    canceled = order("canceled", (fill("f1"),))
    plan = plan_orders(db, ExchangeView((), (), {"o1": canceled}))
    [action] = plan.applies
    assert action.kinds == (Mismatch.MISSED_CLOSE,) and action.new_fill_ids == ()
    filled = order("filled", (fill("f1"), fill("f2")))
    [action] = plan_orders(db, ExchangeView((), (), {"o1": filled})).applies
    assert action.kinds == (Mismatch.MISSED_FILL, Mismatch.MISSED_CLOSE) and action.new_fill_ids == ("f2",)


def test_a_fill_of_a_terminal_order_is_found_through_trades() -> None:
    db = DbView((db_order("CANCELED", frozenset({"f1"})),), known_fill_ids=frozenset({"f1"}))
    trades = (fill("f1"), fill("f2"))
    assert lookups_needed(db, [], trades) == [Lookup("BTC-EUR", "o1")]
    plan = plan_orders(db, ExchangeView((), trades, {"o1": order("canceled", trades)}))
    [action] = plan.applies
    assert action.kinds == (Mismatch.MISSED_FILL,)  # not live here: no close to apply


def test_an_order_with_our_client_order_id_and_no_row_is_adopted() -> None:
    proposal = uuid.uuid4()
    db = DbView((), proposals={COID: (proposal, P2)})
    report = order("new")
    plan = plan_orders(db, ExchangeView((report,), ()))
    assert plan.adoptions == (AdoptOrder(proposal, P2, report),)
    assert plan.counts()[Mismatch.UNKNOWN_ORDER] == 1
    # closed before we saw it: found through the trades, looked up, adopted all the same
    trades = (fill("f9"),)
    assert lookups_needed(db, [], trades) == [Lookup("BTC-EUR", "o1")]
    assert plan_orders(db, ExchangeView((), trades, {"o1": order("filled", trades)})).adoptions[0].proposal_id \
        == proposal


def test_a_foreign_order_is_reported_not_counted() -> None:
    plan = plan_orders(DbView(()), ExchangeView((order(coid="manual-123"),), ()))
    [notice] = plan.notices
    assert notice.kind is None and notice.detail["foreign_order"] == "o1"
    assert sum(plan.counts().values()) == 0


def test_a_submitted_order_unknown_to_the_exchange_is_reported() -> None:
    plan = plan_orders(DbView((db_order(),)), ExchangeView((), (), {"o1": None}))
    assert [n.kind for n in plan.notices] == [Mismatch.MISSING_ON_EXCHANGE]


def test_a_submitting_order_found_open_is_acked_through_the_lifecycle() -> None:
    db = DbView((DbOrder(E1, P1, COID, None, "BTC-EUR", "SUBMITTING"),))
    [action] = plan_orders(db, ExchangeView((order("new"),), ())).applies
    assert action.kinds == () and sum(plan_orders(db, ExchangeView((order("new"),), ())).counts().values()) == 0


def bal(available: str, in_order: str = "0") -> Balance:
    return Balance(symbol="BTC", available=D(available), in_order=D(in_order))


def test_balances_equal_to_positions_are_no_drift() -> None:
    holdings = [Holding(P1, "BTC-EUR", D("0.01")), Holding(P2, "BTC-EUR", D("0.02"))]
    assert balance_drift(holdings, {"BTC": bal("0.01", "0.02"), "EUR": bal("5")}) == ([], {"BTC": D(0)})


def test_a_shortfall_is_shared_in_proportion_and_adds_up_exactly() -> None:
    holdings = [Holding(P1, "BTC-EUR", D("0.01")), Holding(P2, "BTC-EUR", D("0.02"))]
    [drift], unmanaged = balance_drift(holdings, {"BTC": bal("0.02")})
    assert unmanaged == {"BTC": D(0)} and drift.amount == D("-0.01")
    assert drift.shares[P1] == D("-0.00333333") and sum(drift.shares.values()) == D("-0.01")
    # Three equal holders: shares rounded each on its own would sum to -0.00999999; the last takes the remainder.
    equal = [Holding(p, "BTC-EUR", D("0.01")) for p in (P1, P2, uuid.UUID(int=3))]
    [drift], _ = balance_drift(equal, {"BTC": bal("0.02")})
    assert sum(drift.shares.values()) == D("-0.01") == drift.amount
    assert sorted(drift.shares.values()) == [D("-0.00333334"), D("-0.00333333"), D("-0.00333333")]


def test_coins_beyond_the_positions_are_unmanaged_never_a_profiles() -> None:
    # Guarantee 14: held by a profile, or by nobody, extra coins are the user's and are never shared out.
    assert balance_drift([], {"BTC": bal("0.5")}) == ([], {"BTC": D("0.5")})
    holdings = [Holding(P1, "BTC-EUR", D("0.01"))]
    assert balance_drift(holdings, {"BTC": bal("1.01")}) == ([], {"BTC": D("1.00")})


def test_assets_whose_trades_could_not_be_read_are_not_compared() -> None:
    assert balance_drift([Holding(P1, "BTC-EUR", D("1"))], {"BTC": bal("0")}, skip=frozenset({"BTC"})) == ([], {})


def test_dust_below_the_tolerance_is_not_drift() -> None:
    assert balance_drift([Holding(P1, "BTC-EUR", D("0.01"))], {"BTC": bal("0.010000001")}) == ([], {"BTC": D(0)})


def test_less_eur_than_the_ledgers_hold_as_cash_is_a_shortfall_more_is_normal() -> None:
    eur = {"EUR": Balance(symbol="EUR", available=D("900"), in_order=D("79.95"))}
    assert eur_shortfall(D("979.95"), eur) is None
    assert eur_shortfall(D("500"), eur) is None  # EUR not allocated to any profile
    assert eur_shortfall(D("979.96"), eur) is None  # a cent is rounding
    notice = eur_shortfall(D("1000"), eur)
    assert notice is not None and notice.kind is Mismatch.EUR_SHORTFALL and notice.detail["shortfall"] == "20.05"
    assert eur_shortfall(D("10"), {}) is not None  # no EUR at all
