"""Order and fill records and their Bitvavo JSON shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from autoinvest.simulator.markets import QUOTE, dstr

ACTIVE = frozenset({"new", "partiallyFilled", "awaitingTrigger"})


@dataclass
class Fill:
    id: str
    order_id: str
    timestamp: int
    amount: Decimal
    price: Decimal
    taker: bool
    fee: Decimal

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "timestamp": self.timestamp,
            "amount": dstr(self.amount),
            "price": dstr(self.price),
            "taker": self.taker,
            "fee": dstr(self.fee),
            "feeCurrency": QUOTE,
            "settled": True,
        }


@dataclass
class Order:
    order_id: str
    account_id: str
    market: str
    side: str
    order_type: str
    created: int
    updated: int
    status: str
    operator_id: int
    client_order_id: str | None = None
    amount: Decimal | None = None  # base amount ordered (None when placed by amountQuote)
    amount_quote: Decimal | None = None
    price: Decimal | None = None
    time_in_force: str = "GTC"
    post_only: bool = False
    self_trade_prevention: str = "decrementAndCancel"
    on_hold: Decimal = Decimal(0)
    filled_amount: Decimal = Decimal(0)
    filled_amount_quote: Decimal = Decimal(0)
    fee_paid: Decimal = Decimal(0)
    fills: list[Fill] = field(default_factory=list)
    touched_price: Decimal | None = None  # last price at which a resting order took a partial fill

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def remaining(self) -> Decimal:
        return (self.amount or Decimal(0)) - self.filled_amount

    @property
    def hold_currency(self) -> str:
        return QUOTE if self.side == "buy" else self.market.split("-")[0]

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "orderId": self.order_id,
            "market": self.market,
            "created": self.created,
            "updated": self.updated,
            "status": self.status,
            "side": self.side,
            "orderType": self.order_type,
        }
        if self.client_order_id is not None:
            body["clientOrderId"] = self.client_order_id
        if self.amount_quote is not None:
            body["amountQuote"] = dstr(self.amount_quote)
            left = self.amount_quote - self.filled_amount_quote if self.active else Decimal(0)
            body["amountQuoteRemaining"] = dstr(left)
        else:
            body["amount"] = dstr(self.amount or Decimal(0))
            body["amountRemaining"] = dstr(self.remaining if self.active else Decimal(0))
        body.update(
            {
                "onHold": dstr(self.on_hold),
                "onHoldCurrency": self.hold_currency,
                "filledAmount": dstr(self.filled_amount),
                "filledAmountQuote": dstr(self.filled_amount_quote),
                "feePaid": dstr(self.fee_paid),
                "feeCurrency": QUOTE,
                "fills": [f.to_json() for f in self.fills],
                "selfTradePrevention": self.self_trade_prevention,
                "visible": self.order_type == "limit" and self.active,
                "operatorId": self.operator_id,
            }
        )
        if self.order_type == "limit":
            body["price"] = dstr(self.price or Decimal(0))
            body["timeInForce"] = self.time_in_force
            body["postOnly"] = self.post_only
        else:
            body["disableMarketProtection"] = False
        return body

    def admin_json(self) -> dict[str, Any]:
        return {
            "accountId": self.account_id,
            "orderId": self.order_id,
            "clientOrderId": self.client_order_id,
            "market": self.market,
            "side": self.side,
            "orderType": self.order_type,
            "status": self.status,
            "amount": None if self.amount is None else dstr(self.amount),
            "amountQuote": None if self.amount_quote is None else dstr(self.amount_quote),
            "price": None if self.price is None else dstr(self.price),
            "filledAmount": dstr(self.filled_amount),
            "filledAmountQuote": dstr(self.filled_amount_quote),
            "feePaid": dstr(self.fee_paid),
            "created": self.created,
            "operatorId": self.operator_id,
        }
