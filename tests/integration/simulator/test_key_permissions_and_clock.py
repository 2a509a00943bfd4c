"""The simulator models what item 3 and item 8 of issue 11 are tested against: each key's permissions (view, trade,
withdraw) refused with Bitvavo's codes, deposit data that tells accounts apart, and an exchange clock that can run
ahead of or behind the wall clock for `/time` and the signature window alike."""

from __future__ import annotations

import time
import uuid

import httpx

from tests.integration.simulator.signed import call
from tests.support.simulator import RunningSimulator

WITHDRAWAL = {"symbol": "BTC", "amount": "0.00000001", "address": "not-an-address"}


def test_each_permission_is_refused_with_its_bitvavo_code(sim: RunningSimulator) -> None:
    view = sim.admin.create_account({"EUR": "10"}, ["view"])
    cancel = {"market": "BTC-EUR", "orderId": str(uuid.uuid4()), "operatorId": 1}
    refused = call(sim.url, view, "DELETE", "/order", cancel)
    assert (refused.status_code, refused.json()["errorCode"]) == (403, 310)
    assert call(sim.url, view, "POST", "/withdrawal", body=WITHDRAWAL).json()["errorCode"] == 312

    trade = sim.admin.second_key(view.account_id, ["view", "trade"])
    assert call(sim.url, trade, "DELETE", "/order", cancel).json()["errorCode"] == 240  # allowed: no such order
    assert call(sim.url, trade, "POST", "/withdrawal", body=WITHDRAWAL).json()["errorCode"] == 312

    withdraw = sim.admin.second_key(view.account_id, ["view", "trade", "withdraw"])
    assert call(sim.url, withdraw, "POST", "/withdrawal", body=WITHDRAWAL).json()["errorCode"] == 406  # too small


def test_deposit_data_is_the_same_for_every_key_of_an_account_and_differs_between_accounts(
        sim: RunningSimulator) -> None:
    first = sim.admin.create_account({"EUR": "10"}, ["view"])
    same = sim.admin.second_key(first.account_id, ["view", "trade"])
    other = sim.admin.create_account({"EUR": "10"}, ["view"])

    def address(key: object) -> str:
        response = call(sim.url, key, "GET", "/deposit", {"symbol": "BTC"})  # type: ignore[arg-type]
        assert response.status_code == 200, response.text
        return str(response.json()["address"])

    assert address(first) == address(same) != address(other)
    trade_only = sim.admin.second_key(first.account_id, ["trade"])
    assert call(sim.url, trade_only, "GET", "/deposit", {"symbol": "BTC"}).json()["errorCode"] == 311


def test_a_clock_offset_shifts_time_and_the_signature_window(sim: RunningSimulator) -> None:
    key = sim.admin.create_account({"EUR": "10"}, ["view"])
    sim.admin.set_clock_offset(-30_000)
    before = int(time.time() * 1000)
    exchange_ms = httpx.get(sim.url + "/time", timeout=10).json()["time"]
    assert -31_000 < exchange_ms - before < -29_000
    stale = call(sim.url, key, "GET", "/balance", window=10_000)  # signed with our clock: 30 s ahead of theirs
    assert stale.json()["errorCode"] == 304
    assert call(sim.url, key, "GET", "/balance", timestamp=exchange_ms, window=10_000).status_code == 200
