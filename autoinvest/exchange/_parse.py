"""Raw Bitvavo JSON (strings for money) → our frozen report types, money as Decimal.

A malformed payload raises ``ExchangeError`` naming the field: it is a fault of
the exchange (or simulator), not of the caller. Every number is validated here,
at the edge (finite, below ``MAX_MAGNITUDE``, at most ``MAX_DECIMALS`` places,
positive or non-negative where it must be): a poison value (``1E+999999``,
``-1``) raises ``EXCHANGE_NUMBER_INVALID`` instead of reaching the arithmetic or
a CHECK as an error that is not ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

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
from autoinvest.reasons import EXCHANGE_MALFORMED_RESPONSE, EXCHANGE_NUMBER_INVALID

#: No amount, price or fee we handle comes near 10^15 (a quadrillion euros or coins): beyond is garbage.
MAX_MAGNITUDE = Decimal("1E+15")
#: More decimal places than any Bitvavo amount or fee has (8), with room; beyond is garbage.
MAX_DECIMALS = 18
#: Integers (millisecond timestamps, nonces, decimals counts) below this; PostgreSQL's timestamps end near 9.2e15 ms.
MAX_INTEGER = 10**15

Sign = Literal["positive", "non_negative"]


def malformed(message: str) -> ExchangeError:
    return ExchangeError(message, reason=EXCHANGE_MALFORMED_RESPONSE)


def _field(raw: Mapping[str, Any], key: str) -> Any:
    try:
        return raw[key]
    except KeyError:
        raise malformed(f"exchange response lacks {key!r}") from None


def invalid_number(message: str) -> ExchangeError:
    return ExchangeError(message, reason=EXCHANGE_NUMBER_INVALID)


def money(raw: Mapping[str, Any], key: str, sign: Sign = "non_negative") -> Decimal:
    value = _field(raw, key)
    try:
        # Bitvavo sends money as strings; parse_decimal refuses floats, so nothing lossy slips through.
        number = parse_decimal(value, field=key)
    except ValueError as e:
        raise malformed(f"exchange field {key!r} is not a decimal string") from e
    return checked(number, key, sign)


def checked(number: Decimal, key: str, sign: Sign) -> Decimal:
    """``number`` if it is a sane exchange number of that sign, else EXCHANGE_NUMBER_INVALID."""
    # copy_abs and as_tuple are exact (abs() and normalize() would round to the context's 28 digits).
    if not number.is_finite() or number.copy_abs() >= MAX_MAGNITUDE:
        raise invalid_number(f"exchange field {key!r} is out of range: {number}")
    if _decimal_places(number) > MAX_DECIMALS:
        raise invalid_number(f"exchange field {key!r} has more than {MAX_DECIMALS} decimal places: {number}")
    if number < 0 or (sign == "positive" and number == 0):
        raise invalid_number(f"exchange field {key!r} must be {sign.replace('_', '-')}, got {number}")
    return number


def _decimal_places(number: Decimal) -> int:
    """Places after the point, trailing zeros not counted ("1.50" has 1)."""
    _sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -exponent - trailing) if any(digits) else 0


def optional_money(raw: Mapping[str, Any], key: str, sign: Sign = "non_negative") -> Decimal | None:
    if raw.get(key) in (None, ""):
        return None
    return money(raw, key, sign)


def integer(raw: Mapping[str, Any], key: str) -> int:
    value = _field(raw, key)
    # Timestamps arrive as ints, or as digit strings in some live captures.
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise malformed(f"exchange field {key!r} is not an integer")
    try:
        number = int(value)
    except ValueError:
        raise malformed(f"exchange field {key!r} is not an integer") from None
    if not 0 <= number < MAX_INTEGER:
        raise invalid_number(f"exchange field {key!r} is out of range: {number}")
    return number


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
        tick_size=optional_money(raw, "tickSize", "positive"),
        quantity_decimals=optional_integer(raw, "quantityDecimals"),
        notional_decimals=optional_integer(raw, "notionalDecimals"),
        min_order_in_base_asset=optional_money(raw, "minOrderInBaseAsset"),
        min_order_in_quote_asset=optional_money(raw, "minOrderInQuoteAsset"),
        max_order_in_base_asset=optional_money(raw, "maxOrderInBaseAsset"),
        max_order_in_quote_asset=optional_money(raw, "maxOrderInQuoteAsset"),
        raw=raw,
    )


def tickers(prices: Any, books: Any) -> dict[str, Ticker]:
    price_by_market = {text(p, "market"): optional_money(p, "price", "positive")
                       for p in map(as_object, as_list(prices))}
    book_by_market = {text(b, "market"): b for b in map(as_object, as_list(books))}
    result: dict[str, Ticker] = {}
    for name in sorted(price_by_market.keys() | book_by_market.keys()):
        book = book_by_market.get(name, {})
        result[name] = Ticker(
            market=name,
            price=price_by_market.get(name),
            bid=optional_money(book, "bid", "positive"),
            bid_size=optional_money(book, "bidSize"),
            ask=optional_money(book, "ask", "positive"),
            ask_size=optional_money(book, "askSize"),
        )
    return result


def candle(raw: Any) -> Candle:
    if not isinstance(raw, list) or len(raw) < 6:
        raise malformed("a candle must be [timestamp, open, high, low, close, volume]")
    row = dict(zip(("timestamp", "open", "high", "low", "close", "volume"), raw, strict=False))
    return Candle(
        timestamp=integer(row, "timestamp"),
        open=money(row, "open", "positive"),
        high=money(row, "high", "positive"),
        low=money(row, "low", "positive"),
        close=money(row, "close", "positive"),
        volume=money(row, "volume"),
    )


def _levels(raw: Any, key: str) -> tuple[BookLevel, ...]:
    levels = []
    for level in as_list(raw.get(key, [])):
        if not isinstance(level, list) or len(level) < 2:
            raise malformed(f"order book {key} level must be [price, amount]")
        row = {"price": level[0], "amount": level[1]}
        levels.append(BookLevel(price=money(row, "price", "positive"), amount=money(row, "amount")))
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
        taker=fee_rate(raw, "taker"),
        maker=fee_rate(raw, "maker"),
    )


def fee_rate(raw: Mapping[str, Any], key: str) -> Decimal:
    rate = money(raw, key)
    if rate >= 1:  # a fee rate of 100 % or more is garbage, and would make every reservation wrong
        raise invalid_number(f"exchange fee rate {key!r} must be below 1, got {rate}")
    return rate


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
        amount=money(raw, "amount", "positive"),
        price=money(raw, "price", "positive"),
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
        amount=optional_money(raw, "amount", "positive"),
        amount_quote=optional_money(raw, "amountQuote", "positive"),
        price=optional_money(raw, "price", "positive"),
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
