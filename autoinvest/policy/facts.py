"""One snapshot of every fact the pre-flight rules read.

The executor builds it in one query inside the claim transaction; the rules
never look anything up themselves, so the same snapshot always gives the same
decision and is recorded next to it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Protocol

from autoinvest.domain.states import Side

JSONValue = str | int | bool | None | list["JSONValue"] | dict[str, "JSONValue"]


class KillSwitchFacts(Protocol):
    """The three switches, alone: what the submit step re-checks just before the exchange call."""

    @property
    def global_kill(self) -> bool: ...
    @property
    def user_kill(self) -> bool: ...
    @property
    def profile_trading_enabled(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class KillSwitches:
    """The kill-switch facts without the rest of the snapshot."""

    global_kill: bool  #: the operator stopped all trading for every user
    user_kill: bool  #: the user stopped all trading for all their profiles
    profile_trading_enabled: bool  #: the profile may trade at all (False = profile switched off)


@dataclass(frozen=True, slots=True)
class LastTrade:
    """The most recent trade on this profile+market: a fill or a live execution (CLAIMED/SUBMITTING/SUBMITTED)."""

    at: datetime  #: when it was claimed or filled (database time, tz-aware)
    side: Side  #: its side; anti-flip compares it with the proposal's side


@dataclass(frozen=True, slots=True, kw_only=True)
class PreflightFacts:
    """Everything the rules may read, captured at one instant (see module docstring)."""

    # -- clock --
    now: datetime  #: database time of the snapshot (tz-aware); the rules never read a clock

    # -- kill switches --
    global_kill: bool  #: the operator stopped all trading for every user
    user_kill: bool  #: the user stopped all trading for all their profiles
    profile_trading_enabled: bool  #: the profile may trade at all (False = profile switched off)

    # -- the proposal --
    status: str  #: proposal status (ProposalStatus value); only "APPROVED" may execute
    market: str  #: canonical market id, e.g. "BTC-EUR" (compared exactly with the allowlist)
    side: Side  #: buy or sell
    amount_eur: Decimal  #: order size in EUR; for a sell sized in base, the caller's EUR value estimate
    amount_base: Decimal | None  #: order size in the base asset (required for sells, None for EUR-sized buys)
    confidence: int  #: the proposer's confidence, expected in CONFIDENCE_BUCKETS
    expires_at: datetime  #: the proposal may not execute at or after this instant (tz-aware)
    override_cooldown: bool  #: explicit, audited flag: skip the cooldown rule (and only it)
    override_anti_flip: bool  #: explicit, audited flag: skip the anti-flip rule (and only it)

    # -- the profile's policy --
    allowlist: frozenset[str]  #: markets this profile may trade; empty denies everything
    min_order_eur: Decimal  #: smallest order the policy accepts, EUR, inclusive
    max_order_eur: Decimal  #: largest order the policy accepts, EUR, inclusive
    allowed_confidences: frozenset[int]  #: confidence buckets the policy accepts
    min_confidence: int  #: lowest confidence the policy accepts, inclusive
    cooldown_minutes: int  #: minutes after any trade on this market before the next; 0 disables
    anti_flip_minutes: int  #: minutes after a trade before one on the opposite side; 0 disables
    max_trades_per_day: int  #: most trades per UTC day for the profile; 0 denies all
    max_trades_per_hour: int  #: most trades in the last 60 minutes for the profile; 0 denies all

    # -- activity (fills AND live executions, so in-flight orders count) --
    trades_today: int  #: trades of this profile since 00:00 UTC of `now`'s day
    trades_last_hour: int  #: trades of this profile in (now - 60 min, now]
    last_trade: LastTrade | None  #: most recent trade on this profile+market, None if never

    # -- capital and position --
    available_eur: Decimal  #: allocated - reserved_for_orders - reserved_for_positions + realized_pnl
    position_quantity: Decimal  #: base-asset quantity the profile holds in this market (limits sells)
    fee_headroom_eur: Decimal = Decimal(0)  #: the largest fee a buy may add on top of amount_eur (reserved with it)

    # -- exchange metadata --
    exchange_min_order_eur: Decimal | None  #: exchange's minimum order in EUR (cached); None = unknown

    def __post_init__(self) -> None:
        # Fail fast on malformed snapshots: a naive datetime would raise mid-rule, a float would lose cents.
        for name in ("now", "expires_at"):
            _require_aware(name, getattr(self, name))
        if self.last_trade is not None:
            _require_aware("last_trade.at", self.last_trade.at)
        for name in ("amount_eur", "min_order_eur", "max_order_eur", "available_eur", "position_quantity",
                     "fee_headroom_eur"):
            _require_decimal(name, getattr(self, name))
        for name in ("amount_base", "exchange_min_order_eur"):
            if getattr(self, name) is not None:
                _require_decimal(name, getattr(self, name))
        for name in ("cooldown_minutes", "anti_flip_minutes", "max_trades_per_day", "max_trades_per_hour",
                     "trades_today", "trades_last_hour"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)}")

    @property
    def kill_switches(self) -> KillSwitches:
        """Return the kill-switch part of the snapshot."""
        return KillSwitches(
            global_kill=self.global_kill,
            user_kill=self.user_kill,
            profile_trading_enabled=self.profile_trading_enabled,
        )


def facts_to_json(facts: PreflightFacts) -> dict[str, JSONValue]:
    """Return the snapshot as a JSON-safe dict (Decimals as strings, datetimes ISO 8601)."""
    return {field.name: to_jsonable(getattr(facts, field.name)) for field in fields(facts)}


def to_jsonable(value: object) -> JSONValue:
    """Convert a fact value to JSON: Decimal→str, datetime→ISO, sets→sorted lists, enums→values."""
    if isinstance(value, Enum):
        return to_jsonable(value.value)
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, frozenset | set):
        return [to_jsonable(item) for item in sorted(value)]
    if isinstance(value, LastTrade | KillSwitches):
        return {field.name: to_jsonable(getattr(value, field.name)) for field in fields(value)}
    raise TypeError(f"no JSON form for {type(value).__name__}")


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")


def _require_decimal(name: str, value: object) -> None:
    if not isinstance(value, Decimal):
        raise TypeError(f"{name} must be a Decimal, got {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"{name} must be finite, got {value}")
