"""With --state, accounts, keys, balances, orders and the price history survive a restart."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from tests.integration.simulator import signed
from tests.support.simulator import start_simulator, stop


def test_state_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "exchange.json"
    with start_simulator(seed=7, state=state) as sim:
        key = sim.admin.create_account({"EUR": "500"})
        sim.admin.set_price("ETH-EUR", "3000")
        resting = signed.call(sim.url, key, "POST", "/order", body={
            "market": "ETH-EUR", "side": "buy", "orderType": "limit", "amount": "0.01", "price": "2000",
            "operatorId": 1,
        }).json()
        filled = signed.call(sim.url, key, "POST", "/order", body={
            "market": "ETH-EUR", "side": "buy", "orderType": "market", "amount": "0.01", "operatorId": 1,
        }).json()
        assert resting["status"] == "new" and filled["status"] == "filled"
        balances_before = sim.admin.balances(key.account_id)
        orders_before = sim.admin.orders()
        candles_before = signed.call(sim.url, None, "GET", "/ETH-EUR/candles", {"interval": "1h", "limit": 10}).json()
        stop(sim.process)  # SIGTERM: the simulator saves on the way out
        assert sim.process.returncode == 0
    saved = json.loads(state.read_text())
    assert saved["version"] == 1 and saved["accounts"][0]["accountId"] == key.account_id

    with start_simulator(seed=7, state=state) as again:
        assert again.admin.balances(key.account_id) == balances_before
        assert balances_before["EUR"]["inOrder"] == Decimal(resting["onHold"])
        assert again.admin.orders() == orders_before
        got = signed.call(again.url, key, "GET", "/order", {"market": "ETH-EUR", "orderId": resting["orderId"]})
        assert got.status_code == 200 and got.json()["status"] == "new"
        cancelled = signed.call(again.url, key, "DELETE", "/order",
                                {"market": "ETH-EUR", "orderId": resting["orderId"], "operatorId": 1})
        assert cancelled.status_code == 200
        assert again.admin.balances(key.account_id)["EUR"]["inOrder"] == 0
        candles_after = signed.call(again.url, None, "GET", "/ETH-EUR/candles", {"interval": "1h", "limit": 10}).json()
        assert candles_after[1:] == candles_before[1:] or candles_after[2:] == candles_before[1:-1]
