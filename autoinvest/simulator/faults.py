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


class Faults:
    def __init__(self, seed: int) -> None:
        self.rules: list[FaultRule] = []
        self._rng = random.Random(seed ^ 0x5EED)

    def add(self, rule: FaultRule) -> None:
        if rule.kind not in KINDS:
            raise ValueError(f"unknown fault kind {rule.kind!r}; one of {sorted(KINDS)}")
        if not 0.0 <= rule.probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        self.rules.append(rule)

    def clear(self) -> None:
        self.rules.clear()

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
