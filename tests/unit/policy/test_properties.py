"""Properties of decide() over generated snapshots."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import TypeVar

from hypothesis import given, settings
from hypothesis import strategies as st

from autoinvest.policy import RULES, LastTrade, PreflightFacts, ReasonCode, decide, facts_to_json
from tests.unit.policy.strategies import SIDE, any_facts, good_facts, money

# 100 examples each keeps the whole policy suite well under 5 s; the boundaries are drawn on purpose.
PROPERTY = settings(max_examples=100)
T = TypeVar("T")

Tightening = Callable[[PreflightFacts, st.DataObject], PreflightFacts]


STEP = st.integers(1, 30)
EUR_STEP = money(Decimal("0.01"), Decimal("500"))
RECENT_SECONDS = st.integers(0, 3600)


def _more(draw: st.DataObject) -> int:
    return draw.draw(STEP)


def _eur(draw: st.DataObject) -> Decimal:
    return draw.draw(EUR_STEP)


def _fewer(value: int, draw: st.DataObject) -> int:
    return max(0, value - _more(draw))


def _sooner_trade(f: PreflightFacts, d: st.DataObject) -> PreflightFacts:
    # A more recent trade (or a first one) can only add pacing denials.
    side = f.last_trade.side if f.last_trade else d.draw(SIDE)
    at = f.now - timedelta(seconds=d.draw(RECENT_SECONDS))
    if f.last_trade is not None:
        at = max(at, f.last_trade.at)
    return replace(f, last_trade=LastTrade(at=at, side=side))


def _smaller_subset(items: frozenset[T], d: st.DataObject) -> frozenset[T]:
    return frozenset(d.draw(st.sets(st.sampled_from(sorted(items, key=str))))) if items else items


# Each one tightens exactly one limit (or adds one adverse fact).
TIGHTENINGS: dict[str, Tightening] = {
    "global_kill": lambda f, d: replace(f, global_kill=True),
    "user_kill": lambda f, d: replace(f, user_kill=True),
    "profile_disabled": lambda f, d: replace(f, profile_trading_enabled=False),
    "no_override_cooldown": lambda f, d: replace(f, override_cooldown=False),
    "no_override_anti_flip": lambda f, d: replace(f, override_anti_flip=False),
    "expires_sooner": lambda f, d: replace(f, expires_at=f.expires_at - timedelta(seconds=_more(d))),
    "smaller_allowlist": lambda f, d: replace(f, allowlist=_smaller_subset(f.allowlist, d)),
    "higher_min_order": lambda f, d: replace(f, min_order_eur=f.min_order_eur + _eur(d)),
    "lower_max_order": lambda f, d: replace(f, max_order_eur=f.max_order_eur - _eur(d)),
    "higher_exchange_min": lambda f, d: replace(f, exchange_min_order_eur=(f.exchange_min_order_eur or 0) + _eur(d)),
    "fewer_confidences": lambda f, d: replace(f, allowed_confidences=_smaller_subset(f.allowed_confidences, d)),
    "higher_min_confidence": lambda f, d: replace(f, min_confidence=f.min_confidence + _more(d)),
    "longer_cooldown": lambda f, d: replace(f, cooldown_minutes=f.cooldown_minutes + _more(d)),
    "longer_anti_flip": lambda f, d: replace(f, anti_flip_minutes=f.anti_flip_minutes + _more(d)),
    "lower_daily_cap": lambda f, d: replace(f, max_trades_per_day=_fewer(f.max_trades_per_day, d)),
    "lower_hourly_cap": lambda f, d: replace(f, max_trades_per_hour=_fewer(f.max_trades_per_hour, d)),
    "more_trades_today": lambda f, d: replace(f, trades_today=f.trades_today + _more(d)),
    "more_trades_last_hour": lambda f, d: replace(f, trades_last_hour=f.trades_last_hour + _more(d)),
    "sooner_last_trade": _sooner_trade,
    "less_capital": lambda f, d: replace(f, available_eur=f.available_eur - _eur(d)),
    "smaller_position": lambda f, d: replace(f, position_quantity=f.position_quantity - _eur(d)),
    "more_fee_headroom": lambda f, d: replace(f, fee_headroom_eur=f.fee_headroom_eur + _eur(d)),
}


@PROPERTY
@given(st.one_of(any_facts(), good_facts()))
def test_allowed_exactly_when_no_rule_fires(facts: PreflightFacts) -> None:
    fired = [reason for reason in (rule(facts) for rule in RULES) if reason is not None]
    decision = decide(facts)
    assert decision.allowed == (not fired)
    assert list(decision.reasons) == fired
    assert [check.passed for check in decision.checks] == [rule(facts) is None for rule in RULES]


@PROPERTY
@given(st.one_of(any_facts(), good_facts()))
def test_decide_is_deterministic(facts: PreflightFacts) -> None:
    copy = replace(facts)
    assert decide(facts) == decide(facts) == decide(copy)
    assert decide(facts).to_json() == decide(copy).to_json()
    assert facts_to_json(facts) == facts_to_json(copy)


@PROPERTY
@given(good_facts())
def test_all_good_facts_are_always_allowed(facts: PreflightFacts) -> None:
    decision = decide(facts)
    assert decision.allowed, decision.codes


@PROPERTY
@given(st.one_of(any_facts(), good_facts()), st.sampled_from(sorted(TIGHTENINGS)), st.data())
def test_tightening_a_limit_never_turns_a_denial_into_an_allow(
    facts: PreflightFacts, name: str, data: st.DataObject
) -> None:
    tighter = TIGHTENINGS[name](facts, data)
    before, after = set(decide(facts).codes), set(decide(tighter).codes)
    if not decide(facts).allowed:
        assert not decide(tighter).allowed
    # Stronger: no reason disappears, except that emptying the allowlist replaces MARKET_NOT_ALLOWED.
    if ReasonCode.ALLOWLIST_EMPTY_DENY_BY_DEFAULT in after:
        before.discard(ReasonCode.MARKET_NOT_ALLOWED)
    assert before <= after, (name, before - after)
