"""Fault injection rules, set through the admin API and consulted once per /v2 request."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

KINDS = frozenset(
    {"latency", "error_before_processing", "drop_response_after_processing", "http_500", "rate_limit", "maintenance"}
)


@dataclass
class FaultRule:
    endpoint: str  # "POST /order" (path relative to /v2), or "*" for every endpoint
    kind: str
    probability: float = 1.0
    count: int | None = None  # None = unlimited
    latency_ms: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.endpoint == "*":
            return True
        want_method, _, want_path = self.endpoint.partition(" ")
        return want_method.upper() == method and want_path.rstrip("/") == path.rstrip("/")

    def to_json(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint, "kind": self.kind, "probability": self.probability,
            "count": self.count, "latency_ms": self.latency_ms,
        }


@dataclass
class Poison:
    """Answer one account's requests to ``endpoint`` with ``value`` written at ``path`` of the JSON (a bad item)."""

    endpoint: str  # "GET /order", as for a FaultRule
    account_id: str
    path: str  # dotted into the response: "fills.0.amount" (GET /order), "0.amount" (GET /trades)
    value: Any
    count: int | None = None  # None = unlimited

    def to_json(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "accountId": self.account_id, "path": self.path, "value": self.value,
                "count": self.count}

    def apply(self, result: Any) -> bool:
        """Write the value into ``result``; False when the path is not there (the response is left as it is)."""
        *parents, last = self.path.split(".")
        node = result
        try:
            for step in parents:
                node = node[int(step)] if isinstance(node, list) else node[step]
            if isinstance(node, list):
                node[int(last)] = self.value
            elif isinstance(node, dict) and last in node:
                node[last] = self.value
            else:
                return False
        except (KeyError, IndexError, ValueError, TypeError):
            return False
        return True


class Faults:
    def __init__(self, seed: int) -> None:
        self.rules: list[FaultRule] = []
        self.poisons: list[Poison] = []
        self._rng = random.Random(seed ^ 0x5EED)

    def add(self, rule: FaultRule) -> None:
        if rule.kind not in KINDS:
            raise ValueError(f"unknown fault kind {rule.kind!r}; one of {sorted(KINDS)}")
        if not 0.0 <= rule.probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        self.rules.append(rule)

    def clear(self) -> None:
        self.rules.clear()
        self.poisons.clear()

    def poison(self, method: str, path: str, account_id: str | None, result: Any) -> None:
        """Poison ``result`` (in place) with every matching rule whose path it has; counts are used up."""
        for rule in self.poisons:
            if rule.account_id != account_id or (rule.count is not None and rule.count <= 0):
                continue
            if not FaultRule(rule.endpoint, "latency").matches(method, path):
                continue
            if rule.apply(result) and rule.count is not None:
                rule.count -= 1

    def pick(self, method: str, path: str) -> FaultRule | None:
        """The first matching rule that fires for this request; its count is used up."""
        for rule in self.rules:
            if not rule.matches(method, path) or (rule.count is not None and rule.count <= 0):
                continue
            if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                continue
            if rule.count is not None:
                rule.count -= 1
            return rule
        return None
