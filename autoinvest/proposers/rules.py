"""Rule-based proposers: deterministic functions of the snapshot, no network, no clock.

dca             buy a fixed EUR amount of every allowlisted market each scan window (confidence 75); the
                amount is the policy's minimum order (raised to the exchange minimum), while EUR lasts.
momentum        SMA crossover of the last closes: the short average above the long one buys, below sells.
mean_reversion  z-score of the last close against the last closes: far below the mean buys, far above sells.

Signal strength maps to the confidence buckets {0, 25, 50, 75, 100} by fixed thresholds; a 0 makes no
proposal. Buys are sized in EUR between the policy's min and max order by confidence; sells in base, as a
share of what the profile holds (never more than its position nor the exchange balance).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from autoinvest.domain.states import Side
from autoinvest.proposers.base import (
    MarketView,
    ProposalDraft,
    Proposals,
    Snapshot,
    Source,
    quantize_base,
    quantize_eur,
)

DCA_CONFIDENCE = 75
SHORT_WINDOW = 5
LONG_WINDOW = 20
Z_WINDOW = 20
#: |short SMA / long SMA - 1| at or above each threshold reaches the bucket (25, 50, 75, 100).
MOMENTUM_THRESHOLDS: tuple[Decimal, ...] = (Decimal("0.0025"), Decimal("0.005"), Decimal("0.01"), Decimal("0.02"))
#: |z| at or above each threshold reaches the bucket (25, 50, 75, 100).
Z_THRESHOLDS: tuple[Decimal, ...] = (Decimal("1"), Decimal("1.5"), Decimal("2"), Decimal("2.5"))
BUCKETS = (0, 25, 50, 75, 100)

Strategy = Callable[[Snapshot], Proposals]


def bucket(strength: Decimal, thresholds: Sequence[Decimal]) -> int:
    """The confidence bucket of a signal strength (its absolute value) under four ascending thresholds."""
    if len(thresholds) != 4 or list(thresholds) != sorted(thresholds):
        raise ValueError("four ascending thresholds")
    magnitude = abs(strength)
    reached = sum(1 for t in thresholds if magnitude >= t)
    return BUCKETS[reached]


def sma(closes: Sequence[Decimal], n: int) -> Decimal:
    """Mean of the last ``n`` closes."""
    if n <= 0 or len(closes) < n:
        raise ValueError(f"need {n} closes, have {len(closes)}")
    return sum(closes[-n:], Decimal(0)) / n


def zscore(closes: Sequence[Decimal], n: int) -> Decimal | None:
    """(last - mean) / population standard deviation of the last ``n`` closes; None when flat or too short."""
    if len(closes) < n or n < 2:
        return None
    window = closes[-n:]
    mean = sum(window, Decimal(0)) / n
    variance = sum(((c - mean) ** 2 for c in window), Decimal(0)) / n
    if variance == 0:
        return None
    return (window[-1] - mean) / variance.sqrt()


def buy_amount(snapshot: Snapshot, view: MarketView, confidence: int) -> Decimal | None:
    """min + (max - min) * confidence/100, capped by available EUR; None when below the minimums."""
    limits = snapshot.limits
    floor = max(limits.min_order_eur, view.min_order_eur)
    amount = limits.min_order_eur + (limits.max_order_eur - limits.min_order_eur) * confidence / 100
    amount = quantize_eur(min(amount, limits.max_order_eur, snapshot.eur_available))
    return amount if amount >= floor and amount > 0 else None


def sell_amount(snapshot: Snapshot, view: MarketView, confidence: int) -> Decimal | None:
    """confidence% of what the profile may sell, in base; None when nothing is held."""
    amount = quantize_base(snapshot.sellable(view.market) * confidence / 100, view.quantity_decimals)
    return amount if amount > 0 else None


def _signal_draft(snapshot: Snapshot, view: MarketView, strength: Decimal, confidence: int,
                  why: str) -> ProposalDraft | None:
    if confidence == 0:
        return None
    if strength > 0:
        eur = buy_amount(snapshot, view, confidence)
        return None if eur is None else ProposalDraft(
            market=view.market, side=Side.BUY, amount_eur=eur, confidence=confidence, rationale=why)
    base = sell_amount(snapshot, view, confidence)
    return None if base is None else ProposalDraft(
        market=view.market, side=Side.SELL, amount_base=base, confidence=confidence, rationale=why)


def _markets(snapshot: Snapshot) -> list[MarketView]:
    return [snapshot.markets[m] for m in sorted(snapshot.limits.allowlist) if m in snapshot.markets]


def dca(snapshot: Snapshot) -> Proposals:
    """Buy a fixed EUR amount of each allowlisted market, in allowlist order, while EUR lasts."""
    drafts: list[ProposalDraft] = []
    remaining = snapshot.eur_available
    for view in _markets(snapshot):
        amount = quantize_eur(max(snapshot.limits.min_order_eur, view.min_order_eur))
        if amount > snapshot.limits.max_order_eur or amount > remaining or view.price is None:
            continue
        remaining -= amount
        drafts.append(ProposalDraft(market=view.market, side=Side.BUY, amount_eur=amount, confidence=DCA_CONFIDENCE,
                                    rationale=f"DCA: buy {amount} EUR of {view.market} every "
                                              f"{snapshot.interval_seconds} s"))
    return Proposals(tuple(drafts))


def momentum(snapshot: Snapshot) -> Proposals:
    """SMA(5) vs SMA(20) of the closes: the relative gap's sign is the side, its size the confidence."""
    drafts: list[ProposalDraft] = []
    for view in _markets(snapshot):
        if len(view.closes) < LONG_WINDOW:
            continue
        short, long = sma(view.closes, SHORT_WINDOW), sma(view.closes, LONG_WINDOW)
        strength = (short - long) / long
        confidence = bucket(strength, MOMENTUM_THRESHOLDS)
        why = (f"momentum: SMA{SHORT_WINDOW} {short:.2f} vs SMA{LONG_WINDOW} {long:.2f} "
               f"({strength * 100:+.2f}%) on {snapshot.candle_interval} candles")
        draft = _signal_draft(snapshot, view, strength, confidence, why)
        if draft is not None:
            drafts.append(draft)
    return Proposals(tuple(drafts))


def mean_reversion(snapshot: Snapshot) -> Proposals:
    """z-score of the last close over 20 closes: below the mean buys, above sells (the sign is reversed)."""
    drafts: list[ProposalDraft] = []
    for view in _markets(snapshot):
        z = zscore(view.closes, Z_WINDOW)
        if z is None:
            continue
        confidence = bucket(z, Z_THRESHOLDS)
        why = f"mean reversion: z-score {z:+.2f} of the last close over {Z_WINDOW} {snapshot.candle_interval} candles"
        draft = _signal_draft(snapshot, view, -z, confidence, why)
        if draft is not None:
            drafts.append(draft)
    return Proposals(tuple(drafts))


STRATEGIES: dict[str, Strategy] = {"dca": dca, "momentum": momentum, "mean_reversion": mean_reversion}


@dataclass(frozen=True)
class RuleProposer:
    """A rule strategy as a Proposer."""

    strategy: Strategy

    @property
    def source(self) -> Source:
        return "rules"

    async def propose(self, snapshot: Snapshot) -> Proposals:
        return self.strategy(snapshot)


def rule_proposer(name: str) -> RuleProposer:
    """The rule proposer of a profile's strategy name (dca, momentum, mean_reversion)."""
    try:
        return RuleProposer(STRATEGIES[name])
    except KeyError:
        raise ValueError(f"no rule strategy {name!r}") from None
