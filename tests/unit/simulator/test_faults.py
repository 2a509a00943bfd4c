"""The simulator's poison rules: one account's answers to one endpoint get a bad value at a path of the JSON."""

from __future__ import annotations

from typing import Any

from autoinvest.simulator.faults import Faults, Poison


def order() -> dict[str, Any]:
    return {"orderId": "o1", "amount": "1", "fills": [{"id": "f1", "amount": "1"}]}


def test_a_poison_writes_at_its_path_for_its_account_and_endpoint_only() -> None:
    faults = Faults(seed=1)
    faults.poisons.append(Poison("GET /order", "acc-1", "fills.0.amount", "1E+999999", count=1))
    other_account, other_endpoint, poisoned, used_up = order(), order(), order(), order()
    faults.poison("GET", "/order", "acc-2", other_account)
    faults.poison("GET", "/orders", "acc-1", other_endpoint)
    faults.poison("GET", "/order", "acc-1", poisoned)
    faults.poison("GET", "/order", "acc-1", used_up)
    assert other_account == other_endpoint == used_up == order()
    assert poisoned["fills"][0]["amount"] == "1E+999999" and poisoned["amount"] == "1"


def test_a_response_without_the_path_is_left_alone_and_does_not_use_the_count() -> None:
    rule = Poison("GET /trades", "acc-1", "0.price", "-5", count=1)
    assert rule.apply([]) is False and rule.apply({"price": "1"}) is False
    trades = [{"price": "1"}]
    assert rule.apply(trades) is True and trades == [{"price": "-5"}]
    faults = Faults(seed=1)
    faults.poisons.append(rule)
    faults.poison("GET", "/trades", "acc-1", [])
    assert rule.count == 1
    faults.clear()
    assert faults.poisons == []
