"""Every rule at its exact boundary; each test asserts the full set of codes, so a rule firing too often fails too."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from autoinvest.domain.states import CONFIDENCE_BUCKETS, ProposalStatus, Side
from autoinvest.policy import ReasonCode, rules
from tests.unit.policy.factory import GOOD, NOW, codes, good, traded

C = ReasonCode
SECOND = timedelta(seconds=1)
MICROSECOND = timedelta(microseconds=1)


def test_the_good_facts_pass_every_rule() -> None:
    assert codes(GOOD) == ()
    for rule in rules.RULES:
        assert rule(GOOD) is None, rule.__name__


# -- kill switches --


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"global_kill": True}, (C.KILL_SWITCH_GLOBAL,)),
        ({"user_kill": True}, (C.KILL_SWITCH_USER,)),
        ({"profile_trading_enabled": False}, (C.KILL_SWITCH_PROFILE,)),
        (
            {"global_kill": True, "user_kill": True, "profile_trading_enabled": False},
            (C.KILL_SWITCH_GLOBAL, C.KILL_SWITCH_USER, C.KILL_SWITCH_PROFILE),
        ),
    ],
)
def test_each_kill_switch_denies_with_its_own_code(changes: dict[str, bool], expected: tuple[ReasonCode, ...]) -> None:
    assert codes(good(**changes)) == expected


# -- proposal --


@pytest.mark.parametrize("status", ["PENDING", "REJECTED", "EXPIRED", "EXECUTED", "approved", "", "APPROVED "])
def test_only_an_approved_proposal_may_execute(status: str) -> None:
    assert codes(good(status=status)) == (C.PROPOSAL_NOT_APPROVED,)


def test_the_status_enum_and_its_string_are_both_approved() -> None:
    assert codes(good(status=ProposalStatus.APPROVED)) == ()
    assert codes(good(status="APPROVED")) == ()


def test_a_proposal_is_expired_at_exactly_expires_at() -> None:
    assert codes(good(expires_at=NOW)) == (C.PROPOSAL_EXPIRED,)
    assert codes(good(expires_at=NOW - SECOND)) == (C.PROPOSAL_EXPIRED,)
    assert codes(good(expires_at=NOW + MICROSECOND)) == ()


# -- allowlist --


def test_an_empty_allowlist_denies_by_default_with_one_reason_only() -> None:
    assert codes(good(allowlist=frozenset())) == (C.ALLOWLIST_EMPTY_DENY_BY_DEFAULT,)


def test_a_market_outside_the_allowlist_is_denied() -> None:
    assert codes(good(market="SOL-EUR")) == (C.MARKET_NOT_ALLOWED,)


def test_the_allowlist_matches_markets_exactly() -> None:
    assert codes(good(market="btc-eur")) == (C.MARKET_NOT_ALLOWED,)
    assert codes(good(allowlist=frozenset({"BTC-EUR"}))) == ()


# -- order size --


def test_an_order_of_exactly_the_policy_minimum_is_allowed() -> None:
    assert codes(good(amount_eur=Decimal("10.00"))) == ()
    assert codes(good(amount_eur=Decimal("9.99"))) == (C.ORDER_BELOW_POLICY_MIN,)
    assert codes(good(amount_eur=Decimal("9.999999"))) == (C.ORDER_BELOW_POLICY_MIN,)


def test_an_order_of_exactly_the_policy_maximum_is_allowed() -> None:
    assert codes(good(amount_eur=Decimal("100.00"))) == ()
    assert codes(good(amount_eur=Decimal("100.01"))) == (C.ORDER_ABOVE_POLICY_MAX,)
    assert codes(good(amount_eur=Decimal("100.000001"))) == (C.ORDER_ABOVE_POLICY_MAX,)


def test_an_order_of_exactly_the_exchange_minimum_is_allowed() -> None:
    relaxed = {"min_order_eur": Decimal("1.00"), "exchange_min_order_eur": Decimal("5.00")}
    assert codes(good(amount_eur=Decimal("5.00"), **relaxed)) == ()
    assert codes(good(amount_eur=Decimal("4.99"), **relaxed)) == (C.ORDER_BELOW_EXCHANGE_MIN,)


def test_an_unknown_exchange_minimum_is_left_to_the_exchange() -> None:
    assert codes(good(amount_eur=Decimal("1.00"), min_order_eur=Decimal("1.00"), exchange_min_order_eur=None)) == ()


@pytest.mark.parametrize("amount", ["0", "-1.00", "0.00"])
def test_a_non_positive_order_is_below_the_minimum_even_when_the_minimum_is_zero(amount: str) -> None:
    facts = good(amount_eur=Decimal(amount), min_order_eur=Decimal("0"), exchange_min_order_eur=None)
    assert codes(facts) == (C.ORDER_BELOW_POLICY_MIN,)


# -- confidence --


@pytest.mark.parametrize("confidence", sorted(CONFIDENCE_BUCKETS))
def test_every_bucket_is_allowed_when_the_policy_allows_it(confidence: int) -> None:
    facts = good(confidence=confidence, allowed_confidences=CONFIDENCE_BUCKETS, min_confidence=0)
    assert codes(facts) == ()


@pytest.mark.parametrize("confidence", [50, 75, 100])
def test_a_bucket_missing_from_the_policy_is_not_allowed(confidence: int) -> None:
    allowed = frozenset({50, 75, 100} - {confidence})
    assert codes(good(confidence=confidence, allowed_confidences=allowed)) == (C.CONFIDENCE_NOT_ALLOWED,)


@pytest.mark.parametrize("confidence", [-25, 1, 24, 26, 60, 99, 101, 125])
def test_a_confidence_outside_the_five_buckets_is_never_allowed(confidence: int) -> None:
    # Even a (misconfigured) policy that lists it cannot allow it.
    allowed = frozenset({*CONFIDENCE_BUCKETS, confidence})
    facts = good(confidence=confidence, allowed_confidences=allowed, min_confidence=-100)
    assert codes(facts) == (C.CONFIDENCE_NOT_ALLOWED,)


def test_a_confidence_of_exactly_the_minimum_is_allowed() -> None:
    assert codes(good(confidence=50, min_confidence=50)) == ()
    assert codes(good(confidence=50, min_confidence=51)) == (C.CONFIDENCE_BELOW_MIN,)


def test_a_bucket_below_the_minimum_is_denied_for_that_reason_alone() -> None:
    facts = good(confidence=25, allowed_confidences=CONFIDENCE_BUCKETS, min_confidence=50)
    assert codes(facts) == (C.CONFIDENCE_BELOW_MIN,)


# -- cooldown (30 min in GOOD; anti-flip 120 min) --


@pytest.mark.parametrize("side", list(Side))
def test_the_cooldown_ends_at_exactly_n_minutes_whatever_the_side(side: Side) -> None:
    isolate = {"anti_flip_minutes": 0}
    assert codes(traded(timedelta(minutes=30), side, **isolate)) == ()
    assert codes(traded(timedelta(minutes=30) - SECOND, side, **isolate)) == (C.COOLDOWN_ACTIVE,)
    assert codes(traded(timedelta(minutes=30) - MICROSECOND, side, **isolate)) == (C.COOLDOWN_ACTIVE,)
    assert codes(traded(timedelta(0), side, **isolate)) == (C.COOLDOWN_ACTIVE,)


def test_a_one_minute_cooldown_still_applies() -> None:
    short = {"cooldown_minutes": 1, "anti_flip_minutes": 0}
    assert codes(traded(timedelta(seconds=59), **short)) == (C.COOLDOWN_ACTIVE,)
    assert codes(traded(timedelta(seconds=60), **short)) == ()


def test_a_one_minute_anti_flip_still_applies() -> None:
    short = {"cooldown_minutes": 0, "anti_flip_minutes": 1}
    assert codes(traded(timedelta(seconds=59), Side.SELL, **short)) == (C.ANTI_FLIP,)
    assert codes(traded(timedelta(seconds=60), Side.SELL, **short)) == ()


def test_a_cooldown_of_zero_minutes_is_disabled() -> None:
    assert codes(traded(timedelta(0), cooldown_minutes=0)) == ()


def test_a_last_trade_stamped_in_the_future_keeps_the_cooldown_active() -> None:
    assert codes(traded(-timedelta(minutes=5))) == (C.COOLDOWN_ACTIVE,)


def test_override_cooldown_bypasses_the_cooldown_only() -> None:
    recent_opposite = timedelta(minutes=1)
    assert codes(traded(recent_opposite, Side.SELL)) == (C.COOLDOWN_ACTIVE, C.ANTI_FLIP)
    assert codes(traded(recent_opposite, Side.SELL, override_cooldown=True)) == (C.ANTI_FLIP,)
    assert codes(traded(recent_opposite, Side.BUY, override_cooldown=True)) == ()
    # And it bypasses nothing else.
    assert codes(good(override_cooldown=True, trades_today=10, trades_last_hour=3)) == (
        C.DAILY_CAP_REACHED,
        C.HOURLY_CAP_REACHED,
    )


# -- anti-flip (120 min in GOOD) --


def test_anti_flip_ends_at_exactly_n_minutes_on_the_opposite_side() -> None:
    assert codes(traded(timedelta(minutes=120), Side.SELL)) == ()
    assert codes(traded(timedelta(minutes=120) - SECOND, Side.SELL)) == (C.ANTI_FLIP,)
    assert codes(traded(timedelta(minutes=120) - MICROSECOND, Side.SELL)) == (C.ANTI_FLIP,)


def test_anti_flip_applies_to_a_sell_after_a_buy_too() -> None:
    sell = {"side": Side.SELL, "amount_base": Decimal("0.001"), "position_quantity": Decimal("0.001")}
    assert codes(traded(timedelta(minutes=60), Side.BUY, **sell)) == (C.ANTI_FLIP,)
    assert codes(traded(timedelta(minutes=60), Side.SELL, **sell)) == ()


def test_anti_flip_ignores_a_trade_on_the_same_side() -> None:
    assert codes(traded(timedelta(minutes=60), Side.BUY)) == ()
    assert codes(traded(timedelta(minutes=31), Side.BUY)) == ()


def test_an_anti_flip_of_zero_minutes_is_disabled() -> None:
    assert codes(traded(timedelta(minutes=60), Side.SELL, anti_flip_minutes=0)) == ()


def test_override_anti_flip_bypasses_anti_flip_only() -> None:
    assert codes(traded(timedelta(minutes=60), Side.SELL, override_anti_flip=True)) == ()
    assert codes(traded(timedelta(minutes=1), Side.SELL, override_anti_flip=True)) == (C.COOLDOWN_ACTIVE,)
    both = {"override_anti_flip": True, "override_cooldown": True}
    assert codes(traded(timedelta(minutes=1), Side.SELL, **both)) == ()


def test_no_previous_trade_means_no_pacing_limit() -> None:
    assert codes(good(last_trade=None, cooldown_minutes=10_000, anti_flip_minutes=10_000)) == ()


# -- caps (10 per day, 3 per hour in GOOD) --


def test_the_daily_cap_allows_the_nth_trade_and_denies_the_next() -> None:
    assert codes(good(trades_today=9)) == ()
    assert codes(good(trades_today=10)) == (C.DAILY_CAP_REACHED,)
    assert codes(good(trades_today=11)) == (C.DAILY_CAP_REACHED,)


def test_the_hourly_cap_allows_the_nth_trade_and_denies_the_next() -> None:
    assert codes(good(trades_last_hour=2)) == ()
    assert codes(good(trades_last_hour=3)) == (C.HOURLY_CAP_REACHED,)
    assert codes(good(trades_last_hour=4)) == (C.HOURLY_CAP_REACHED,)


def test_a_cap_of_zero_denies_every_trade() -> None:
    assert codes(good(max_trades_per_day=0)) == (C.DAILY_CAP_REACHED,)
    assert codes(good(max_trades_per_hour=0)) == (C.HOURLY_CAP_REACHED,)


# -- capital --


def test_a_buy_of_exactly_the_available_capital_is_allowed() -> None:
    assert codes(good(available_eur=Decimal("50.00"))) == ()
    assert codes(good(available_eur=Decimal("49.99"))) == (C.INSUFFICIENT_CAPITAL,)
    assert codes(good(available_eur=Decimal("-1"))) == (C.INSUFFICIENT_CAPITAL,)


def test_a_buy_must_leave_room_for_its_fee_headroom() -> None:
    headroom = {"fee_headroom_eur": Decimal("0.13")}
    assert codes(good(available_eur=Decimal("50.13"), **headroom)) == ()
    assert codes(good(available_eur=Decimal("50.12"), **headroom)) == (C.INSUFFICIENT_CAPITAL,)


def test_a_sell_is_limited_by_the_position_not_by_eur() -> None:
    sell = {"side": Side.SELL, "available_eur": Decimal("0"), "fee_headroom_eur": Decimal("1")}
    sell["amount_base"] = Decimal("0.5")
    assert codes(good(position_quantity=Decimal("0.5"), **sell)) == ()
    assert codes(good(position_quantity=Decimal("0.4999"), **sell)) == (C.INSUFFICIENT_CAPITAL,)
    assert codes(good(position_quantity=Decimal("0"), **sell)) == (C.INSUFFICIENT_CAPITAL,)


def test_a_sell_without_a_base_amount_is_denied() -> None:
    facts = good(side=Side.SELL, amount_base=None, position_quantity=Decimal("100"))
    assert codes(facts) == (C.INSUFFICIENT_CAPITAL,)


# -- the details carry the numbers --


def test_reason_details_are_sentences_with_the_numbers() -> None:
    above = rules.check_order_policy_max(good(amount_eur=Decimal("100.01")))
    assert above is not None
    assert "100.01 EUR" in above.detail and "100.00 EUR" in above.detail
    cooldown = rules.check_cooldown(traded(timedelta(minutes=29, seconds=59)))
    assert cooldown is not None
    assert "30 min" in cooldown.detail and "0:29:59" in cooldown.detail
    assert (NOW + timedelta(seconds=1)).isoformat() in cooldown.detail
