"""Request context and route table types shared by the public, private and admin handlers."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from autoinvest.simulator.accounts import Account, ApiKey
from autoinvest.simulator.errors import ApiError, invalid, required
from autoinvest.simulator.exchange import Exchange


@dataclass
class Ctx:
    ex: Exchange
    method: str
    path: str  # relative to /v2 (or /_sim), e.g. "/order"
    query: dict[str, str]
    body: dict[str, Any]
    key: ApiKey | None = None
    path_params: dict[str, str] = field(default_factory=dict)

    @property
    def account(self) -> Account:
        assert self.key is not None
        return self.ex.accounts.accounts[self.key.account_id]

    def param(self, name: str) -> Any:
        """A parameter from the query (GET/DELETE) or the JSON body (POST/PUT), as Bitvavo splits them."""
        return self.body.get(name) if self.method in ("POST", "PUT") else self.query.get(name)

    def int_param(self, name: str, default: int | None, low: int, high: int) -> int | None:
        raw = self.query.get(name)
        if raw is None or raw == "":
            return default
        if not raw.lstrip("-").isdigit() or not low <= int(raw) <= high:
            raise invalid(name)
        return int(raw)

    def require(self, name: str) -> Any:
        value = self.param(name)
        if value is None or value == "":
            raise required(name)
        return value


Handler = Callable[[Ctx], Any]
Weight = Callable[[Mapping[str, str]], int]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    weight: Weight
    private: bool = False
    permission: str | None = None  # "view", "trade", "withdraw", or "view|trade" (either)

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method:
            return None
        found = self.pattern.fullmatch(path)
        return None if found is None else found.groupdict()

    def check_permission(self, key: ApiKey | None) -> None:
        if self.permission is None or key is None:
            return
        allowed = set(self.permission.split("|"))
        if not allowed & key.permissions:
            if allowed == {"withdraw"}:
                raise ApiError(312)
            raise ApiError(310 if "trade" in allowed and "view" not in allowed else 311)


def route(
    method: str, path: str, handler: Handler, weight: int | Weight = 1, private: bool = False,
    permission: str | None = None,
) -> Route:
    regex = re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path))
    weigh: Weight = weight if callable(weight) else _constant(weight)
    return Route(method, regex, handler, weigh, private, permission)


def _constant(weight: int) -> Weight:
    return lambda _query: weight


def by_market(with_market: int, without: int) -> Weight:
    return lambda query: with_market if query.get("market") else without
