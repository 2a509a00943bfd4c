"""Requests are signed with Bitvavo's scheme, and with a per-call timestamp and window when given one."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from autoinvest.exchange._bitvavo import SIGNING_PARAM, SignedBitvavo, signature
from autoinvest.exchange.base import Signing

SECRET = "bitvavo"
KEY = "k" * 64


class RecordingBitvavo(SignedBitvavo):
    """Sends nothing: records what ccxt would send, pausing so concurrent calls interleave."""

    def __init__(self) -> None:
        super().__init__(
            {"apiKey": KEY, "secret": SECRET, "urls": {"api": {"public": "http://sim", "private": "http://sim"}}},
            default_window_ms=7_000,
            on_headers=lambda headers: None,
        )
        self.sent: list[dict[str, Any]] = []

    async def fetch(self, url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        await asyncio.sleep(0.01)
        self.sent.append({"url": url, "method": method, "headers": dict(headers or {}), "body": body})
        return {"ok": True}


def test_matches_the_documented_test_vector() -> None:
    exchange = RecordingBitvavo()
    params = {"market": "BTC-EUR", "side": "buy", "price": "5000", "amount": "1.23", "orderType": "limit"}
    request = exchange.sign("order", ["private"], "POST", {**params, SIGNING_PARAM: Signing(1548172481125, 5_000)})

    assert request["headers"]["BITVAVO-ACCESS-SIGNATURE"] == (
        "44d022723a20973a18f7ee97398b9fdd405d2d019c8d39e24b8cc0dcb39ca016"
    )
    assert request["headers"]["BITVAVO-ACCESS-TIMESTAMP"] == "1548172481125"
    assert request["headers"]["BITVAVO-ACCESS-WINDOW"] == "5000"
    assert json.loads(request["body"]) == params  # the override is not sent


def test_without_an_override_signs_now_with_the_default_window() -> None:
    exchange = RecordingBitvavo()
    before = exchange.milliseconds()
    request = exchange.sign("order", ["private"], "GET", {"market": "BTC-EUR", "orderId": "abc"})
    headers = request["headers"]

    assert request["url"] == "http://sim/v2/order?market=BTC-EUR&orderId=abc"
    assert before <= int(headers["BITVAVO-ACCESS-TIMESTAMP"]) <= exchange.milliseconds()
    assert headers["BITVAVO-ACCESS-WINDOW"] == "7000"
    assert headers["BITVAVO-ACCESS-SIGNATURE"] == signature(
        SECRET, int(headers["BITVAVO-ACCESS-TIMESTAMP"]), "GET", "/v2/order?market=BTC-EUR&orderId=abc", ""
    )


def test_a_query_override_is_not_sent_on_get_or_delete() -> None:
    exchange = RecordingBitvavo()
    request = exchange.sign("order", ["private"], "DELETE", {"market": "BTC-EUR", SIGNING_PARAM: Signing(5, 100)})
    assert request["url"] == "http://sim/v2/order?market=BTC-EUR"
    assert request["headers"]["BITVAVO-ACCESS-TIMESTAMP"] == "5"


def test_public_requests_stay_unsigned_and_refuse_an_override() -> None:
    exchange = RecordingBitvavo()
    assert exchange.sign("markets", ["public"], "GET", {})["headers"] is None
    with pytest.raises(ValueError):
        exchange.sign("markets", ["public"], "GET", {SIGNING_PARAM: Signing(5, 100)})


async def test_concurrent_orders_are_each_signed_with_their_own_timestamp() -> None:
    exchange = RecordingBitvavo()
    signings = [Signing(1_700_000_000_000 + i * 1_000, 1_000 + i) for i in range(5)]

    async def place(i: int) -> None:
        body = {"market": "BTC-EUR", "side": "buy", "orderType": "market", "amountQuote": str(10 + i)}
        await exchange.private_post_order({**body, SIGNING_PARAM: signings[i]})

    await asyncio.gather(*(place(i) for i in range(5)))

    assert len(exchange.sent) == 5
    for sent in exchange.sent:
        i = int(json.loads(sent["body"])["amountQuote"]) - 10
        headers = sent["headers"]
        assert headers["BITVAVO-ACCESS-TIMESTAMP"] == str(signings[i].timestamp_ms)
        assert headers["BITVAVO-ACCESS-WINDOW"] == str(signings[i].window_ms)
        assert headers["BITVAVO-ACCESS-SIGNATURE"] == signature(
            SECRET, signings[i].timestamp_ms, "POST", "/v2/order", sent["body"]
        )


@pytest.mark.parametrize(("timestamp_ms", "window_ms"), [(0, 1_000), (1, 99), (1, 60_001)])
def test_signing_rejects_out_of_range_values(timestamp_ms: int, window_ms: int) -> None:
    with pytest.raises(ValueError):
        Signing(timestamp_ms, window_ms)
