"""Reason codes and the Reason a rule returns when it denies."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from autoinvest.policy.facts import JSONValue


class ReasonCode(StrEnum):
    """Every code a pre-flight rule can return; each rule owns exactly one."""

    KILL_SWITCH_GLOBAL = "KILL_SWITCH_GLOBAL"
    KILL_SWITCH_USER = "KILL_SWITCH_USER"
    KILL_SWITCH_PROFILE = "KILL_SWITCH_PROFILE"
    PROPOSAL_NOT_APPROVED = "PROPOSAL_NOT_APPROVED"
    PROPOSAL_EXPIRED = "PROPOSAL_EXPIRED"
    ALLOWLIST_EMPTY_DENY_BY_DEFAULT = "ALLOWLIST_EMPTY_DENY_BY_DEFAULT"
    MARKET_NOT_ALLOWED = "MARKET_NOT_ALLOWED"
    ORDER_BELOW_POLICY_MIN = "ORDER_BELOW_POLICY_MIN"
    ORDER_ABOVE_POLICY_MAX = "ORDER_ABOVE_POLICY_MAX"
    ORDER_BELOW_EXCHANGE_MIN = "ORDER_BELOW_EXCHANGE_MIN"
    CONFIDENCE_NOT_ALLOWED = "CONFIDENCE_NOT_ALLOWED"
    CONFIDENCE_BELOW_MIN = "CONFIDENCE_BELOW_MIN"
    COOLDOWN_ACTIVE = "COOLDOWN_ACTIVE"
    ANTI_FLIP = "ANTI_FLIP"
    DAILY_CAP_REACHED = "DAILY_CAP_REACHED"
    HOURLY_CAP_REACHED = "HOURLY_CAP_REACHED"
    INSUFFICIENT_CAPITAL = "INSUFFICIENT_CAPITAL"


REASON_CODES: frozenset[str] = frozenset(code.value for code in ReasonCode)


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a rule denies: a stable code and a human sentence with the numbers."""

    code: ReasonCode
    detail: str

    def to_json(self) -> dict[str, JSONValue]:
        """Return the reason as a JSON-safe dict."""
        return {"code": self.code.value, "detail": self.detail}
