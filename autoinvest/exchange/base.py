"""The two small interfaces to the exchange, and the value types they return.

``MarketData`` only reads; ``Trading`` changes state (places and cancels orders).
Scanner and proposer code depends on ``MarketData`` only and never imports the
trade implementation (an import-linter contract enforces it).

Every amount, price and fee is a ``Decimal`` parsed from the exchange's raw
strings; timestamps are integer milliseconds since the epoch.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, Protocol

from autoinvest.domain.states import Side

OrderType = Literal["market", "limit"]

#: Bitvavo statuses of an order that may still trade.
OPEN_STATUSES: frozenset[str] = frozenset({"new", "partiallyFilled", "awaitingTrigger"})
#: Bitvavo statuses of an order that is done: it trades no more.
CLOSED_STATUSES: frozenset[str] = frozenset({
    "filled", "canceled", "canceledAuction", "canceledSelfTradePrevention", "canceledIOC", "canceledFOK",
    "canceledMarketProtection", "canceledPostOnly", "expired", "rejected",
})
KNOWN_STATUSES = OPEN_STATUSES | CLOSED_STATUSES

#: Bounds of the ``Bitvavo-Access-Window`` header the exchange accepts (error 303 outside).
MIN_ACCESS_WINDOW_MS = 100
MAX_ACCESS_WINDOW_MS = 60_000


@dataclass(frozen=True, kw_only=True)
class BadItem:
    """One item of an exchange response that failed validation at the edge: kept aside, never applied."""

    exchange_url: str
    endpoint: str  #: "GET /order"
    item: Any  #: the raw JSON item as the exchange sent it (responses carry no secrets)
    reason: str  #: EXCHANGE_NUMBER_INVALID, EXCHANGE_MALFORMED_RESPONSE
    detail: str


#: Where a client hands the items it refused (``lifecycle.quarantine`` stores and counts them).
QuarantineSink = Callable[[BadItem], Awaitable[None]]


@dataclass(frozen=True, kw_only=True)
class Market:
    market: str
    base: str
    quote: str
    status: str
    tick_size: Decimal | None
    quantity_decimals: int | None
    notional_decimals: int | None
    min_order_in_base_asset: Decimal | None
    min_order_in_quote_asset: Decimal | None
    max_order_in_base_asset: Decimal | None
    max_order_in_quote_asset: Decimal | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def trading(self) -> bool:
        return self.status == "trading"


@dataclass(frozen=True, kw_only=True)
class Ticker:
    market: str
    price: Decimal | None
    bid: Decimal | None
    bid_size: Decimal | None
    ask: Decimal | None
    ask_size: Decimal | None


@dataclass(frozen=True, kw_only=True)
class Candle:
    timestamp: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


@dataclass(frozen=True)
class BookLevel:
    price: Decimal
    amount: Decimal


@dataclass(frozen=True, kw_only=True)
class OrderBook:
    market: str
    nonce: int | None
    timestamp: int | None
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]


@dataclass(frozen=True, kw_only=True)
class Balance:
    symbol: str
    available: Decimal
    in_order: Decimal


@dataclass(frozen=True, kw_only=True)
class Fees:
    tier: str | None
    volume: Decimal | None
    taker: Decimal
    maker: Decimal


@dataclass(frozen=True, kw_only=True)
class FillReport:
    fill_id: str
    order_id: str | None
    client_order_id: str | None
    market: str
    side: Side
    amount: Decimal
    price: Decimal
    fee: Decimal
    fee_currency: str | None
    taker: bool | None
    timestamp: int


@dataclass(frozen=True, kw_only=True)
class OrderReport:
    order_id: str
    client_order_id: str | None
    market: str
    side: Side
    order_type: str
    status: str
    amount: Decimal | None
    amount_quote: Decimal | None
    price: Decimal | None
    filled_amount: Decimal
    filled_amount_quote: Decimal
    fee_paid: Decimal
    fee_currency: str | None
    created: int
    updated: int | None
    fills: tuple[FillReport, ...]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def is_open(self) -> bool:
        # A status we do not know is open: closing on it would release the reservation of an order that may
        # still fill. ``lifecycle.apply`` counts it (autoinvest_order_status_unknown_total) and alerts.
        return self.status not in CLOSED_STATUSES


@dataclass(frozen=True, kw_only=True)
class CancelReport:
    order_id: str
    client_order_id: str | None


@dataclass(frozen=True, kw_only=True)
class OrderRequest:
    """One order to place. Build it with :meth:`market_order` or :meth:`limit_order`."""

    market: str
    side: Side
    order_type: OrderType
    client_order_id: str
    operator_id: int
    amount: Decimal | None = None
    amount_quote: Decimal | None = None
    price: Decimal | None = None

    def __post_init__(self) -> None:
        for name in ("amount", "amount_quote", "price"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, Decimal) or not value.is_finite() or value <= 0):
                raise ValueError(f"{name} must be a positive finite Decimal")
        if self.operator_id < 1:
            raise ValueError("operator_id must be a positive integer")
        if self.order_type == "market":
            if (self.amount is None) == (self.amount_quote is None):
                raise ValueError("a market order needs exactly one of amount or amount_quote")
            if self.price is not None:
                raise ValueError("a market order has no price")
        elif self.order_type == "limit":
            if self.amount is None or self.price is None or self.amount_quote is not None:
                raise ValueError("a limit order needs amount and price (and no amount_quote)")
        else:
            raise ValueError(f"unsupported order type {self.order_type!r}")

    @classmethod
    def market_order(
        cls,
        *,
        market: str,
        side: Side,
        client_order_id: str,
        operator_id: int,
        amount: Decimal | None = None,
        amount_quote: Decimal | None = None,
    ) -> OrderRequest:
        """Build a market order sized in base (``amount``) or in quote (``amount_quote``)."""
        return cls(
            market=market,
            side=side,
            order_type="market",
            client_order_id=client_order_id,
            operator_id=operator_id,
            amount=amount,
            amount_quote=amount_quote,
        )

    @classmethod
    def limit_order(
        cls, *, market: str, side: Side, client_order_id: str, operator_id: int, amount: Decimal, price: Decimal
    ) -> OrderRequest:
        """Build a good-till-cancelled limit order."""
        return cls(
            market=market,
            side=side,
            order_type="limit",
            client_order_id=client_order_id,
            operator_id=operator_id,
            amount=amount,
            price=price,
        )


@dataclass(frozen=True)
class Signing:
    """Sign a request with this timestamp and access window instead of "now" and the default.

    The executor signs an order with its committed ``submit_ts``: the exchange
    refuses the request once ``timestamp_ms + window_ms`` has passed, which is
    the fence that lets "not found" later mean "never placed".
    """

    timestamp_ms: int
    window_ms: int

    def __post_init__(self) -> None:
        if self.timestamp_ms <= 0:
            raise ValueError("timestamp_ms must be a positive epoch time in milliseconds")
        if not MIN_ACCESS_WINDOW_MS <= self.window_ms <= MAX_ACCESS_WINDOW_MS:
            raise ValueError(f"window_ms must be between {MIN_ACCESS_WINDOW_MS} and {MAX_ACCESS_WINDOW_MS}")

    @property
    def expires_at_ms(self) -> int:
        return self.timestamp_ms + self.window_ms


class MarketData(Protocol):
    """Read-only view of the exchange (a View-permission key)."""

    async def markets(self) -> list[Market]:
        """Return every market's metadata."""
        ...

    async def tickers(self, markets: list[str] | None = None) -> dict[str, Ticker]:
        """Return last price and best bid/ask per market (all markets when ``markets`` is None)."""
        ...

    async def candles(
        self,
        market: str,
        interval: str,
        *,
        limit: int | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> list[Candle]:
        """Return candles, oldest first."""
        ...

    async def order_book(self, market: str, *, depth: int | None = None) -> OrderBook:
        """Return the order book of one market."""
        ...

    async def balances(self) -> dict[str, Balance]:
        """Return available and in-order amounts per symbol."""
        ...

    async def fees(self, market: str | None = None) -> Fees:
        """Return this account's maker and taker fee rates."""
        ...

    async def get_order(
        self, market: str, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> OrderReport:
        """Look one order up by exactly one of ``order_id`` or ``client_order_id``."""
        ...

    async def open_orders(self, market: str | None = None) -> list[OrderReport]:
        """Return open orders (all markets when ``market`` is None)."""
        ...

    async def order_history(
        self, market: str, *, limit: int | None = None, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[OrderReport]:
        """Return orders of one market, newest first."""
        ...

    async def trades(
        self, market: str, *, limit: int | None = None, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[FillReport]:
        """Return this account's fills in one market, newest first."""
        ...

    async def close(self) -> None:
        """Release the HTTP session."""
        ...


class Trading(Protocol):
    """State-changing access to the exchange (a Trade-permission key).

    ``get_order`` is here too: the executor resolves an unknown outcome with the
    same key that placed the order (Bitvavo files order viewing under Trade).
    """

    async def place_order(self, request: OrderRequest, *, signing: Signing | None = None) -> OrderReport:
        """Place one order; raise OutcomeUnknown when the result cannot be known."""
        ...

    async def cancel_order(
        self, market: str, *, operator_id: int, order_id: str | None = None, client_order_id: str | None = None
    ) -> CancelReport:
        """Cancel one order by exactly one of ``order_id`` or ``client_order_id``."""
        ...

    async def get_order(
        self, market: str, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> OrderReport:
        """Look one order up by exactly one of ``order_id`` or ``client_order_id``."""
        ...

    async def close(self) -> None:
        """Release the HTTP session."""
        ...
