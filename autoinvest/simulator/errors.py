"""Bitvavo error codes with their HTTP statuses and messages."""

from __future__ import annotations

_STATUS_BY_CODE: dict[int, int] = {
    101: 500, 105: 429, 107: 503, 108: 503, 109: 503, 110: 404, 240: 404, 400: 500, 404: 503,
}

MESSAGES: dict[int, str] = {
    101: "Unknown error. Operation may or may not have succeeded.",
    102: "The JSON object you sent is invalid.",
    107: "The matching engine is overloaded. Please wait 500ms and resubmit your order.",
    110: "Invalid endpoint. Please check url and HTTP method.",
    216: "You do not have sufficient balance to complete this operation.",
    220: "clientOrderId conflict within the market.",
    232: "You must change at least one of amount, amountRemaining, price, timeInForce, selfTradePrevention or "
    "postOnly.",
    233: "Order must be active (status new or partiallyFilled) to allow updating/cancelling.",
    234: "Market orders cannot be updated.",
    236: "You can only update amount or amountRemaining, not both.",
    240: "No order found. Please be aware that simultaneously updating the same order may return this error.",
    300: "Authentication is required for this endpoint.",
    301: "API Key must be of length 64.",
    302: "Timestamp is invalid. This must be a timestamp in ms. See Bitvavo-Access-Timestamp header or timestamp "
    "parameter for websocket.",
    303: "Window must be between 100 and 60000 ms.",
    304: "Request was not received within acceptable window (default 30s, or custom with Bitvavo-Access-Window header) "
    "of Bitvavo-Access-Timestamp header (or timestamp parameter for websocket).",
    305: "No active API key found.",
    308: "The signature length is invalid (HMAC-SHA256 should return a 64 length hexadecimal string).",
    309: "The signature is invalid.",
    310: "This key does not allow trading actions.",
    311: "This key does not allow showing account information.",
    312: "This key does not allow withdrawal of funds.",
    404: "The exchange is in maintenance. Please try again later.",
    406: "Your withdrawal is too small.",
    412: "The address you are trying to withdraw to is invalid.",
}


class ApiError(Exception):
    """An error answered to the client as {"errorCode", "error"} with Bitvavo's HTTP status."""

    def __init__(self, code: int, message: str | None = None, status: int | None = None) -> None:
        super().__init__(message or MESSAGES.get(code, "Error."))
        self.code = code
        self.message = message or MESSAGES.get(code, "Error.")
        self.status = status or _http_status(code)

    def body(self) -> dict[str, object]:
        return {"errorCode": self.code, "error": self.message}


def _http_status(code: int) -> int:
    if code in _STATUS_BY_CODE:
        return _STATUS_BY_CODE[code]
    if 300 <= code <= 320:
        return 403
    return 400


def required(param: str) -> ApiError:
    return ApiError(203, f"{param} parameter is required.")


def invalid(param: str) -> ApiError:
    return ApiError(205, f"{param} parameter is invalid.")


def rate_limited(ban_expires_ms: int) -> ApiError:
    # The official SDK parses the expiry with error.split(' at ')[1].split('.')[0]: keep " at <ms>." exactly.
    return ApiError(
        105,
        "Your IP or API key has been banned for not respecting the rate limit. The ban expires at "
        f"{ban_expires_ms}.",
    )
