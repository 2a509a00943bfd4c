"""Fault injection: the order is created but the answer is lost; errors before processing create nothing."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator

import ccxt
import ccxt.async_support as ccxt_async
import pytest

from tests.integration.simulator import signed
from tests.support.simulator import RunningSimulator

OPERATOR = 31


@pytest.fixture
async def exchange(simulator: RunningSimulator) -> AsyncIterator[ccxt_async.bitvavo]:
    key = simulator.admin.create_account({"EUR": "1000"})
    client = ccxt_async.bitvavo({
        "apiKey": key.api_key, "secret": key.api_secret, "urls": simulator.ccxt_urls(),
        "options": {"operatorId": OPERATOR}, "enableRateLimit": False, "timeout": 5000,
    })
    client.sim_key = key
    await client.load_markets()
    yield client
    simulator.admin.clear_faults()
    await client.close()


async def test_drop_response_after_processing(simulator: RunningSimulator, exchange: ccxt_async.bitvavo) -> None:
    simulator.admin.fault("POST /order", "drop_response_after_processing", count=1)
    coid = str(uuid.uuid4())
    started = time.monotonic()
    with pytest.raises(ccxt.NetworkError):
        await exchange.create_order("BTC/EUR", "market", "buy", None, None, {"cost": 50, "clientOrderId": coid})
    assert time.monotonic() - started < 3
    created = [o for o in simulator.admin.orders() if o["clientOrderId"] == coid]
    assert len(created) == 1 and created[0]["status"] == "filled"
    key = exchange.sim_key
    found = signed.call(simulator.url, key, "GET", "/order", {"market": "BTC-EUR", "clientOrderId": coid})
    assert found.status_code == 200 and found.json()["orderId"] == created[0]["orderId"]
    via_ccxt = await exchange.fetch_order(None, "BTC/EUR", {"clientOrderId": coid})
    assert via_ccxt["id"] == created[0]["orderId"]
    # count=1: the next order is answered normally.
    assert (await exchange.create_order("BTC/EUR", "market", "buy", None, None, {"cost": 10}))["status"] == "closed"


async def test_faults_before_processing_create_nothing(
    simulator: RunningSimulator, exchange: ccxt_async.bitvavo
) -> None:
    cases: list[tuple[str, type[Exception]]] = [
        ("error_before_processing", ccxt.ExchangeNotAvailable),
        ("http_500", ccxt.ExchangeNotAvailable),
        ("rate_limit", ccxt.RateLimitExceeded),
        ("maintenance", ccxt.OnMaintenance),
    ]
    for kind, error in cases:
        simulator.admin.fault("POST /order", kind, count=1)
        coid = str(uuid.uuid4())
        with pytest.raises(error):
            await exchange.create_order("BTC/EUR", "market", "buy", None, None, {"cost": 10, "clientOrderId": coid})
        assert not [o for o in simulator.admin.orders() if o["clientOrderId"] == coid], kind
    assert (await exchange.fetch_balance())["EUR"]["free"] == 1000


async def test_latency_and_probability(simulator: RunningSimulator, exchange: ccxt_async.bitvavo) -> None:
    simulator.admin.fault("GET /balance", "latency", latency_ms=300)
    started = time.monotonic()
    await exchange.fetch_balance()
    assert time.monotonic() - started >= 0.3
    simulator.admin.clear_faults()
    simulator.admin.fault("GET /balance", "http_500", probability=0.0)
    await exchange.fetch_balance()  # probability 0 never fires
