"""Deposit data and withdrawals: enough of Bitvavo's funding endpoints to tell which account a key reaches and
whether a key may withdraw. The simulator never moves funds out: a withdrawal is checked, then refused."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

from autoinvest.simulator.errors import ApiError, invalid, required
from autoinvest.simulator.markets import ASSETS, parse_decimal
from autoinvest.simulator.routing import Ctx, Route, route

VIEW = "view"
WITHDRAW = "withdraw"
#: Below this the simulator refuses any withdrawal (Bitvavo's per-asset minimum, error 406).
MIN_WITHDRAWAL = Decimal("0.001")


def _digest(account_id: str, symbol: str) -> str:
    return hashlib.sha256(f"{account_id}:{symbol}".encode()).hexdigest()


def get_deposit(ctx: Ctx) -> Any:
    """The account's deposit data for one asset: stable per account, different between accounts."""
    symbol = ctx.require("symbol")
    if symbol not in ASSETS:
        raise invalid("symbol")
    digest = _digest(ctx.account.account_id, symbol)
    if symbol == "EUR":
        return {"iban": f"NL00SIMU{int(digest[:10], 16) % 10**10:010d}", "bic": "SIMUNL2A",
                "description": digest[:12].upper()}
    return {"address": f"sim1{digest[:38]}", "paymentId": ""}


def post_withdrawal(ctx: Ctx) -> Any:
    symbol = ctx.require("symbol")
    if symbol not in ASSETS:
        raise invalid("symbol")
    amount = parse_decimal(ctx.require("amount"))
    if amount is None or amount <= 0:
        raise invalid("amount")
    if amount < MIN_WITHDRAWAL:
        raise ApiError(406)
    address = ctx.require("address")
    if not isinstance(address, str) or not address.startswith("sim1"):
        raise ApiError(412)
    raise required("2FA confirmation")  # withdrawals are out of the simulator's scope: never executed


ROUTES: list[Route] = [
    route("GET", "/deposit", get_deposit, 1, private=True, permission=VIEW),
    route("POST", "/withdrawal", post_withdrawal, 1, private=True, permission=WITHDRAW),
]
