"""The snapshot refuses malformed values before any rule sees them."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from autoinvest.domain.states import Side
from autoinvest.policy import KillSwitches, LastTrade, to_jsonable
from tests.unit.policy.factory import GOOD, NOW, good

NAIVE = datetime(2026, 3, 10, 12, 0, 0)


def test_facts_are_frozen() -> None:
    with pytest.raises(FrozenInstanceError):
        GOOD.global_kill = True  # type: ignore[misc]


@pytest.mark.parametrize("field", ["now", "expires_at"])
def test_naive_datetimes_are_refused(field: str) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        good(**{field: NAIVE})


def test_a_naive_last_trade_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        good(last_trade=LastTrade(at=NAIVE, side=Side.BUY))


@pytest.mark.parametrize(
    "field",
    ["amount_eur", "amount_base", "min_order_eur", "max_order_eur", "available_eur", "position_quantity",
     "exchange_min_order_eur", "fee_headroom_eur"],
)  # fmt: skip
def test_float_money_is_refused(field: str) -> None:
    with pytest.raises(TypeError, match="Decimal"):
        good(**{field: 10.0})


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_money_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="finite"):
        good(amount_eur=Decimal(value))


@pytest.mark.parametrize(
    "field",
    ["cooldown_minutes", "anti_flip_minutes", "max_trades_per_day", "max_trades_per_hour", "trades_today",
     "trades_last_hour"],
)  # fmt: skip
def test_negative_counts_are_refused(field: str) -> None:
    with pytest.raises(ValueError, match="negative"):
        good(**{field: -1})


def test_the_kill_switch_part_of_the_snapshot() -> None:
    facts = good(user_kill=True)
    assert facts.kill_switches == KillSwitches(global_kill=False, user_kill=True, profile_trading_enabled=True)


def test_values_without_a_json_form_are_refused() -> None:
    assert to_jsonable(NOW + timedelta(seconds=1)) == "2026-03-10T12:00:01+00:00"
    with pytest.raises(TypeError, match="no JSON form"):
        to_jsonable(1.5)
