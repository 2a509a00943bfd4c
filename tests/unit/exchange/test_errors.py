"""The ccxt/HTTP → autoinvest.errors mapping, case by case."""

from __future__ import annotations

import ccxt.async_support as ccxt
import pytest

from autoinvest import errors
from autoinvest.exchange._bitvavo import BitvavoErrorResponse
from autoinvest.exchange.errors import ban_expiry_ms, translate


def rejection(code: int, http: int = 400, message: str = "x") -> BitvavoErrorResponse:
    return BitvavoErrorResponse(http_status=http, error_code=code, error_message=message)


@pytest.mark.parametrize(
    ("code", "http", "expected"),
    [
        (216, 400, errors.InsufficientFunds),
        (217, 400, errors.BelowMinimum),
        (212, 400, errors.BelowMinimum),
        (203, 400, errors.InvalidOrder),  # operatorId missing
        (205, 400, errors.InvalidOrder),  # clientOrderId invalid
        (230, 400, errors.InvalidOrder),
        (240, 404, errors.OrderNotFound),
        (233, 400, errors.OrderNotFound),
        (304, 403, errors.AuthenticationFailed),
        (309, 403, errors.AuthenticationFailed),
        (310, 403, errors.PermissionDenied),
        (311, 403, errors.PermissionDenied),
        (105, 429, errors.RateLimited),
        (110, 429, errors.RateLimited),  # the docs' other spelling of the ban, recognised by its status
    ],
)
@pytest.mark.parametrize("changes_state", [True, False])
def test_definitive_codes_map_the_same_for_reads_and_writes(
    code: int, http: int, expected: type[errors.ExchangeError], changes_state: bool
) -> None:
    error = translate(rejection(code, http), operation="POST /order", changes_state=changes_state)
    assert type(error) is expected
    assert error.definitive


@pytest.mark.parametrize("code", [101, 107, 108, 109, 400, 404, 999])
def test_may_or_may_not_have_happened_codes(code: int) -> None:
    assert type(translate(rejection(code, 500), operation="w", changes_state=True)) is errors.OutcomeUnknown
    assert type(translate(rejection(code, 500), operation="r", changes_state=False)) is errors.ExchangeUnavailable


@pytest.mark.parametrize(
    "failure",
    [
        ccxt.RequestTimeout("bitvavo POST http://sim/v2/order"),
        ccxt.ExchangeNotAvailable("bitvavo POST http://sim/v2/order 500 Internal Server Error"),
        ccxt.NetworkError("reset"),
        ccxt.ExchangeError("unclassified"),
        ConnectionResetError(),
        RuntimeError("anything else"),
    ],
)
def test_unknown_failures_are_outcome_unknown_for_writes_and_unavailable_for_reads(failure: Exception) -> None:
    write = translate(failure, operation="POST /order", changes_state=True)
    read = translate(failure, operation="GET /order", changes_state=False)
    assert type(write) is errors.OutcomeUnknown
    assert not write.definitive
    assert type(read) is errors.ExchangeUnavailable


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (ccxt.RateLimitExceeded("429"), errors.RateLimited),
        (ccxt.DDoSProtection("418"), errors.RateLimited),
        (ccxt.AuthenticationError("401"), errors.AuthenticationFailed),
        (ccxt.PermissionDenied("no"), errors.PermissionDenied),
        (ccxt.ArgumentsRequired("client side"), errors.InvalidOrder),
    ],
)
def test_ccxt_classes_without_a_code(failure: Exception, expected: type[errors.ExchangeError]) -> None:
    assert type(translate(failure, operation="POST /order", changes_state=True)) is expected


def test_a_client_order_id_conflict_on_place_is_not_a_definitive_rejection() -> None:
    # An open order already carries this clientOrderId: the caller must look it up, not void its execution.
    error = translate(rejection(220), operation="POST /order", changes_state=True)
    assert type(error) is errors.OutcomeUnknown
    assert not error.definitive


def test_our_own_errors_pass_through() -> None:
    mine = errors.RateLimited("budget")
    assert translate(mine, operation="x", changes_state=True) is mine


def test_messages_name_the_operation_and_code_but_nothing_sent() -> None:
    error = translate(rejection(309, 403, "The signature is invalid."), operation="POST /order", changes_state=True)
    assert str(error) == ("[EXCHANGE_AUTH_FAILED] POST /order: bitvavo error 309 (HTTP 403): The signature is invalid.")


def test_reads_the_ban_expiry() -> None:
    ban = rejection(
        105,
        429,
        "Your IP or API key has been banned for not respecting the rate limit. The ban expires at 1625097600000.",
    )
    assert ban_expiry_ms(ban) == 1625097600000
    assert ban_expiry_ms(rejection(216)) is None
