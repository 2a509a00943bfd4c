"""One pure rule per check: `check_x(facts) -> Reason | None`, one reason code each.

No rule reads a clock, a database or the network; `facts.now` is the only time.
Boundaries (each one has a test at the exact edge):

- expiry: expired when ``now >= expires_at``.
- cooldown: denied while ``now - last_trade.at < cooldown_minutes`` (either side); allowed at exactly N minutes;
  0 disables; skipped only by ``override_cooldown``.
- anti-flip: denied while the last trade is on the OPPOSITE side and ``now - last_trade.at < anti_flip_minutes``;
  allowed at exactly N minutes; 0 disables; skipped only by ``override_anti_flip``.
- caps: denied when ``trades_today >= max_trades_per_day`` (so with N-1 trades the N-th is allowed); same per hour.
- sizes: below policy min when ``amount_eur < min_order_eur`` (or not positive); above max when
  ``amount_eur > max_order_eur``; below exchange min when ``amount_eur < exchange_min_order_eur`` (None = unknown,
  not checked here: the exchange still rejects it definitively, which places nothing).
- confidence: not allowed when outside ``allowed_confidences`` or outside the five buckets; below min when
  ``confidence < min_confidence``.
- allowlist: empty denies everything (ALLOWLIST_EMPTY_DENY_BY_DEFAULT alone, not MARKET_NOT_ALLOWED as well).
- capital: a buy needs ``amount_eur + fee_headroom_eur <= available_eur``; a sell needs
  ``amount_base <= position_quantity`` (a sell sized in EUR is converted to base at the best bid before the claim;
  one still without ``amount_base`` cannot be proven covered and is denied);
  both deny as INSUFFICIENT_CAPITAL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from types import MappingProxyType

from autoinvest.domain.states import CONFIDENCE_BUCKETS, ProposalStatus, Side
from autoinvest.policy.facts import KillSwitchFacts, PreflightFacts
from autoinvest.policy.reasons import Reason, ReasonCode

Rule = Callable[[PreflightFacts], Reason | None]
KillSwitchRule = Callable[[KillSwitchFacts], Reason | None]

# -- kill switches (also re-checked alone just before the exchange call) --


def check_kill_switch_global(facts: KillSwitchFacts) -> Reason | None:
    """Deny when the operator's global kill switch is on."""
    if facts.global_kill:
        return Reason(ReasonCode.KILL_SWITCH_GLOBAL, "The global kill switch is on: all trading is stopped.")
    return None


def check_kill_switch_user(facts: KillSwitchFacts) -> Reason | None:
    """Deny when the user's kill switch is on."""
    if facts.user_kill:
        return Reason(ReasonCode.KILL_SWITCH_USER, "The user's kill switch is on: all their trading is stopped.")
    return None


def check_kill_switch_profile(facts: KillSwitchFacts) -> Reason | None:
    """Deny when trading is disabled on the profile."""
    if not facts.profile_trading_enabled:
        return Reason(ReasonCode.KILL_SWITCH_PROFILE, "Trading is disabled on this profile.")
    return None


# -- the proposal --


def check_proposal_approved(facts: PreflightFacts) -> Reason | None:
    """Deny unless the proposal's status is APPROVED."""
    if facts.status != ProposalStatus.APPROVED:
        return Reason(ReasonCode.PROPOSAL_NOT_APPROVED, f"Proposal status is {facts.status!r}, not 'APPROVED'.")
    return None


def check_proposal_not_expired(facts: PreflightFacts) -> Reason | None:
    """Deny when now is at or after the proposal's expiry."""
    if facts.now >= facts.expires_at:
        return Reason(
            ReasonCode.PROPOSAL_EXPIRED,
            f"Proposal expired at {_iso(facts.expires_at)}; now is {_iso(facts.now)}.",
        )
    return None


# -- allowlist --


def check_allowlist_not_empty(facts: PreflightFacts) -> Reason | None:
    """Deny everything when the allowlist is empty (deny by default)."""
    if not facts.allowlist:
        return Reason(
            ReasonCode.ALLOWLIST_EMPTY_DENY_BY_DEFAULT,
            "The profile's market allowlist is empty, so no market may trade.",
        )
    return None


def check_market_allowed(facts: PreflightFacts) -> Reason | None:
    """Deny a market missing from a non-empty allowlist."""
    # An empty allowlist is check_allowlist_not_empty's single reason; do not report it twice.
    if facts.allowlist and facts.market not in facts.allowlist:
        return Reason(
            ReasonCode.MARKET_NOT_ALLOWED,
            f"Market {facts.market} is not in the allowlist ({', '.join(sorted(facts.allowlist))}).",
        )
    return None


# -- order size --


def check_order_policy_min(facts: PreflightFacts) -> Reason | None:
    """Deny an order below the policy minimum, or one that is not positive."""
    # A zero or negative order is never valid, even if a policy minimum of 0 would let it through.
    if facts.amount_eur < facts.min_order_eur or facts.amount_eur <= 0:
        return Reason(
            ReasonCode.ORDER_BELOW_POLICY_MIN,
            f"Order of {facts.amount_eur} EUR is below the policy minimum of {facts.min_order_eur} EUR"
            " (and must be positive).",
        )
    return None


def check_order_policy_max(facts: PreflightFacts) -> Reason | None:
    """Deny an order above the policy maximum."""
    if facts.amount_eur > facts.max_order_eur:
        return Reason(
            ReasonCode.ORDER_ABOVE_POLICY_MAX,
            f"Order of {facts.amount_eur} EUR is above the policy maximum of {facts.max_order_eur} EUR.",
        )
    return None


def check_order_exchange_min(facts: PreflightFacts) -> Reason | None:
    """Deny an order below the exchange's known minimum."""
    minimum = facts.exchange_min_order_eur
    if minimum is not None and facts.amount_eur < minimum:
        return Reason(
            ReasonCode.ORDER_BELOW_EXCHANGE_MIN,
            f"Order of {facts.amount_eur} EUR is below the exchange minimum of {minimum} EUR for {facts.market}.",
        )
    return None


# -- confidence --


def check_confidence_allowed(facts: PreflightFacts) -> Reason | None:
    """Deny a confidence outside the policy's buckets or outside the five known buckets."""
    if facts.confidence not in facts.allowed_confidences or facts.confidence not in CONFIDENCE_BUCKETS:
        allowed = sorted(facts.allowed_confidences & CONFIDENCE_BUCKETS)
        return Reason(
            ReasonCode.CONFIDENCE_NOT_ALLOWED,
            f"Confidence {facts.confidence} is not one of the allowed buckets {allowed}.",
        )
    return None


def check_confidence_min(facts: PreflightFacts) -> Reason | None:
    """Deny a confidence below the policy minimum."""
    if facts.confidence < facts.min_confidence:
        return Reason(
            ReasonCode.CONFIDENCE_BELOW_MIN,
            f"Confidence {facts.confidence} is below the policy minimum of {facts.min_confidence}.",
        )
    return None


# -- pacing --


def check_cooldown(facts: PreflightFacts) -> Reason | None:
    """Deny while the last trade on this market (either side) is within the cooldown, unless overridden."""
    last = facts.last_trade
    if facts.override_cooldown or facts.cooldown_minutes == 0 or last is None:
        return None
    window = timedelta(minutes=facts.cooldown_minutes)
    # A last trade stamped in the future (clock skew) has a negative age and stays blocked: the safe side.
    if facts.now - last.at < window:
        return Reason(
            ReasonCode.COOLDOWN_ACTIVE,
            f"Last trade on {facts.market} ({last.side.value}) was {facts.now - last.at} ago at {_iso(last.at)};"
            f" cooldown is {facts.cooldown_minutes} min, allowed from {_iso(last.at + window)}.",
        )
    return None


def check_anti_flip(facts: PreflightFacts) -> Reason | None:
    """Deny a trade opposite to the last one on this market within the anti-flip window, unless overridden."""
    last = facts.last_trade
    if facts.override_anti_flip or facts.anti_flip_minutes == 0 or last is None or last.side == facts.side:
        return None
    window = timedelta(minutes=facts.anti_flip_minutes)
    if facts.now - last.at < window:
        return Reason(
            ReasonCode.ANTI_FLIP,
            f"A {facts.side.value} on {facts.market} would flip the {last.side.value} of {facts.now - last.at} ago"
            f" at {_iso(last.at)}; anti-flip is {facts.anti_flip_minutes} min, allowed from {_iso(last.at + window)}.",
        )
    return None


def check_daily_cap(facts: PreflightFacts) -> Reason | None:
    """Deny when the profile has already made its maximum trades this UTC day."""
    if facts.trades_today >= facts.max_trades_per_day:
        return Reason(
            ReasonCode.DAILY_CAP_REACHED,
            f"{facts.trades_today} trades today (UTC) reached the daily cap of {facts.max_trades_per_day}.",
        )
    return None


def check_hourly_cap(facts: PreflightFacts) -> Reason | None:
    """Deny when the profile has already made its maximum trades in the last hour."""
    if facts.trades_last_hour >= facts.max_trades_per_hour:
        return Reason(
            ReasonCode.HOURLY_CAP_REACHED,
            f"{facts.trades_last_hour} trades in the last hour reached the hourly cap of {facts.max_trades_per_hour}.",
        )
    return None


# -- capital --


def check_capital(facts: PreflightFacts) -> Reason | None:
    """Deny a buy (plus its fee headroom) above the available EUR, or a sell above the held position."""
    if facts.side == Side.BUY:
        if facts.amount_eur + facts.fee_headroom_eur > facts.available_eur:
            return Reason(
                ReasonCode.INSUFFICIENT_CAPITAL,
                f"Buy of {facts.amount_eur} EUR (+ {facts.fee_headroom_eur} EUR fee headroom) exceeds the available"
                f" capital of {facts.available_eur} EUR.",
            )
        return None
    # Sells spend the position, not EUR; without a base amount the cover cannot be proven, so deny.
    if facts.amount_base is None:
        return Reason(
            ReasonCode.INSUFFICIENT_CAPITAL,
            f"Sell on {facts.market} has no base amount (no price to convert its EUR size), so it cannot be checked"
            f" against the position of {facts.position_quantity}.",
        )
    if facts.amount_base > facts.position_quantity:
        return Reason(
            ReasonCode.INSUFFICIENT_CAPITAL,
            f"Sell of {facts.amount_base} on {facts.market} exceeds the held position of {facts.position_quantity}.",
        )
    return None


def _iso(moment: datetime) -> str:
    return moment.isoformat()


KILL_SWITCH_RULES: tuple[KillSwitchRule, ...] = (
    check_kill_switch_global,
    check_kill_switch_user,
    check_kill_switch_profile,
)

# Order is the order of the record: cheapest, most fundamental denials first. decide() runs every one.
RULES: tuple[Rule, ...] = (
    *KILL_SWITCH_RULES,
    check_proposal_approved,
    check_proposal_not_expired,
    check_allowlist_not_empty,
    check_market_allowed,
    check_order_policy_min,
    check_order_policy_max,
    check_order_exchange_min,
    check_confidence_allowed,
    check_confidence_min,
    check_cooldown,
    check_anti_flip,
    check_daily_cap,
    check_hourly_cap,
    check_capital,
)

RULE_CODES: Mapping[Rule, ReasonCode] = MappingProxyType({
    check_kill_switch_global: ReasonCode.KILL_SWITCH_GLOBAL,
    check_kill_switch_user: ReasonCode.KILL_SWITCH_USER,
    check_kill_switch_profile: ReasonCode.KILL_SWITCH_PROFILE,
    check_proposal_approved: ReasonCode.PROPOSAL_NOT_APPROVED,
    check_proposal_not_expired: ReasonCode.PROPOSAL_EXPIRED,
    check_allowlist_not_empty: ReasonCode.ALLOWLIST_EMPTY_DENY_BY_DEFAULT,
    check_market_allowed: ReasonCode.MARKET_NOT_ALLOWED,
    check_order_policy_min: ReasonCode.ORDER_BELOW_POLICY_MIN,
    check_order_policy_max: ReasonCode.ORDER_ABOVE_POLICY_MAX,
    check_order_exchange_min: ReasonCode.ORDER_BELOW_EXCHANGE_MIN,
    check_confidence_allowed: ReasonCode.CONFIDENCE_NOT_ALLOWED,
    check_confidence_min: ReasonCode.CONFIDENCE_BELOW_MIN,
    check_cooldown: ReasonCode.COOLDOWN_ACTIVE,
    check_anti_flip: ReasonCode.ANTI_FLIP,
    check_daily_cap: ReasonCode.DAILY_CAP_REACHED,
    check_hourly_cap: ReasonCode.HOURLY_CAP_REACHED,
    check_capital: ReasonCode.INSUFFICIENT_CAPITAL,
})
"""The one code each rule may return (the record lists it even when the rule passes)."""
