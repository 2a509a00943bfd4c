"""decide() runs every rule, records each one, and serialises to JSON."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from autoinvest.domain.states import Side
from autoinvest.policy import (
    KILL_SWITCH_RULES,
    REASON_CODES,
    RULE_CODES,
    RULES,
    Decision,
    LastTrade,
    PreflightFacts,
    Reason,
    ReasonCode,
    decide,
    decide_kill_switches,
    facts_to_json,
    rule_name,
)
from tests.unit.policy.factory import GOOD, NOW, codes, good, traded

C = ReasonCode

# Written out on purpose: renaming a code breaks stored records, so it must break this test first.
EXPECTED_CODES = {
    "KILL_SWITCH_GLOBAL", "KILL_SWITCH_USER", "KILL_SWITCH_PROFILE", "PROPOSAL_NOT_APPROVED", "PROPOSAL_EXPIRED",
    "ALLOWLIST_EMPTY_DENY_BY_DEFAULT", "MARKET_NOT_ALLOWED", "ORDER_BELOW_POLICY_MIN", "ORDER_ABOVE_POLICY_MAX",
    "ORDER_BELOW_EXCHANGE_MIN", "CONFIDENCE_NOT_ALLOWED", "CONFIDENCE_BELOW_MIN", "COOLDOWN_ACTIVE", "ANTI_FLIP",
    "DAILY_CAP_REACHED", "HOURLY_CAP_REACHED", "INSUFFICIENT_CAPITAL",
}  # fmt: skip

# One minimal violation per code: decide() must return exactly that code.
VIOLATIONS: dict[ReasonCode, PreflightFacts] = {
    C.KILL_SWITCH_GLOBAL: good(global_kill=True),
    C.KILL_SWITCH_USER: good(user_kill=True),
    C.KILL_SWITCH_PROFILE: good(profile_trading_enabled=False),
    C.PROPOSAL_NOT_APPROVED: good(status="PENDING"),
    C.PROPOSAL_EXPIRED: good(expires_at=NOW),
    C.ALLOWLIST_EMPTY_DENY_BY_DEFAULT: good(allowlist=frozenset()),
    C.MARKET_NOT_ALLOWED: good(market="SOL-EUR"),
    C.ORDER_BELOW_POLICY_MIN: good(amount_eur=Decimal("9.99")),
    C.ORDER_ABOVE_POLICY_MAX: good(amount_eur=Decimal("100.01")),
    C.ORDER_BELOW_EXCHANGE_MIN: good(min_order_eur=Decimal("1"), amount_eur=Decimal("4.99")),
    C.CONFIDENCE_NOT_ALLOWED: good(confidence=60),
    C.CONFIDENCE_BELOW_MIN: good(min_confidence=100),
    C.COOLDOWN_ACTIVE: traded(timedelta(minutes=29, seconds=59), Side.BUY),
    C.ANTI_FLIP: traded(timedelta(minutes=119, seconds=59), Side.SELL),
    C.DAILY_CAP_REACHED: good(trades_today=10),
    C.HOURLY_CAP_REACHED: good(trades_last_hour=3),
    C.INSUFFICIENT_CAPITAL: good(available_eur=Decimal("49.99")),
}


def test_the_reason_codes_are_exactly_the_documented_ones() -> None:
    assert set(REASON_CODES) == EXPECTED_CODES
    assert {code.value for code in ReasonCode} == EXPECTED_CODES


def test_each_rule_owns_one_distinct_code() -> None:
    assert set(RULE_CODES) == set(RULES)
    assert len(RULES) == len(set(RULES)) == len(REASON_CODES)
    assert {code.value for code in RULE_CODES.values()} == REASON_CODES


@pytest.mark.parametrize("code", list(ReasonCode))
def test_every_code_is_produced_alone_by_its_minimal_violation(code: ReasonCode) -> None:
    assert codes(VIOLATIONS[code]) == (code,)
    (rule,) = [rule for rule, owned in RULE_CODES.items() if owned == code]
    reason = rule(VIOLATIONS[code])
    assert reason is not None and reason.code == code and reason.detail


def test_the_good_facts_are_allowed_with_every_check_recorded() -> None:
    decision = decide(GOOD)
    assert decision.allowed and decision.reasons == ()
    assert [check.rule for check in decision.checks] == [rule_name(rule) for rule in RULES]
    assert all(check.passed and check.detail is None for check in decision.checks)
    assert [check.code for check in decision.checks] == [RULE_CODES[rule] for rule in RULES]


def test_every_rule_runs_and_every_violation_is_reported() -> None:
    facts = good(
        global_kill=True,
        status="PENDING",
        expires_at=NOW - timedelta(hours=1),
        market="SOL-EUR",
        amount_eur=Decimal("500"),
        confidence=25,
        trades_today=10,
        trades_last_hour=3,
        available_eur=Decimal("1"),
        last_trade=LastTrade(at=NOW - timedelta(minutes=1), side=Side.SELL),
    )
    decision = decide(facts)
    assert not decision.allowed
    assert decision.codes == (
        C.KILL_SWITCH_GLOBAL,
        C.PROPOSAL_NOT_APPROVED,
        C.PROPOSAL_EXPIRED,
        C.MARKET_NOT_ALLOWED,
        C.ORDER_ABOVE_POLICY_MAX,
        C.CONFIDENCE_NOT_ALLOWED,
        C.CONFIDENCE_BELOW_MIN,
        C.COOLDOWN_ACTIVE,
        C.ANTI_FLIP,
        C.DAILY_CAP_REACHED,
        C.HOURLY_CAP_REACHED,
        C.INSUFFICIENT_CAPITAL,
    )
    assert len(decision.checks) == len(RULES)
    failed = [check for check in decision.checks if not check.passed]
    assert [(check.code, check.detail) for check in failed] == [(r.code, r.detail) for r in decision.reasons]


def test_the_decision_round_trips_through_json() -> None:
    decision = decide(VIOLATIONS[C.COOLDOWN_ACTIVE])
    record = json.loads(json.dumps(decision.to_json()))
    assert record["allowed"] is False
    assert record["reasons"] == [{"code": "COOLDOWN_ACTIVE", "detail": decision.reasons[0].detail}]
    assert len(record["checks"]) == len(RULES)
    assert record["checks"][0] == {
        "rule": "kill_switch_global", "passed": True, "code": "KILL_SWITCH_GLOBAL", "detail": None,
    }  # fmt: skip
    assert record == decision.to_json()


def test_the_facts_round_trip_through_json_without_losing_precision() -> None:
    facts = traded(timedelta(minutes=45), Side.SELL, amount_eur=Decimal("12.345678"), exchange_min_order_eur=None)
    record = json.loads(json.dumps(facts_to_json(facts)))
    assert record == facts_to_json(facts)
    assert record["amount_eur"] == "12.345678" and Decimal(record["amount_eur"]) == facts.amount_eur
    assert datetime.fromisoformat(record["now"]) == NOW
    assert datetime.fromisoformat(record["expires_at"]) == facts.expires_at
    assert record["last_trade"] == {"at": (NOW - timedelta(minutes=45)).isoformat(), "side": "sell"}
    assert record["side"] == "buy"
    assert record["allowlist"] == ["BTC-EUR", "ETH-EUR"]
    assert record["allowed_confidences"] == [50, 75, 100]
    assert record["exchange_min_order_eur"] is None
    assert record["amount_base"] is None
    assert set(record) == set(PreflightFacts.__dataclass_fields__)


@pytest.mark.parametrize("switches", list(itertools.product([False, True], repeat=3)))
def test_the_kill_switches_alone_agree_with_the_full_decision(switches: tuple[bool, bool, bool]) -> None:
    global_kill, user_kill, enabled = switches
    alone = decide_kill_switches(global_kill=global_kill, user_kill=user_kill, profile_trading_enabled=enabled)
    full = decide(good(global_kill=global_kill, user_kill=user_kill, profile_trading_enabled=enabled))
    assert alone.reasons == full.reasons
    assert alone.allowed == (not global_kill and not user_kill and enabled)
    assert [check.rule for check in alone.checks] == [rule_name(rule) for rule in KILL_SWITCH_RULES]


def test_the_kill_switch_rules_are_the_ones_decide_runs() -> None:
    assert RULES[: len(KILL_SWITCH_RULES)] == KILL_SWITCH_RULES


def test_a_decision_cannot_be_allowed_with_reasons() -> None:
    reason = Reason(C.ANTI_FLIP, "x")
    with pytest.raises(ValueError, match="if and only if"):
        Decision(allowed=True, reasons=(reason,), checks=())
    with pytest.raises(ValueError, match="if and only if"):
        Decision(allowed=False, reasons=(), checks=())
