"""The /_sim admin API (tests and demos only): accounts, keys, balances, prices, clock, faults and poisons."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from autoinvest.simulator.accounts import PERMISSIONS
from autoinvest.simulator.faults import FaultRule, Poison
from autoinvest.simulator.markets import MARKETS, dstr, parse_decimal
from autoinvest.simulator.routing import Ctx, Route, route


class AdminError(Exception):
    """A bad admin request: answered 400 {"error": message} (404 for an unknown account)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _balances(raw: object) -> dict[str, Decimal]:
    if not isinstance(raw, dict):
        raise AdminError("balances must be an object of symbol → amount string")
    result: dict[str, Decimal] = {}
    for symbol, amount in raw.items():
        value = parse_decimal(amount)
        if value is None or value < 0:
            raise AdminError(f"balance of {symbol} must be a non-negative decimal string")
        result[str(symbol)] = value
    return result


def _permissions(raw: object) -> frozenset[str]:
    if raw is None:
        return frozenset({"view", "trade"})
    if not isinstance(raw, list) or not set(raw) <= PERMISSIONS:
        raise AdminError(f"permissions must be a list drawn from {sorted(PERMISSIONS)}")
    return frozenset(raw)


def _account_id(ctx: Ctx, raw: object) -> str:
    if not isinstance(raw, str) or raw not in ctx.ex.accounts.accounts:
        raise AdminError("unknown accountId", 404)
    return raw


def post_accounts(ctx: Ctx) -> Any:
    permissions = _permissions(ctx.body.get("permissions"))
    if "accountId" in ctx.body:  # another key for an existing account
        account_id = _account_id(ctx, ctx.body["accountId"])
    else:
        account_id = ctx.ex.accounts.create(_balances(ctx.body.get("balances", {}))).account_id
    key = ctx.ex.accounts.add_key(account_id, permissions)
    return {"apiKey": key.key, "apiSecret": key.secret, "accountId": account_id,
            "permissions": sorted(key.permissions)}


def delete_keys(ctx: Ctx) -> Any:
    """Delete one API key (as a user does on Bitvavo after rotating it): its requests are refused from now on."""
    key = ctx.query.get("apiKey")
    if not isinstance(key, str) or ctx.ex.accounts.keys.pop(key, None) is None:
        raise AdminError("unknown apiKey", 404)
    return {"deleted": True}


def post_balances(ctx: Ctx) -> Any:
    account_id = _account_id(ctx, ctx.body.get("accountId"))
    ctx.ex.accounts.set_balances(account_id, _balances(ctx.body.get("balances")))
    return get_balances_of(ctx, account_id)


def get_balances(ctx: Ctx) -> Any:
    return get_balances_of(ctx, _account_id(ctx, ctx.query.get("accountId")))


def get_balances_of(ctx: Ctx, account_id: str) -> Any:
    account = ctx.ex.accounts.accounts[account_id]
    return {
        "accountId": account_id,
        "balances": {s: {"available": dstr(b.available), "inOrder": dstr(b.in_order)}
                     for s, b in sorted(account.balances.items())},
    }


def get_orders(ctx: Ctx) -> Any:
    return [o.admin_json() for o in ctx.ex.engine.orders.values()]


def post_prices(ctx: Ctx) -> Any:
    market = ctx.body.get("market")
    price = parse_decimal(ctx.body.get("price"))
    if market not in MARKETS:
        raise AdminError(f"market must be one of {sorted(MARKETS)}")
    if price is None or price <= 0:
        raise AdminError("price must be a positive decimal string")
    ctx.ex.prices.set_price(market, price, ctx.ex.now())
    ctx.ex.engine.match_market(market)
    return {"market": market, "price": dstr(ctx.ex.prices.markets[market].price), "time": ctx.ex.now()}


def get_prices(ctx: Ctx) -> Any:
    return {name: dstr(m.price) for name, m in ctx.ex.prices.markets.items()}


def post_clock(ctx: Ctx) -> Any:
    speed = ctx.body.get("speed")
    if speed is not None:
        if isinstance(speed, bool) or not isinstance(speed, int | float) or speed < 0:
            raise AdminError("speed must be a non-negative number")
        ctx.ex.clock.set_speed(float(speed))
    advance = ctx.body.get("advance_ms", 0)
    if isinstance(advance, bool) or not isinstance(advance, int) or advance < 0:
        raise AdminError("advance_ms must be a non-negative integer")
    offset = ctx.body.get("offset_ms")
    if offset is not None:
        if isinstance(offset, bool) or not isinstance(offset, int):
            raise AdminError("offset_ms must be an integer (ms the exchange's clock runs ahead; negative: behind)")
        ctx.ex.clock.offset_ms = offset
    ctx.ex.advance(advance)
    return {"time": ctx.ex.now(), "speed": ctx.ex.clock.speed, "offset_ms": ctx.ex.clock.offset_ms}


def post_faults(ctx: Ctx) -> Any:
    body = ctx.body
    try:
        rule = FaultRule(
            endpoint=str(body["endpoint"]), kind=str(body["kind"]), probability=float(body.get("probability", 1.0)),
            count=None if body.get("count") is None else int(body["count"]),
            latency_ms=int(body.get("latency_ms", 0)),
        )
        ctx.ex.faults.add(rule)
    except (KeyError, TypeError, ValueError) as exc:
        raise AdminError(f"invalid fault: {exc}") from None
    return rule.to_json()


def post_poison(ctx: Ctx) -> Any:
    body = ctx.body
    try:
        rule = Poison(endpoint=str(body["endpoint"]), account_id=_account_id(ctx, body.get("accountId")),
                      path=str(body["path"]), value=body["value"],
                      count=None if body.get("count") is None else int(body["count"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise AdminError(f"invalid poison: {exc}") from None
    ctx.ex.faults.poisons.append(rule)
    return rule.to_json()


def get_requests(ctx: Ctx) -> Any:
    account_id = _account_id(ctx, ctx.query.get("accountId"))
    return {endpoint: n for (account, endpoint), n in sorted(ctx.ex.requests.items()) if account == account_id}


def get_weights(ctx: Ctx) -> Any:
    return {"weight": ctx.ex.weights[_account_id(ctx, ctx.query.get("accountId"))]}


def get_public_requests(ctx: Ctx) -> Any:
    return dict(sorted(ctx.ex.public_requests.items()))


def get_faults(ctx: Ctx) -> Any:
    return [r.to_json() for r in ctx.ex.faults.rules] + [p.to_json() for p in ctx.ex.faults.poisons]


def delete_faults(ctx: Ctx) -> Any:
    ctx.ex.faults.clear()
    return []


ROUTES: list[Route] = [
    route("POST", "/accounts", post_accounts),
    route("DELETE", "/keys", delete_keys),
    route("POST", "/balances", post_balances),
    route("GET", "/balances", get_balances),
    route("GET", "/orders", get_orders),
    route("POST", "/prices", post_prices),
    route("GET", "/prices", get_prices),
    route("POST", "/clock", post_clock),
    route("POST", "/faults", post_faults),
    route("POST", "/poison", post_poison),
    route("GET", "/requests", get_requests),
    route("GET", "/weights", get_weights),
    route("GET", "/public-requests", get_public_requests),
    route("GET", "/faults", get_faults),
    route("DELETE", "/faults", delete_faults),
]
