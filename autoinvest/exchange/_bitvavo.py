"""A thin subclass of ccxt's async ``bitvavo``: per-call signing, structured errors, rate-limit headers.

* ``sign``: a private request carrying ``SIGNING_PARAM`` (a :class:`Signing`) in its
  params is signed with that timestamp and access window instead of "now" and the
  default. The override travels with the call's own params, so concurrent calls
  never see each other's values (no shared state is mutated).
* ``handle_errors``: a body with Bitvavo's ``errorCode`` becomes
  :class:`BitvavoErrorResponse` carrying the code; ``exchange.errors`` maps it.
* ``on_rest_response``: hands every response's headers to the key's budget.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from typing import Any

import ccxt.async_support as ccxt

from autoinvest.exchange.base import Signing

SIGNING_PARAM = "__autoinvest_signing"

_TIMESTAMP_HEADER = "BITVAVO-ACCESS-TIMESTAMP"
_SIGNATURE_HEADER = "BITVAVO-ACCESS-SIGNATURE"
_WINDOW_HEADER = "BITVAVO-ACCESS-WINDOW"


class BitvavoErrorResponse(ccxt.ExchangeError):  # type: ignore[misc]
    """The exchange answered with an ``{"errorCode": ..., "error": ...}`` body."""

    def __init__(self, *, http_status: int, error_code: int, error_message: str) -> None:
        super().__init__(f"bitvavo error {error_code} (HTTP {http_status}): {error_message}")
        self.http_status = http_status
        self.error_code = error_code
        self.error_message = error_message


def signature(secret: str, timestamp_ms: int, method: str, path_and_query: str, body: str) -> str:
    """Bitvavo's request signature: hex HMAC-SHA256 of timestamp + METHOD + /v2/path?query + body."""
    message = f"{timestamp_ms}{method}{path_and_query}{body}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


class SignedBitvavo(ccxt.bitvavo):  # type: ignore[misc]
    def __init__(
        self,
        config: dict[str, Any],
        *,
        default_window_ms: int,
        on_headers: Callable[[Mapping[str, str]], None],
    ) -> None:
        super().__init__(config)
        self._default_window_ms = default_window_ms
        self._on_headers = on_headers

    def sign(self, path: str, api: Any = "public", method: str = "GET", params: Any = None) -> dict[str, Any]:
        params = dict(params or {})
        signing = params.pop(SIGNING_PARAM, None)
        request: dict[str, Any] = super().sign(path, api, method, params)
        headers = request.get("headers")
        if not headers or _SIGNATURE_HEADER not in headers:
            if signing is not None:
                raise ValueError("only private requests can carry a signing override")
            return request  # public endpoints are sent unsigned
        if signing is None:
            signing = Signing(timestamp_ms=int(self.milliseconds()), window_ms=self._default_window_ms)
        if not isinstance(signing, Signing):
            raise TypeError(f"{SIGNING_PARAM} must be a Signing")
        api_name = api[0] if isinstance(api, list) else api
        base = self.urls["api"][api_name]
        path_and_query = request["url"][len(base) :]
        headers[_TIMESTAMP_HEADER] = str(signing.timestamp_ms)
        headers[_WINDOW_HEADER] = str(signing.window_ms)
        headers[_SIGNATURE_HEADER] = signature(
            self.secret, signing.timestamp_ms, method, path_and_query, request.get("body") or ""
        )
        return request

    def handle_errors(
        self,
        code: int,
        reason: str,
        url: str,
        method: str,
        headers: Any,
        body: str,
        response: Any,
        request_headers: Any,
        request_body: Any,
    ) -> None:
        if isinstance(response, dict) and response.get("errorCode") is not None:
            try:
                error_code = int(response["errorCode"])
            except (TypeError, ValueError):
                error_code = 0
            raise BitvavoErrorResponse(
                http_status=int(code), error_code=error_code, error_message=str(response.get("error", ""))
            )
        # No errorCode: ccxt's HTTP-status handling decides (429 → rate limit, 5xx → unavailable).

    def on_rest_response(
        self,
        code: int,
        reason: str,
        url: str,
        method: str,
        response_headers: Any,
        response_body: Any,
        request_headers: Any,
        request_body: Any,
    ) -> Any:
        if isinstance(response_headers, Mapping):
            self._on_headers(response_headers)
        return super().on_rest_response(
            code, reason, url, method, response_headers, response_body, request_headers, request_body
        )
