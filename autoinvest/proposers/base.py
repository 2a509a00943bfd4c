"""The Proposer protocol and the values it works on. Pure: no I/O, no clock; money is Decimal.

A proposer gets one :class:`Snapshot` (prices, candle closes, balances, position and the policy limits of one
profile, for one scan window) and returns :class:`Proposals`: drafts to write, and the reasons for anything it
refused to propose (an LLM's malformed output, for example). It never decides whether a draft may trade: that
is the pre-flight's job at execution.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Literal, Protocol

from autoinvest.domain.states import CONFIDENCE_BUCKETS, Side

Source = Literal["rules", "llm"]
EUR_QUANTUM = Decimal("0.01")


@dataclass(frozen=True, kw_only=True)
class ProposalDraft:
    """One proposal before it is written: a buy sized in EUR or a sell sized in base (never both)."""

    market: str
    side: Side
    confidence: int
    rationale: str
    amount_eur: Decimal | None = None
    amount_base: Decimal | None = None

    def __post_init__(self) -> None:
        if self.confidence not in CONFIDENCE_BUCKETS:
            raise ValueError(f"confidence {self.confidence} is not one of {sorted(CONFIDENCE_BUCKETS)}")
        if (self.amount_eur is None) == (self.amount_base is None):
            raise ValueError("a draft has exactly one of amount_eur and amount_base")
        amount = self.amount_eur if self.amount_eur is not None else self.amount_base
        if amount is None or not amount.is_finite() or amount <= 0:
            raise ValueError("the amount must be a positive finite Decimal")
        if self.side is Side.SELL and self.amount_base is None:
            raise ValueError("a sell is sized in base (amount_base): the pre-flight denies other sells")


@dataclass(frozen=True)
class Rejection:
    """Why a proposer made no proposal (a stable upper-case reason code and a short detail)."""

    reason: str
    detail: str = ""


@dataclass(frozen=True)
class Proposals:
    drafts: tuple[ProposalDraft, ...] = ()
    rejections: tuple[Rejection, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Limits:
    """The part of a profile's policy a proposer needs."""

    allowlist: tuple[str, ...]
    min_order_eur: Decimal
    max_order_eur: Decimal
    allowed_confidences: tuple[int, ...]
    min_confidence: int


@dataclass(frozen=True, kw_only=True)
class MarketView:
    """One allowlisted market at the scan: last price, candle closes (oldest first), the profile's position."""

    market: str
    price: Decimal | None
    closes: tuple[Decimal, ...]
    position: Decimal  #: the profile's position (base units), from the database
    base_available: Decimal  #: the account's available balance of the base asset on the exchange
    quantity_decimals: int = 8
    min_order_eur: Decimal = Decimal(0)  #: the exchange's minimum order in quote


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    """Everything a proposer may look at for one profile in one scan window."""

    profile_id: str
    strategy: str
    scan_window: datetime
    interval_seconds: int
    candle_interval: str
    eur_available: Decimal  #: min(exchange EUR available, the profile's free capital)
    limits: Limits
    markets: Mapping[str, MarketView] = field(default_factory=dict)

    def sellable(self, market: str) -> Decimal:
        """Base units the profile may sell: its own position, bounded by what the exchange holds."""
        view = self.markets[market]
        return max(Decimal(0), min(view.position, view.base_available))


class Proposer(Protocol):
    """Snapshot in, drafts (and the reasons of refusals) out."""

    @property
    def source(self) -> Source: ...

    async def propose(self, snapshot: Snapshot) -> Proposals: ...


def quantize_eur(amount: Decimal) -> Decimal:
    """Whole cents, rounded down (never propose more than computed)."""
    return amount.quantize(EUR_QUANTUM, rounding=ROUND_DOWN)


def quantize_base(amount: Decimal, decimals: int) -> Decimal:
    """The market's quantity precision, rounded down (never sell more than held)."""
    return amount.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_DOWN)
