"""`autoinvest up --fast`: the whole system on paper, end to end, then a restart that doubles nothing."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.support.database import private_home
from tests.support.simulator import free_port

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "autoinvest.cli"]


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOINVEST_") and k != "DATABASE_URL"}
    return env | {"AUTOINVEST_HOME": str(home)}


def _until(predicate: Any, timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _metric(text: str, name: str) -> Decimal:
    found = [Decimal(m.group(1)) for m in re.finditer(rf"^{re.escape(name)} ([0-9.e+]+)$", text, re.M)]
    return sum(found, Decimal(0))


class Up:
    def __init__(self, home: Path) -> None:
        self.port = free_port()
        self.log = (home / "up-test.log").open("w+")
        self.proc = subprocess.Popen([*CLI, "up", "--fast", "--port", str(self.port)], env=_env(home),
                                     stdout=self.log, stderr=subprocess.STDOUT, text=True)
        self.base = f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def get(self, path: str) -> httpx.Response | None:
        try:
            return httpx.get(self.base + path, timeout=5)
        except httpx.HTTPError:
            return None

    def exchange_orders(self) -> list[dict[str, Any]]:
        match = re.search(r"paper exchange at (http://127\.0\.0\.1:\d+)/v2", self.output())
        assert match, self.output()
        orders: list[dict[str, Any]] = httpx.get(match.group(1) + "/_sim/orders", timeout=5).json()
        return orders

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout=60)
        self.log.close()
        return code


def _db_state(home: Path) -> dict[str, Any]:
    url = subprocess.run([*CLI, "db", "url"], env=_env(home), capture_output=True, text=True, check=True).stdout
    with psycopg.connect(url.strip()) as conn:
        one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
        return {"users": one("SELECT count(*) FROM users"), "fills": one("SELECT count(*) FROM fills"),
                "orders": one("SELECT count(*) FROM exchange_orders"),
                "filled": {r[0]: r[1] for r in conn.execute(
                    "SELECT exchange_order_id, sum(amount) FROM fills GROUP BY exchange_order_id")}}


def test_up_trades_on_paper_and_a_second_start_resumes_without_doubling() -> None:
    with private_home("autoinvest-test-up-") as home:
        _trades_and_resumes(home)


def _trades_and_resumes(home: Path) -> None:
    try:
        up = Up(home)
        try:
            health = _until(lambda: (r := up.get("/internal/health")) is not None and r.status_code == 200 and r,
                            90, "a healthy /internal/health")
            assert set(health.json()["loops"]) >= {"executor", "resolver", "monitor", "scanner", "scheduler"}
            metrics = _until(lambda: (r := up.get("/metrics")) is not None and
                             _metric(r.text, 'autoinvest_executions_total{outcome="submitted"}') >= 1 and r.text,
                             90, "an execution")
            assert "autoinvest_executions_total" in metrics
            first_orders = _until(lambda: [o for o in up.exchange_orders() if o["status"] == "filled"], 30,
                                  "a filled paper order")
        finally:
            assert up.stop() == 0, up.output()[-3000:]
        first = _db_state(home)
        assert first["users"] == 1 and first["fills"] >= 1
        check = subprocess.run([*CLI, "ledger", "check"], env=_env(home), capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr

        again = Up(home)
        try:
            _until(lambda: (r := again.get("/internal/health")) is not None and r.status_code == 200, 90,
                   "health after the restart")
            time.sleep(5)
            orders = again.exchange_orders()
        finally:
            assert again.stop() == 0, again.output()[-3000:]
        second = _db_state(home)
        assert second["users"] == 1  # the demo tenant was found again, not created twice
        assert {o["orderId"] for o in first_orders} <= {o["orderId"] for o in orders}  # the exchange kept its state
        assert second["orders"] == len(orders)  # every paper order is known once to the database
        for order in orders:  # and its fills are there exactly once
            assert Decimal(second["filled"].get(order["orderId"], 0)) == Decimal(order["filledAmount"])
        check = subprocess.run([*CLI, "ledger", "check"], env=_env(home), capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
    finally:
        subprocess.run([*CLI, "db", "stop"], env=_env(home), capture_output=True, timeout=60)
