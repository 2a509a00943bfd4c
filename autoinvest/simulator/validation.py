"""Parsing and validation of order parameters into typed values, with Bitvavo's error codes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from autoinvest.simulator.errors import ApiError, invalid, required
from autoinvest.simulator.markets import MARKETS, MarketSpec, parse_decimal

CREATE_FIELDS = frozenset(
    {
        "market", "side", "orderType", "amount", "amountQuote", "price", "timeInForce", "postOnly",
        "selfTradePrevention", "disableMarketProtection", "responseRequired", "operatorId", "clientOrderId",
    }
)
UPDATE_FIELDS = frozenset(
    {
        "market", "orderId", "clientOrderId", "operatorId", "amount", "amountRemaining", "price", "timeInForce",
        "selfTradePrevention", "postOnly", "responseRequired",
    }
)
STP_VALUES = frozenset({"decrementAndCancel", "cancelOldest", "cancelNewest", "cancelBoth"})
MAX_OPERATOR_ID = 2**63 - 1


@dataclass(frozen=True)
class NewOrder:
    spec: MarketSpec
    side: str
    order_type: str
    operator_id: int
    client_order_id: str | None
    amount: Decimal | None
    amount_quote: Decimal | None
    price: Decimal | None
    time_in_force: str
    post_only: bool
    self_trade_prevention: str


def market_spec(value: object) -> MarketSpec:
    if value is None or value == "":
        raise required("market")
    if not isinstance(value, str) or value not in MARKETS:
        raise invalid("market")
    return MARKETS[value]


def operator_id(value: object, from_query: bool = False) -> int:
    """operatorId must be a JSON number (int64) in a POST/PUT body ("12" is refused); a query carries digits."""
    if value is None or value == "":
        raise required("operatorId")
    if from_query and isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_OPERATOR_ID:
        raise invalid("operatorId")
    return value


def client_order_id(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid("clientOrderId")
    try:
        uuid.UUID(value)
    except ValueError:
        raise invalid("clientOrderId") from None
    return value


def positive_amount(name: str, value: object, decimals: int) -> Decimal:
    amount = parse_decimal(value)
    if amount is None or amount <= 0:
        raise invalid(name)
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > decimals:
        raise ApiError(429, f"{name} has too many decimal places.")
    return amount


def limit_price(value: object, spec: MarketSpec) -> Decimal:
    price = parse_decimal(value)
    if price is None or price <= 0:
        raise invalid("price")
    if price % spec.tick_size != 0:
        raise ApiError(422, f"Invalid price tick size. The price must be a multiple of {spec.tick_size}.")
    return price


def boolean(name: str, value: object) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise invalid(name)
    return value


def reject_unknown(body: dict[str, Any], allowed: frozenset[str]) -> None:
    for key in body:
        if key not in allowed:
            raise ApiError(201, f"{key} body parameter is not supported.")


def parse_new_order(body: dict[str, Any]) -> NewOrder:
    reject_unknown(body, CREATE_FIELDS)
    spec = market_spec(body.get("market"))
    side = body.get("side")
    if side is None:
        raise required("side")
    if side not in ("buy", "sell"):
        raise invalid("side")
    order_type = body.get("orderType")
    if order_type is None:
        raise required("orderType")
    if order_type not in ("market", "limit"):
        # stopLoss/takeProfit variants exist on Bitvavo but are not simulated.
        raise invalid("orderType")
    op_id = operator_id(body.get("operatorId"))
    coid = client_order_id(body.get("clientOrderId"))
    amount = body.get("amount")
    amount_quote = body.get("amountQuote")
    tif = body.get("timeInForce", "GTC")
    stp = body.get("selfTradePrevention", "decrementAndCancel")
    if stp not in STP_VALUES:
        raise invalid("selfTradePrevention")
    if order_type == "market":
        for name in ("price", "timeInForce", "postOnly"):
            if name in body:
                raise ApiError(202, f"{name} parameter is not supported for orderType market.")
        if amount is not None and amount_quote is not None:
            raise ApiError(206, "amount and amountQuote cannot be used together.")
        if amount is None and amount_quote is None:
            raise required("amount")
        return NewOrder(
            spec, side, order_type, op_id, coid,
            None if amount is None else positive_amount("amount", amount, spec.quantity_decimals),
            None if amount_quote is None else positive_amount("amountQuote", amount_quote, 2),
            None, "GTC", False, stp,
        )
    if amount_quote is not None:
        raise ApiError(202, "amountQuote parameter is not supported for orderType limit.")
    if amount is None:
        raise required("amount")
    if body.get("price") is None:
        raise required("price")
    if tif not in ("GTC", "IOC", "FOK"):
        raise invalid("timeInForce")
    post_only = boolean("postOnly", body.get("postOnly"))
    if post_only and tif != "GTC":
        raise ApiError(206, "postOnly can only be used with timeInForce GTC.")
    return NewOrder(
        spec, side, order_type, op_id, coid,
        positive_amount("amount", amount, spec.quantity_decimals), None,
        limit_price(body.get("price"), spec), tif, post_only, stp,
    )
