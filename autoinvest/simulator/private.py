"""Private endpoints: balance, account and fees, orders (create, get, update, cancel, lists) and trades."""

from __future__ import annotations

from typing import Any

from autoinvest.simulator import validation as v
from autoinvest.simulator.errors import ApiError, invalid, required
from autoinvest.simulator.markets import FEE_VOLUME, MAKER_FEE, MARKETS, TAKER_FEE, dstr
from autoinvest.simulator.orders import Order
from autoinvest.simulator.routing import Ctx, Route, by_market, route

VIEW = "view"
TRADE = "trade"
READ_ORDERS = "view|trade"  # which keys may read orders is unconfirmed for Bitvavo; both are allowed here


def get_balance(ctx: Ctx) -> Any:
    symbol = ctx.query.get("symbol")
    return [
        {"symbol": s, "available": dstr(b.available), "inOrder": dstr(b.in_order)}
        for s, b in sorted(ctx.account.balances.items())
        if (symbol is None or s == symbol) and (b.available != 0 or b.in_order != 0)
    ]


def get_account(_ctx: Ctx) -> Any:
    return {
        "fees": {"tier": 0, "volume": FEE_VOLUME, "taker": dstr(TAKER_FEE), "maker": dstr(MAKER_FEE)},
        "capabilities": ["buy", "sell", "depositCrypto", "depositFiat", "withdrawCrypto", "withdrawFiat"],
    }


def get_fees(ctx: Ctx) -> Any:
    market = ctx.query.get("market")
    if market is not None and market not in MARKETS:
        raise invalid("market")
    return {"tier": "0", "volume": FEE_VOLUME, "taker": dstr(TAKER_FEE), "maker": dstr(MAKER_FEE)}


def post_order(ctx: Ctx) -> Any:
    new = v.parse_new_order(ctx.body)
    return ctx.ex.engine.place(ctx.account, new).to_json()


def _find(ctx: Ctx) -> Order:
    market = v.market_spec(ctx.param("market")).market
    order_id = ctx.param("orderId")
    client_order_id = ctx.param("clientOrderId")
    if not order_id and not client_order_id:
        raise required("orderId")
    if client_order_id:
        v.client_order_id(client_order_id)
    return ctx.ex.engine.find(ctx.key.account_id if ctx.key else "", market, order_id or None,
                              client_order_id or None)


def get_order(ctx: Ctx) -> Any:
    return _find(ctx).to_json()


def put_order(ctx: Ctx) -> Any:
    v.reject_unknown(ctx.body, v.UPDATE_FIELDS)
    v.operator_id(ctx.body.get("operatorId"))
    order = _find(ctx)
    spec = MARKETS[order.market]
    amount = ctx.body.get("amount")
    amount_remaining = ctx.body.get("amountRemaining")
    if amount is not None and amount_remaining is not None:
        raise ApiError(236)
    changes = ("amount", "amountRemaining", "price", "timeInForce", "selfTradePrevention", "postOnly")
    if not any(name in ctx.body for name in changes):
        raise ApiError(232)
    new_amount = None
    if amount is not None:
        new_amount = v.positive_amount("amount", amount, spec.quantity_decimals)
    elif amount_remaining is not None:
        new_amount = order.filled_amount + v.positive_amount("amountRemaining", amount_remaining,
                                                             spec.quantity_decimals)
    price = None if ctx.body.get("price") is None else v.limit_price(ctx.body["price"], spec)
    tif = ctx.body.get("timeInForce")
    if tif is not None and tif not in ("GTC", "IOC", "FOK"):
        raise invalid("timeInForce")
    stp = ctx.body.get("selfTradePrevention")
    if stp is not None and stp not in v.STP_VALUES:
        raise invalid("selfTradePrevention")
    post_only = None if "postOnly" not in ctx.body else v.boolean("postOnly", ctx.body["postOnly"])
    ctx.ex.engine.update(ctx.account, order, new_amount, price, tif, post_only, stp)
    return order.to_json()


def delete_order(ctx: Ctx) -> Any:
    op_id = v.operator_id(ctx.query.get("operatorId"), from_query=True)
    order = _find(ctx)
    ctx.ex.engine.cancel(ctx.account, order)
    result: dict[str, Any] = {"orderId": order.order_id}
    if order.client_order_id is not None:
        result["clientOrderId"] = order.client_order_id
    result["operatorId"] = op_id
    return result


def delete_orders(ctx: Ctx) -> Any:
    op_id = v.operator_id(ctx.query.get("operatorId"), from_query=True)
    market = ctx.query.get("market")
    if market is not None:
        v.market_spec(market)
    cancelled = []
    for order in ctx.ex.engine.open_orders(ctx.account.account_id):
        if market is None or order.market == market:
            ctx.ex.engine.cancel(ctx.account, order)
            cancelled.append({"orderId": order.order_id, "operatorId": op_id})
    return cancelled


def get_orders_open(ctx: Ctx) -> Any:
    market = ctx.query.get("market")
    base = ctx.query.get("base")
    if market is not None:
        v.market_spec(market)
    return [
        o.to_json()
        for o in reversed(ctx.ex.engine.open_orders(ctx.account.account_id))
        if (market is None or o.market == market) and (base is None or o.market.split("-")[0] == base)
    ]


def _window(ctx: Ctx) -> tuple[int, int, int]:
    limit = ctx.int_param("limit", 500, 1, 1000) or 500
    start = ctx.int_param("start", 0, 0, 2**62) or 0
    end = ctx.int_param("end", 2**62, 0, 2**62) or 2**62
    return limit, start, end


def get_orders(ctx: Ctx) -> Any:
    market = v.market_spec(ctx.query.get("market")).market
    limit, start, end = _window(ctx)
    orders = [
        o for o in reversed(ctx.ex.engine.orders.values())
        if o.account_id == ctx.account.account_id and o.market == market and start <= o.created <= end
    ]
    return [o.to_json() for o in orders[:limit]]


def get_trades(ctx: Ctx) -> Any:
    market = v.market_spec(ctx.query.get("market")).market
    limit, start, end = _window(ctx)
    rows: list[dict[str, Any]] = []
    for order in ctx.ex.engine.orders.values():
        if order.account_id != ctx.account.account_id or order.market != market:
            continue
        for fill in order.fills:
            if start <= fill.timestamp <= end:
                row: dict[str, Any] = {"id": fill.id, "orderId": order.order_id}
                if order.client_order_id is not None:
                    row["clientOrderId"] = order.client_order_id
                row.update({"timestamp": fill.timestamp, "market": market, "side": order.side})
                row.update({k: val for k, val in fill.to_json().items() if k not in ("id", "timestamp")})
                rows.append(row)
    rows.sort(key=lambda r: r["timestamp"], reverse=True)  # stable: fills of one instant keep their order reversed
    return rows[:limit]


ROUTES: list[Route] = [
    route("GET", "/balance", get_balance, 5, private=True, permission=VIEW),
    route("GET", "/account", get_account, 1, private=True, permission=VIEW),
    route("GET", "/account/fees", get_fees, 1, private=True, permission=VIEW),
    route("POST", "/order", post_order, 1, private=True, permission=TRADE),
    route("GET", "/order", get_order, 1, private=True, permission=READ_ORDERS),
    route("PUT", "/order", put_order, 1, private=True, permission=TRADE),
    route("DELETE", "/order", delete_order, 1, private=True, permission=TRADE),
    route("DELETE", "/orders", delete_orders, by_market(25, 100), private=True, permission=TRADE),
    route("GET", "/ordersOpen", get_orders_open, by_market(1, 25), private=True, permission=READ_ORDERS),
    route("GET", "/orders", get_orders, 5, private=True, permission=READ_ORDERS),
    route("GET", "/trades", get_trades, 5, private=True, permission=READ_ORDERS),
]
