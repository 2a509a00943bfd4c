"""Rule proposers: deterministic drafts for hand-made candle series; signal strength → confidence buckets."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autoinvest.domain.states import CONFIDENCE_BUCKETS, Side
from autoinvest.proposers import rules
from autoinvest.proposers.base import ProposalDraft
from tests.unit.proposers.factory import closes, snapshot, view

FLAT = closes(*([100] * 20))
# 15 closes at 100, then 5 at 103: SMA5 = 103, SMA20 = 100.75, gap +2.23% → bucket 100
RISING = closes(*([100] * 15 + [103] * 5))
# 15 at 100, then 5 at 99.5: SMA5 = 99.5, SMA20 = 99.875, gap -0.375% → bucket 25
SLIPPING = closes(*([100] * 15 + ["99.5"] * 5))


@pytest.mark.parametrize(("strength", "expected"), [
    ("0", 0), ("0.0024", 0), ("0.0025", 25), ("-0.0049", 25), ("0.005", 50), ("0.0099", 50), ("-0.01", 75),
    ("0.0199", 75), ("0.02", 100), ("-0.5", 100),
])
def test_momentum_buckets(strength: str, expected: int) -> None:
    assert rules.bucket(Decimal(strength), rules.MOMENTUM_THRESHOLDS) == expected


@pytest.mark.parametrize(("z", "expected"), [("0.99", 0), ("1", 25), ("-1.49", 25), ("1.5", 50), ("2.49", 75),
                                             ("-2.5", 100), ("9", 100)])
def test_z_buckets(z: str, expected: int) -> None:
    assert rules.bucket(Decimal(z), rules.Z_THRESHOLDS) == expected


@given(st.decimals(allow_nan=False, allow_infinity=False, places=6, min_value=-10, max_value=10))
def test_bucket_is_always_a_confidence_and_symmetric(strength: Decimal) -> None:
    up = rules.bucket(strength, rules.MOMENTUM_THRESHOLDS)
    assert up in CONFIDENCE_BUCKETS
    assert up == rules.bucket(-strength, rules.MOMENTUM_THRESHOLDS)


def test_dca_buys_the_minimum_order_of_each_allowlisted_market_while_eur_lasts() -> None:
    snap = snapshot(view("BTC-EUR", FLAT), view("ETH-EUR", FLAT), view("SOL-EUR", FLAT), eur="25", min_eur="10",
                    strategy="dca")
    result = rules.dca(snap)
    assert result.drafts == (
        ProposalDraft(market="BTC-EUR", side=Side.BUY, amount_eur=Decimal("10.00"), confidence=75,
                      rationale="DCA: buy 10.00 EUR of BTC-EUR every 300 s"),
        ProposalDraft(market="ETH-EUR", side=Side.BUY, amount_eur=Decimal("10.00"), confidence=75,
                      rationale="DCA: buy 10.00 EUR of ETH-EUR every 300 s"),
    )


def test_dca_raises_the_amount_to_the_exchange_minimum_and_respects_the_allowlist() -> None:
    snap = snapshot(view("BTC-EUR", FLAT, min_order_eur="12.5"), view("ETH-EUR", FLAT), min_eur="5",
                    allowlist=("BTC-EUR",))
    assert [(d.market, d.amount_eur) for d in rules.dca(snap).drafts] == [("BTC-EUR", Decimal("12.50"))]


def test_momentum_up_buys_sized_by_confidence() -> None:
    result = rules.momentum(snapshot(view("BTC-EUR", RISING)))
    (draft,) = result.drafts
    assert (draft.side, draft.confidence, draft.amount_eur, draft.amount_base) == (Side.BUY, 100, Decimal("100.00"),
                                                                                    None)
    assert "SMA5 103.00 vs SMA20 100.75 (+2.23%)" in draft.rationale


def test_momentum_down_sells_a_share_of_the_position_in_base() -> None:
    result = rules.momentum(snapshot(view("BTC-EUR", SLIPPING, position="0.4", base_available="1")))
    (draft,) = result.drafts
    assert (draft.side, draft.confidence, draft.amount_base, draft.amount_eur) == (Side.SELL, 25, Decimal("0.1"),
                                                                                    None)


def test_sells_never_exceed_what_the_exchange_holds() -> None:
    result = rules.momentum(snapshot(view("BTC-EUR", SLIPPING, position="0.4", base_available="0.2")))
    assert result.drafts[0].amount_base == Decimal("0.05")


def test_no_position_no_sell_and_flat_or_short_series_no_signal() -> None:
    assert rules.momentum(snapshot(view("BTC-EUR", SLIPPING))).drafts == ()
    assert rules.momentum(snapshot(view("BTC-EUR", FLAT))).drafts == ()
    assert rules.momentum(snapshot(view("BTC-EUR", RISING[-10:]))).drafts == ()
    assert rules.mean_reversion(snapshot(view("BTC-EUR", FLAT))).drafts == ()


def test_momentum_buy_is_capped_by_available_eur_and_dropped_below_the_minimum() -> None:
    assert rules.momentum(snapshot(view("BTC-EUR", RISING), eur="42.999")).drafts[0].amount_eur == Decimal("42.99")
    assert rules.momentum(snapshot(view("BTC-EUR", RISING), eur="9.99")).drafts == ()


def test_mean_reversion_buys_below_the_mean_and_sells_above() -> None:
    dip = closes(*([100, 102] * 9 + [101, 95]))  # last close far below the mean
    spike = closes(*([100, 102] * 9 + [101, 108]))
    (buy,) = rules.mean_reversion(snapshot(view("ETH-EUR", dip))).drafts
    assert buy.side is Side.BUY and buy.confidence == 100 and buy.amount_eur == Decimal("100.00")
    assert "z-score -3.53" in buy.rationale  # mean 100.7, variance 2.61: z = -5.7 / 1.6155
    (sell,) = rules.mean_reversion(snapshot(view("ETH-EUR", spike, position="2"))).drafts
    assert sell.side is Side.SELL and sell.confidence == 100 and sell.amount_base == Decimal("2")


def test_outputs_are_deterministic() -> None:
    snap = snapshot(view("BTC-EUR", RISING), view("ETH-EUR", SLIPPING, position="1"))
    assert rules.momentum(snap) == rules.momentum(snap)
    assert [d.market for d in rules.momentum(snap).drafts] == ["BTC-EUR", "ETH-EUR"]


def test_a_draft_refuses_a_sell_in_eur_and_a_wrong_bucket() -> None:
    with pytest.raises(ValueError, match="sized in base"):
        ProposalDraft(market="BTC-EUR", side=Side.SELL, amount_eur=Decimal(10), confidence=50, rationale="")
    with pytest.raises(ValueError, match="confidence"):
        ProposalDraft(market="BTC-EUR", side=Side.BUY, amount_eur=Decimal(10), confidence=60, rationale="")


def test_unknown_strategy_name() -> None:
    with pytest.raises(ValueError, match="llm"):
        rules.rule_proposer("llm")
