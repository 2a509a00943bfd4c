"""The Bitvavo REST endpoints we call: ccxt implicit method, weight, and whether they change state.

Weights follow the Bitvavo reference (docs and ccxt's cost table); where they
disagree the larger one is used, so the budget errs on the safe side.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Endpoint:
    name: str  # "POST /order": for messages and logs
    ccxt_method: str  # ccxt's implicit raw method: keeps the raw JSON strings, skips load_markets()
    weight: int
    weight_without_market: int | None = None
    changes_state: bool = False

    def weight_for(self, params: Mapping[str, Any]) -> int:
        if self.weight_without_market is not None and "market" not in params:
            return self.weight_without_market
        return self.weight


MARKETS = Endpoint("GET /markets", "public_get_markets", 1)
TICKER_PRICE = Endpoint("GET /ticker/price", "public_get_ticker_price", 1)
TICKER_BOOK = Endpoint("GET /ticker/book", "public_get_ticker_book", 1)
CANDLES = Endpoint("GET /{market}/candles", "public_get_market_candles", 1)
BOOK = Endpoint("GET /{market}/book", "public_get_market_book", 1)
BALANCE = Endpoint("GET /balance", "private_get_balance", 5)
FEES = Endpoint("GET /account/fees", "private_get_account_fees", 1)
GET_ORDER = Endpoint("GET /order", "private_get_order", 1)
OPEN_ORDERS = Endpoint("GET /ordersOpen", "private_get_ordersopen", 5, weight_without_market=100)
ORDERS = Endpoint("GET /orders", "private_get_orders", 5)
TRADES = Endpoint("GET /trades", "private_get_trades", 5)
PLACE_ORDER = Endpoint("POST /order", "private_post_order", 1, changes_state=True)
CANCEL_ORDER = Endpoint("DELETE /order", "private_delete_order", 1, changes_state=True)
DEPOSIT = Endpoint("GET /deposit", "private_get_deposit", 1)
# The key-permission probes (exchange/verify.py). Neither can change anything even if the exchange accepted it:
# the cancel names a random order id, the withdrawal is below every minimum to an address that cannot exist.
# So they are not state-changing, and a read-only session may send them: asking the exchange is their point.
PROBE_CANCEL = Endpoint("DELETE /order (permission probe)", "private_delete_order", 1)
PROBE_WITHDRAWAL = Endpoint("POST /withdrawal (permission probe)", "private_post_withdrawal", 1)
