"""The one place where ccxt / HTTP / network failures become ``autoinvest.errors``.

Bitvavo error codes are mapped first (they are precise); failures without a
code are mapped by kind. A failure whose effect is unknown (timeout, reset,
5xx, "may or may not have succeeded" codes, anything unclassified) becomes
``OutcomeUnknown`` on a call that changes state, and ``ExchangeUnavailable`` on
a read. Messages carry the operation, the code and the exchange's text: never
a key, secret, signature or request body.
"""

from __future__ import annotations

import re

import ccxt.async_support as ccxt

from autoinvest.errors import (
    AuthenticationFailed,
    BelowMinimum,
    ExchangeError,
    ExchangeUnavailable,
    InsufficientFunds,
    InvalidOrder,
    OrderNotFound,
    OutcomeUnknown,
    PermissionDenied,
    RateLimited,
)
from autoinvest.exchange._bitvavo import BitvavoErrorResponse

INSUFFICIENT_FUNDS_CODES = frozenset({216, 408})
BELOW_MINIMUM_CODES = frozenset({212, 217})  # below minOrderInBaseAsset / minOrderInQuoteAsset
NOT_FOUND_CODES = frozenset({233, 240})  # 233: no longer active (filled or canceled), for update/cancel
AUTHENTICATION_CODES = frozenset({300, 301, 302, 303, 304, 305, 306, 308, 309})
PERMISSION_CODES = frozenset({307, 310, 311, 312, 317, 402, 403})
RATE_LIMIT_CODES = frozenset({103, 104, 105, 112})
#: The exchange itself says the operation may or may not have happened, or it could not tell.
UNCERTAIN_CODES = frozenset({101, 107, 108, 109, 400, 404, 419, 430})
#: clientOrderId already used by an OPEN order: this request was refused, but an order with this id lives.
#: Reporting it as a definitive rejection would make the caller forget that order; as an unknown
#: outcome, the caller asks the exchange by clientOrderId and finds it.
CLIENT_ORDER_ID_CONFLICT = 220
#: Request validation and matching-engine rejections: the order was certainly not accepted.
#: 102 invalid JSON, 110 invalid endpoint, 2xx parameters/limits/rejections, 42x price/market state.
INVALID_CODES = frozenset({102, 110, *range(200, 240), 415, 422, 423, 424, 425, 426, 429, 431}) - (
    INSUFFICIENT_FUNDS_CODES | BELOW_MINIMUM_CODES | NOT_FOUND_CODES | {CLIENT_ORDER_ID_CONFLICT}
)

_BAN_EXPIRY = re.compile(r" at (\d{10,})\.")


def ban_expiry_ms(error: BaseException) -> int | None:
    """The epoch ms a rate-limit ban ends, when the exchange said so (error 105: "... expires at <ms>.")."""
    if isinstance(error, BitvavoErrorResponse):
        match = _BAN_EXPIRY.search(error.error_message)
        if match:
            return int(match.group(1))
    return None


def translate(error: Exception, *, operation: str, changes_state: bool) -> ExchangeError:
    """Return the error of our tree for a failure of ``operation`` (raise it ``from error``)."""
    if isinstance(error, ExchangeError):
        return error
    if isinstance(error, BitvavoErrorResponse):
        return _from_code(error, operation=operation, changes_state=changes_state)
    kind = type(error).__name__
    # Order matters: ccxt's PermissionDenied subclasses AuthenticationError, DDoSProtection is a NetworkError.
    if isinstance(error, ccxt.PermissionDenied):
        return PermissionDenied(f"{operation}: permission denied ({kind})")
    if isinstance(error, ccxt.AuthenticationError):
        return AuthenticationFailed(f"{operation}: authentication failed ({kind})")
    if isinstance(error, ccxt.RateLimitExceeded | ccxt.DDoSProtection):
        return RateLimited(f"{operation}: rate limited ({kind})")
    if isinstance(error, ccxt.InsufficientFunds):
        return InsufficientFunds(f"{operation}: insufficient funds ({kind})")
    if isinstance(error, ccxt.OrderNotFound):
        return OrderNotFound(f"{operation}: order not found ({kind})")
    if isinstance(error, ccxt.InvalidOrder | ccxt.ArgumentsRequired | ccxt.BadRequest | ccxt.BadSymbol):
        return InvalidOrder(f"{operation}: invalid request ({kind})")
    # Timeouts, resets, refused connections, 5xx without a body, anything else: effect unknown.
    return _unknown(f"{operation}: {kind}", changes_state=changes_state)


def _from_code(error: BitvavoErrorResponse, *, operation: str, changes_state: bool) -> ExchangeError:
    code = error.error_code
    message = f"{operation}: bitvavo error {code} (HTTP {error.http_status}): {error.error_message}"
    if code in INSUFFICIENT_FUNDS_CODES:
        return InsufficientFunds(message)
    if code in BELOW_MINIMUM_CODES:
        return BelowMinimum(message)
    if code in NOT_FOUND_CODES:
        return OrderNotFound(message)
    if code in AUTHENTICATION_CODES:
        return AuthenticationFailed(message)
    if code in PERMISSION_CODES:
        return PermissionDenied(message)
    if code in RATE_LIMIT_CODES or error.http_status == 429:
        return RateLimited(message)
    if code in INVALID_CODES:
        return InvalidOrder(message)
    if code == CLIENT_ORDER_ID_CONFLICT and changes_state:
        return OutcomeUnknown(f"{message}: an open order already has this clientOrderId; look it up")
    return _unknown(message, changes_state=changes_state)


def _unknown(message: str, *, changes_state: bool) -> ExchangeError:
    if changes_state:
        return OutcomeUnknown(f"{message}: the outcome is unknown, resolve by clientOrderId; never resend")
    return ExchangeUnavailable(message)
