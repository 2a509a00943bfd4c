"""Authentication, permission, validation and rate-limit errors at the HTTP level: statuses, codes, headers."""

from __future__ import annotations

import time
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.integration.simulator import signed
from tests.support.simulator import RunningSimulator, SimKey

OPERATOR = 99


@pytest.fixture
def key(simulator: RunningSimulator) -> SimKey:
    return simulator.admin.create_account({"EUR": "100", "BTC": "0.001"})


def order_body(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"market": "BTC-EUR", "side": "buy", "orderType": "market", "amountQuote": "10",
                            "operatorId": OPERATOR}
    body.update(extra)
    return {k: v for k, v in body.items() if v is not None}


def assert_error(response: httpx.Response, status: int, code: int) -> None:
    assert response.status_code == status, response.text
    assert response.json()["errorCode"] == code, response.text


def test_authentication_errors(simulator: RunningSimulator, key: SimKey) -> None:
    url = simulator.url
    assert_error(signed.call(url, None, "GET", "/balance"), 403, 300)
    assert_error(signed.call(url, key, "GET", "/balance", secret="wrong"), 403, 309)
    stale = int(time.time() * 1000) - 11_000
    assert_error(signed.call(url, key, "GET", "/balance", timestamp=stale), 403, 304)
    # Within a custom window the same timestamp is fine; outside the allowed range the window itself is refused.
    assert signed.call(url, key, "GET", "/balance", timestamp=stale, window=20_000).status_code == 200
    assert_error(signed.call(url, key, "GET", "/balance", window=60_001), 403, 303)
    unknown = SimKey("a" * 64, key.api_secret, key.account_id)
    assert_error(signed.call(url, unknown, "GET", "/balance"), 403, 305)
    short = SimKey("abc", key.api_secret, key.account_id)
    assert_error(signed.call(url, short, "GET", "/balance"), 403, 301)


def test_access_window_uses_the_wall_clock_not_the_simulated_clock(simulator: RunningSimulator, key: SimKey) -> None:
    simulator.admin.advance(3_600_000)  # an hour of simulated time changes nothing for signatures
    assert signed.call(simulator.url, key, "GET", "/balance").status_code == 200
    signed_at = int(time.time() * 1000) - 150
    assert_error(signed.call(simulator.url, key, "POST", "/order", body=order_body(), timestamp=signed_at,
                             window=100), 403, 304)


def test_view_only_key_cannot_trade(simulator: RunningSimulator, key: SimKey) -> None:
    viewer = simulator.admin.second_key(key.account_id, ["view"])
    assert len(viewer.api_key) == 64
    assert signed.call(simulator.url, viewer, "GET", "/balance").status_code == 200
    assert_error(signed.call(simulator.url, viewer, "POST", "/order", body=order_body()), 403, 310)
    assert_error(signed.call(simulator.url, viewer, "DELETE", "/orders", {"operatorId": OPERATOR}), 403, 310)
    assert not [o for o in simulator.admin.orders() if o["accountId"] == key.account_id]


def test_order_validation_errors(simulator: RunningSimulator, key: SimKey) -> None:
    url = simulator.url
    missing_operator = order_body(operatorId=None)
    assert_error(signed.call(url, key, "POST", "/order", body=missing_operator), 400, 203)
    assert signed.call(url, key, "POST", "/order", body=missing_operator).json()["error"] == (
        "operatorId parameter is required."
    )
    assert_error(signed.call(url, key, "POST", "/order", body=order_body(operatorId="12")), 400, 205)
    invalid_coid = signed.call(url, key, "POST", "/order", body=order_body(clientOrderId="not-a-uuid"))
    assert_error(invalid_coid, 400, 205)
    assert invalid_coid.json()["error"] == "clientOrderId parameter is invalid."
    assert_error(signed.call(url, key, "POST", "/order", body=order_body(amountQuote="1000")), 400, 216)
    assert_error(signed.call(url, key, "POST", "/order", body=order_body(amountQuote="4.99")), 400, 217)
    order_id = str(uuid.uuid4())
    assert_error(signed.call(url, key, "GET", "/order", {"market": "BTC-EUR", "orderId": order_id}), 404, 240)
    assert_error(signed.call(url, key, "DELETE", "/order", {"market": "BTC-EUR", "orderId": order_id,
                                                            "operatorId": OPERATOR}), 404, 240)
    assert_error(signed.call(url, key, "DELETE", "/order", {"market": "BTC-EUR", "orderId": order_id}), 400, 203)
    assert_error(signed.call(url, key, "GET", "/nothing"), 404, 110)
    # Nothing was created, nothing is held.
    assert not [o for o in simulator.admin.orders() if o["accountId"] == key.account_id]
    assert simulator.admin.balances(key.account_id)["EUR"]["available"] == 100


def test_duplicate_client_order_id_among_open_orders(simulator: RunningSimulator, key: SimKey) -> None:
    coid = str(uuid.uuid4())
    resting = (simulator.admin.prices()["BTC-EUR"] * Decimal("0.8")).quantize(Decimal(1))  # below the market: rests
    limit = {"market": "BTC-EUR", "side": "buy", "orderType": "limit", "amount": "0.0005", "price": str(resting),
             "operatorId": OPERATOR, "clientOrderId": coid}
    first = signed.call(simulator.url, key, "POST", "/order", body=limit)
    assert first.status_code == 200, first.text
    assert_error(signed.call(simulator.url, key, "POST", "/order", body=limit), 400, 220)
    cancel = signed.call(simulator.url, key, "DELETE", "/order",
                         {"market": "BTC-EUR", "clientOrderId": coid, "operatorId": OPERATOR})
    assert cancel.json() == {"orderId": first.json()["orderId"], "clientOrderId": coid, "operatorId": OPERATOR}
    assert_error(signed.call(simulator.url, key, "DELETE", "/order",
                             {"market": "BTC-EUR", "clientOrderId": coid, "operatorId": OPERATOR}), 400, 233)
    # Once the first order is closed its clientOrderId may be used again.
    assert signed.call(simulator.url, key, "POST", "/order", body=limit).status_code == 200


def test_rate_limit_headers_and_ban(simulator: RunningSimulator, key: SimKey) -> None:
    first = signed.call(simulator.url, key, "GET", "/balance")
    assert first.headers["bitvavo-ratelimit-limit"] == "1000"
    assert first.headers["bitvavo-ratelimit-remaining"] == "995"  # /balance weighs 5
    assert int(first.headers["bitvavo-ratelimit-resetat"]) > time.time() * 1000
    with httpx.Client(timeout=10) as client:
        for _ in range(199):
            response = client.send(_signed_request(simulator, key))
            assert response.status_code == 200
        banned = client.send(_signed_request(simulator, key))
    assert_error(banned, 429, 105)
    message = banned.json()["error"]
    expires = int(message.split(" at ")[1].split(".")[0])  # exactly how the official SDK parses it
    assert expires > time.time() * 1000
    # Per key: another key of another account is unaffected.
    other = simulator.admin.create_account({"EUR": "1"})
    assert signed.call(simulator.url, other, "GET", "/balance").status_code == 200


def _signed_request(simulator: RunningSimulator, key: SimKey) -> httpx.Request:
    ts = int(time.time() * 1000)
    sig = signed.signature(key.api_secret, ts, "GET", "/v2/balance", "")
    return httpx.Request("GET", simulator.url + "/balance", headers={
        "Bitvavo-Access-Key": key.api_key, "Bitvavo-Access-Timestamp": str(ts), "Bitvavo-Access-Signature": sig,
    })
