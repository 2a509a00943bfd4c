"""Raw Bitvavo JSON (strings for money) → our frozen report types, money as Decimal.

A malformed payload raises ``ExchangeError`` naming the field: it is a fault of
the exchange (or simulator), not of the caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from autoinvest.domain.money import parse_decimal
from autoinvest.domain.states import Side
from autoinvest.errors import ExchangeError
from autoinvest.exchange.base import (
    Balance,
    BookLevel,
    CancelReport,
    Candle,
    Fees,
    FillReport,
    Market,
    OrderBook,
    OrderReport,
    Ticker,
)
from autoinvest.reasons import EXCHANGE_MALFORMED_RESPONSE


def malformed(message: str) -> ExchangeError:
    return ExchangeError(message, reason=EXCHANGE_MALFORMED_RESPONSE)


def _field(raw: Mapping[str, Any], key: str) -> Any:
    try:
        return raw[key]
    except KeyError:
        raise malformed(f"exchange response lacks {key!r}") from None


def money(raw: Mapping[str, Any], key: str) -> Decimal:
    value = _field(raw, key)
    try:
        # Bitvavo sends money as strings; parse_decimal refuses floats, so nothing lossy slips through.
        return parse_decimal(value, field=key)
    except ValueError as e:
        raise malformed(f"exchange field {key!r} is not a decimal string") from e


def optional_money(raw: Mapping[str, Any], key: str) -> Decimal | None:
    if raw.get(key) in (None, ""):
        return None
    return money(raw, key)


def integer(raw: Mapping[str, Any], key: str) -> int:
    value = _field(raw, key)
    # Timestamps arrive as ints, or as digit strings in some live captures.
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise malformed(f"exchange field {key!r} is not an integer")
    try:
        return int(value)
    except ValueError:
        raise malformed(f"exchange field {key!r} is not an integer") from None


def optional_integer(raw: Mapping[str, Any], key: str) -> int | None:
    return None if raw.get(key) in (None, "") else integer(raw, key)


def text(raw: Mapping[str, Any], key: str) -> str:
    return str(_field(raw, key))


def optional_text(raw: Mapping[str, Any], key: str) -> str | None:
    value = raw.get(key)
    return None if value in (None, "") else str(value)


def side(raw: Mapping[str, Any]) -> Side:
    try:
        return Side(text(raw, "side"))
    except ValueError:
        raise malformed("exchange field 'side' is neither buy nor sell") from None


def as_object(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise malformed(f"expected a JSON object from the exchange, got {type(raw).__name__}")
    return raw


def as_list(raw: Any) -> list[Any]:
    if isinstance(raw, dict):
        return [raw]  # some endpoints answer a single object when filtered by market
    if not isinstance(raw, list):
        raise malformed(f"expected a JSON array from the exchange, got {type(raw).__name__}")
    return raw


def market(raw: Any) -> Market:
    raw = as_object(raw)
    return Market(
        market=text(raw, "market"),
        base=text(raw, "base"),
        quote=text(raw, "quote"),
        status=text(raw, "status"),
        tick_size=optional_money(raw, "tickSize"),
        quantity_decimals=optional_integer(raw, "quantityDecimals"),
        notional_decimals=optional_integer(raw, "notionalDecimals"),
        min_order_in_base_asset=optional_money(raw, "minOrderInBaseAsset"),
        min_order_in_quote_asset=optional_money(raw, "minOrderInQuoteAsset"),
        max_order_in_base_asset=optional_money(raw, "maxOrderInBaseAsset"),
        max_order_in_quote_asset=optional_money(raw, "maxOrderInQuoteAsset"),
        raw=raw,
    )


def tickers(prices: Any, books: Any) -> dict[str, Ticker]:
    price_by_market = {text(p, "market"): optional_money(p, "price") for p in map(as_object, as_list(prices))}
    book_by_market = {text(b, "market"): b for b in map(as_object, as_list(books))}
    result: dict[str, Ticker] = {}
    for name in sorted(price_by_market.keys() | book_by_market.keys()):
        book = book_by_market.get(name, {})
        result[name] = Ticker(
            market=name,
            price=price_by_market.get(name),
            bid=optional_money(book, "bid"),
            bid_size=optional_money(book, "bidSize"),
            ask=optional_money(book, "ask"),
            ask_size=optional_money(book, "askSize"),
        )
    return result


def candle(raw: Any) -> Candle:
    if not isinstance(raw, list) or len(raw) < 6:
        raise malformed("a candle must be [timestamp, open, high, low, close, volume]")
    row = dict(zip(("timestamp", "open", "high", "low", "close", "volume"), raw, strict=False))
    return Candle(
        timestamp=integer(row, "timestamp"),
        open=money(row, "open"),
        high=money(row, "high"),
        low=money(row, "low"),
        close=money(row, "close"),
        volume=money(row, "volume"),
    )


def _levels(raw: Any, key: str) -> tuple[BookLevel, ...]:
    levels = []
    for level in as_list(raw.get(key, [])):
        if not isinstance(level, list) or len(level) < 2:
            raise malformed(f"order book {key} level must be [price, amount]")
        row = {"price": level[0], "amount": level[1]}
        levels.append(BookLevel(price=money(row, "price"), amount=money(row, "amount")))
    return tuple(levels)


def order_book(raw: Any) -> OrderBook:
    raw = as_object(raw)
    return OrderBook(
        market=text(raw, "market"),
        nonce=optional_integer(raw, "nonce"),
        timestamp=optional_integer(raw, "timestamp"),
        bids=_levels(raw, "bids"),
        asks=_levels(raw, "asks"),
    )


def balance(raw: Any) -> Balance:
    raw = as_object(raw)
    return Balance(symbol=text(raw, "symbol"), available=money(raw, "available"), in_order=money(raw, "inOrder"))


def fees(raw: Any) -> Fees:
    raw = as_object(raw)
    return Fees(
        tier=optional_text(raw, "tier"),
        volume=optional_money(raw, "volume"),
        taker=money(raw, "taker"),
        maker=money(raw, "maker"),
    )


def fill(raw: Any, *, order: Mapping[str, Any] | None = None) -> FillReport:
    """Parse a fill from ``GET /trades``, or one of an order's ``fills`` (then ``order`` gives the ids)."""
    raw = as_object(raw)
    source = order if order is not None else raw
    taker = raw.get("taker")
    return FillReport(
        fill_id=text(raw, "id"),
        order_id=optional_text(source, "orderId"),
        client_order_id=optional_text(source, "clientOrderId"),
        market=text(source, "market"),
        side=side(source),
        amount=money(raw, "amount"),
        price=money(raw, "price"),
        fee=optional_money(raw, "fee") or Decimal(0),
        fee_currency=optional_text(raw, "feeCurrency"),
        taker=taker if isinstance(taker, bool) else None,
        timestamp=integer(raw, "timestamp"),
    )


def order(raw: Any) -> OrderReport:
    raw = as_object(raw)
    return OrderReport(
        order_id=text(raw, "orderId"),
        client_order_id=optional_text(raw, "clientOrderId"),
        market=text(raw, "market"),
        side=side(raw),
        order_type=text(raw, "orderType"),
        status=text(raw, "status"),
        amount=optional_money(raw, "amount"),
        amount_quote=optional_money(raw, "amountQuote"),
        price=optional_money(raw, "price"),
        filled_amount=optional_money(raw, "filledAmount") or Decimal(0),
        filled_amount_quote=optional_money(raw, "filledAmountQuote") or Decimal(0),
        fee_paid=optional_money(raw, "feePaid") or Decimal(0),
        fee_currency=optional_text(raw, "feeCurrency"),
        created=integer(raw, "created"),
        updated=optional_integer(raw, "updated"),
        fills=tuple(fill(f, order=raw) for f in as_list(raw.get("fills") or [])),
        raw=raw,
    )


def cancel(raw: Any) -> CancelReport:
    raw = as_object(raw)
    return CancelReport(order_id=text(raw, "orderId"), client_order_id=optional_text(raw, "clientOrderId"))
