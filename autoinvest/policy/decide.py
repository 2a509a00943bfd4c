"""Run every rule over one snapshot and return the Decision the executor records."""

from __future__ import annotations

from dataclasses import dataclass

from autoinvest.policy.facts import JSONValue, KillSwitches, PreflightFacts, facts_to_json
from autoinvest.policy.reasons import REASON_CODES, Reason, ReasonCode
from autoinvest.policy.rules import KILL_SWITCH_RULES, RULE_CODES, RULES, KillSwitchRule, Rule

__all__ = [
    "REASON_CODES",
    "RULES",
    "CheckResult",
    "Decision",
    "decide",
    "decide_kill_switches",
    "facts_to_json",
    "rule_name",
]


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of one rule: its name, whether it passed, its code, and the detail when it denied."""

    rule: str
    passed: bool
    code: ReasonCode
    detail: str | None

    def to_json(self) -> dict[str, JSONValue]:
        """Return the check as a JSON-safe dict."""
        return {"rule": self.rule, "passed": self.passed, "code": self.code.value, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Decision:
    """All reasons to deny (empty when allowed) and the result of every rule that ran."""

    allowed: bool
    reasons: tuple[Reason, ...]
    checks: tuple[CheckResult, ...]

    def __post_init__(self) -> None:
        # The invariant the executor relies on: allowed exactly when nothing denied.
        if self.allowed != (not self.reasons):
            raise ValueError("a Decision is allowed if and only if it has no reasons")

    @property
    def codes(self) -> tuple[ReasonCode, ...]:
        """Return the denial codes in rule order."""
        return tuple(reason.code for reason in self.reasons)

    def to_json(self) -> dict[str, JSONValue]:
        """Return the decision as a JSON-safe dict for the execution row."""
        return {
            "allowed": self.allowed,
            "reasons": [reason.to_json() for reason in self.reasons],
            "checks": [check.to_json() for check in self.checks],
        }


def rule_name(rule: Rule | KillSwitchRule) -> str:
    """Return a rule's recorded name: its function name without the ``check_`` prefix."""
    return rule.__name__.removeprefix("check_")


def decide(facts: PreflightFacts) -> Decision:
    """Run every rule (never short-circuiting) and decide."""
    return _run([(rule_name(rule), RULE_CODES[rule], rule(facts)) for rule in RULES])


def decide_kill_switches(global_kill: bool, user_kill: bool, profile_trading_enabled: bool) -> Decision:
    """Run only the kill-switch rules, as the submit step does just before the exchange call."""
    switches = KillSwitches(
        global_kill=global_kill, user_kill=user_kill, profile_trading_enabled=profile_trading_enabled
    )
    return _run([(rule_name(rule), RULE_CODES[rule], rule(switches)) for rule in KILL_SWITCH_RULES])


def _run(outcomes: list[tuple[str, ReasonCode, Reason | None]]) -> Decision:
    checks: list[CheckResult] = []
    reasons: list[Reason] = []
    for name, code, reason in outcomes:
        if reason is not None and reason.code != code:
            # A rule returning a code it does not own would corrupt the audit record; refuse loudly.
            raise AssertionError(f"{name} returned {reason.code}, but owns {code}")
        checks.append(CheckResult(name, reason is None, code, None if reason is None else reason.detail))
        if reason is not None:
            reasons.append(reason)
    return Decision(allowed=not reasons, reasons=tuple(reasons), checks=tuple(checks))
