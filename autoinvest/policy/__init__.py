"""The pure pre-flight core: one snapshot of facts → every rule → a Decision with reasons.

No I/O, no clock, no database: the executor builds `PreflightFacts`, calls `decide`, and records the result.
"""

from autoinvest.policy.decide import CheckResult, Decision, decide, decide_kill_switches, rule_name
from autoinvest.policy.facts import (
    JSONValue,
    KillSwitches,
    KillSwitchFacts,
    LastTrade,
    PreflightFacts,
    facts_to_json,
    to_jsonable,
)
from autoinvest.policy.reasons import REASON_CODES, Reason, ReasonCode
from autoinvest.policy.rules import KILL_SWITCH_RULES, RULE_CODES, RULES, KillSwitchRule, Rule

__all__ = [
    "KILL_SWITCH_RULES",
    "REASON_CODES",
    "RULES",
    "RULE_CODES",
    "CheckResult",
    "Decision",
    "JSONValue",
    "KillSwitchFacts",
    "KillSwitchRule",
    "KillSwitches",
    "LastTrade",
    "PreflightFacts",
    "Reason",
    "ReasonCode",
    "Rule",
    "decide",
    "decide_kill_switches",
    "facts_to_json",
    "rule_name",
    "to_jsonable",
]
