"""A minimal signed Bitvavo client over httpx, for asserting HTTP-level behaviour (statuses, codes, headers)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx

from tests.support.simulator import SimKey


def signature(secret: str, timestamp: int, method: str, target: str, body: str) -> str:
    return hmac.new(secret.encode(), f"{timestamp}{method}{target}{body}".encode(), hashlib.sha256).hexdigest()


def call(
    base_v2: str,
    key: SimKey | None,
    method: str,
    path: str,
    params: dict[str, Any] | None = None,
    body: dict[str, Any] | None = None,
    timestamp: int | None = None,
    window: int | None = None,
    secret: str | None = None,
) -> httpx.Response:
    """Sign exactly what is sent: /v2 + path + raw query, compact JSON body."""
    query = ("?" + urlencode(params)) if params else ""
    raw_body = json.dumps(body, separators=(",", ":")) if body is not None else ""
    headers: dict[str, str] = {}
    if key is not None:
        ts = timestamp if timestamp is not None else int(time.time() * 1000)
        headers = {
            "Bitvavo-Access-Key": key.api_key,
            "Bitvavo-Access-Timestamp": str(ts),
            "Bitvavo-Access-Signature": signature(secret or key.api_secret, ts, method, "/v2" + path + query,
                                                  raw_body),
        }
        if window is not None:
            headers["Bitvavo-Access-Window"] = str(window)
    if raw_body:
        headers["Content-Type"] = "application/json"
    return httpx.request(method, base_v2 + path + query, headers=headers, content=raw_body or None, timeout=30)


def place_order(base_v2: str, key: SimKey, *, operator_id: int = 1, **body: Any) -> dict[str, Any]:
    """POST /order on BTC-EUR (unless `market` is given); asserts HTTP 200 and returns the order."""
    response = call(base_v2, key, "POST", "/order", body={"market": "BTC-EUR", "operatorId": operator_id, **body})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def get_order(base_v2: str, key: SimKey, order_id: str, market: str = "BTC-EUR") -> dict[str, Any]:
    result: dict[str, Any] = call(base_v2, key, "GET", "/order", {"market": market, "orderId": order_id}).json()
    return result
