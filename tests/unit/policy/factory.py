"""A fact set that passes every rule, and a helper to break exactly one thing in it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from autoinvest.domain.states import Side
from autoinvest.policy import LastTrade, PreflightFacts, ReasonCode, decide

NOW = datetime(2026, 3, 10, 12, 0, 0, tzinfo=UTC)
MARKETS = ("BTC-EUR", "ETH-EUR", "SOL-EUR", "ADA-EUR")

GOOD = PreflightFacts(
    now=NOW,
    global_kill=False,
    user_kill=False,
    profile_trading_enabled=True,
    status="APPROVED",
    market="BTC-EUR",
    side=Side.BUY,
    amount_eur=Decimal("50.00"),
    amount_base=None,
    confidence=75,
    expires_at=NOW + timedelta(minutes=10),
    override_cooldown=False,
    override_anti_flip=False,
    allowlist=frozenset({"BTC-EUR", "ETH-EUR"}),
    min_order_eur=Decimal("10.00"),
    max_order_eur=Decimal("100.00"),
    allowed_confidences=frozenset({50, 75, 100}),
    min_confidence=50,
    cooldown_minutes=30,
    anti_flip_minutes=120,
    max_trades_per_day=10,
    max_trades_per_hour=3,
    trades_today=0,
    trades_last_hour=0,
    last_trade=None,
    available_eur=Decimal("1000.00"),
    position_quantity=Decimal("0"),
    exchange_min_order_eur=Decimal("5.00"),
)


def good(**changes: Any) -> PreflightFacts:
    """Return the all-good facts with `changes` applied."""
    return replace(GOOD, **changes)


def traded(ago: timedelta, last_side: Side = Side.BUY, /, **changes: Any) -> PreflightFacts:
    """Return the all-good facts (a buy) with a last trade `ago` before NOW on `last_side`."""
    return good(last_trade=LastTrade(at=NOW - ago, side=last_side), **changes)


def codes(facts: PreflightFacts) -> tuple[ReasonCode, ...]:
    """Return the reason codes decide() gives for `facts`."""
    return decide(facts).codes
