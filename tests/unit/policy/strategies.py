"""Hypothesis strategies for fact sets: arbitrary (biased to the boundaries) and all-good.

Every strategy is built once at import: building strategies inside a draw costs most of the run time.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import strategies as st

from autoinvest.domain.states import CONFIDENCE_BUCKETS, ProposalStatus, Side
from autoinvest.policy import LastTrade, PreflightFacts
from tests.unit.policy.factory import MARKETS, NOW

BUCKETS = sorted(CONFIDENCE_BUCKETS)
CENT = Decimal("0.01")
BASE_UNIT = Decimal("0.0001")

BOOL = st.booleans()
SIDE = st.sampled_from(Side)
MARKET = st.sampled_from(MARKETS)
MARKET_SET = st.frozensets(MARKET)
BUCKET = st.sampled_from(BUCKETS)
BUCKET_SET = st.frozensets(BUCKET)
EDGE = st.sampled_from((-1, 0, 1))  # offset from a boundary, in the boundary's unit
CENTS = st.integers(0, 200_000)
BASE_UNITS = st.integers(0, 100_000)
SECONDS = st.integers(-120, 6 * 3600)
COOLDOWN_MINUTES = st.integers(0, 120)
ANTI_FLIP_MINUTES = st.integers(0, 240)
PICK_OF_3 = st.integers(0, 2)
SMALL_CENTS = st.integers(0, 2000)
PICK_OF_4 = st.integers(0, 3)
DAY_CAP = st.integers(0, 20)
HOUR_CAP = st.integers(0, 6)
DAY_COUNT = st.integers(0, 25)
HOUR_COUNT = st.integers(0, 8)
EXPIRY_SECONDS = st.integers(-3600, 3600)
ANY_CONFIDENCE = st.integers(-10, 110)
SPREAD = st.integers(0, 10**9)
PICK_OF_5 = st.integers(0, 4)
POSITIVE_DAY_CAP = st.integers(1, 20)
POSITIVE_HOUR_CAP = st.integers(1, 6)
STATUS = st.sampled_from([*ProposalStatus, "APPROVED"])
APPROVED = st.sampled_from(["APPROVED", ProposalStatus.APPROVED])
NONEMPTY_BUCKET_SET = st.frozensets(BUCKET, min_size=1)


def cents(units: int) -> Decimal:
    """Return `units` cents as EUR."""
    return units * CENT


def money(low: Decimal, high: Decimal) -> st.SearchStrategy[Decimal]:
    """Return EUR amounts with cents between `low` and `high`."""
    return st.integers(int(low / CENT), int(high / CENT)).map(cents)


@st.composite
def any_facts(draw: st.DrawFn) -> PreflightFacts:
    """Draw any valid snapshot, often at a rule's boundary."""
    cooldown, anti_flip = draw(COOLDOWN_MINUTES), draw(ANTI_FLIP_MINUTES)
    pick = draw(PICK_OF_3)
    age_seconds = draw(SECONDS) if pick == 0 else (cooldown if pick == 1 else anti_flip) * 60 + draw(EDGE)
    last_trade = LastTrade(at=NOW - timedelta(seconds=age_seconds), side=draw(SIDE)) if draw(BOOL) else None
    min_order, max_order, available = cents(draw(CENTS)), cents(draw(CENTS)), cents(draw(CENTS))
    exchange_min = cents(draw(SMALL_CENTS)) if draw(BOOL) else None
    edges = (min_order, max_order, available, exchange_min or min_order)
    amount = cents(draw(CENTS)) if draw(BOOL) else edges[draw(PICK_OF_4)] + draw(EDGE) * CENT
    position = draw(BASE_UNITS) * BASE_UNIT
    fee_headroom = cents(draw(SMALL_CENTS))
    amount_base = (None, draw(BASE_UNITS) * BASE_UNIT, position)[draw(PICK_OF_3)]
    max_day, max_hour = draw(DAY_CAP), draw(HOUR_CAP)
    trades_today = draw(DAY_COUNT) if draw(BOOL) else max(0, max_day + draw(EDGE))
    trades_last_hour = draw(HOUR_COUNT) if draw(BOOL) else max(0, max_hour + draw(EDGE))
    expires_in = draw(EXPIRY_SECONDS) if draw(BOOL) else draw(EDGE)
    return PreflightFacts(
        now=NOW,
        global_kill=draw(BOOL),
        user_kill=draw(BOOL),
        profile_trading_enabled=draw(BOOL),
        status=draw(STATUS),
        market=draw(MARKET),
        side=draw(SIDE),
        amount_eur=amount,
        amount_base=amount_base,
        confidence=draw(BUCKET) if draw(BOOL) else draw(ANY_CONFIDENCE),
        expires_at=NOW + timedelta(seconds=expires_in),
        override_cooldown=draw(BOOL),
        override_anti_flip=draw(BOOL),
        allowlist=draw(MARKET_SET),
        min_order_eur=min_order,
        max_order_eur=max_order,
        allowed_confidences=draw(BUCKET_SET),
        min_confidence=draw(BUCKET),
        cooldown_minutes=cooldown,
        anti_flip_minutes=anti_flip,
        max_trades_per_day=max_day,
        max_trades_per_hour=max_hour,
        trades_today=trades_today,
        trades_last_hour=trades_last_hour,
        last_trade=last_trade,
        available_eur=available,
        position_quantity=position,
        fee_headroom_eur=fee_headroom,
        exchange_min_order_eur=exchange_min,
    )


def _within(draw: st.DrawFn, low: int, high: int) -> int:
    # An integer in [low, high], at either end a third of the time each (the edges are where rules break).
    pick = draw(PICK_OF_3)
    return low if pick == 0 else high if pick == 1 else low + draw(SPREAD) % (high - low + 1)


@st.composite
def good_facts(draw: st.DrawFn) -> PreflightFacts:
    """Draw a snapshot built to pass every rule, often exactly at the boundaries."""
    min_cents = _within(draw, 1, 10_000)
    max_cents = _within(draw, min_cents, 100_000)
    exchange_min = cents(_within(draw, 1, min_cents)) if draw(BOOL) else None
    amount_cents = _within(draw, min_cents, max_cents)
    side = draw(SIDE)
    position_units = _within(draw, 1, 100_000)
    amount_base = _within(draw, 1, position_units) * BASE_UNIT if side == Side.SELL else None
    allowed = draw(NONEMPTY_BUCKET_SET)
    confidence = sorted(allowed)[draw(PICK_OF_5) % len(allowed)]
    cooldown, anti_flip = draw(COOLDOWN_MINUTES), draw(ANTI_FLIP_MINUTES)
    last_side = draw(SIDE)
    override_cooldown, override_anti_flip = draw(BOOL), draw(BOOL)
    # The last trade is old enough for every pacing rule that applies and is not overridden.
    needed = max(0 if override_cooldown else cooldown, 0 if override_anti_flip or last_side == side else anti_flip)
    age = timedelta(minutes=needed, seconds=_within(draw, 0, 86_400))
    last_trade = LastTrade(at=NOW - age, side=last_side) if draw(BOOL) else None
    market = draw(MARKET)
    max_day, max_hour = draw(POSITIVE_DAY_CAP), draw(POSITIVE_HOUR_CAP)
    spare, fee_headroom_cents = _within(draw, 0, 100_000), _within(draw, 0, 2000)
    return PreflightFacts(
        now=NOW,
        global_kill=False,
        user_kill=False,
        profile_trading_enabled=True,
        status=draw(APPROVED),
        market=market,
        side=side,
        amount_eur=cents(amount_cents),
        amount_base=amount_base,
        confidence=confidence,
        expires_at=NOW + timedelta(microseconds=_within(draw, 1, 10**10)),
        override_cooldown=override_cooldown,
        override_anti_flip=override_anti_flip,
        allowlist=draw(MARKET_SET) | {market},
        min_order_eur=cents(min_cents),
        max_order_eur=cents(max_cents),
        allowed_confidences=allowed,
        min_confidence=_within(draw, 0, confidence),
        cooldown_minutes=cooldown,
        anti_flip_minutes=anti_flip,
        max_trades_per_day=max_day,
        max_trades_per_hour=max_hour,
        trades_today=_within(draw, 0, max_day - 1),
        trades_last_hour=_within(draw, 0, max_hour - 1),
        last_trade=last_trade,
        # A sell is not limited by EUR at all, so give it none.
        available_eur=cents(amount_cents + fee_headroom_cents + spare) if side == Side.BUY else Decimal("0"),
        position_quantity=position_units * BASE_UNIT,
        fee_headroom_eur=cents(fee_headroom_cents),
        exchange_min_order_eur=exchange_min,
    )
