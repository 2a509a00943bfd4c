"""Start the Bitvavo simulator in a subprocess for tests, and talk to its /_sim admin API.

Fixture: `simulator` (session scope) → RunningSimulator with `.url` (".../v2", for the SDK's RESTURL), `.base`
(no /v2, for ccxt's urls['api']) and `.admin` (AdminClient). `start_simulator()` starts a private instance.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

START_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class SimKey:
    api_key: str
    api_secret: str
    account_id: str


class AdminClient:
    """The /_sim admin API. Amounts go in as strings (or Decimals) and come back as strings."""

    def __init__(self, base: str) -> None:
        self._http = httpx.Client(base_url=base + "/_sim", timeout=30.0)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, path, **kwargs)
        if response.status_code != 200:
            raise AssertionError(f"admin {method} {path} → {response.status_code}: {response.text}")
        return response.json()

    def create_account(
        self, balances: Mapping[str, str | Decimal], permissions: Sequence[str] = ("view", "trade")
    ) -> SimKey:
        data = self._call("POST", "/accounts", json={
            "balances": {k: str(v) for k, v in balances.items()}, "permissions": list(permissions),
        })
        return SimKey(data["apiKey"], data["apiSecret"], data["accountId"])

    def second_key(self, account_id: str, permissions: Sequence[str] = ("view",)) -> SimKey:
        data = self._call("POST", "/accounts", json={"accountId": account_id, "permissions": list(permissions)})
        return SimKey(data["apiKey"], data["apiSecret"], data["accountId"])

    def delete_key(self, api_key: str) -> None:
        self._call("DELETE", "/keys", params={"apiKey": api_key})

    def set_balances(self, account_id: str, balances: Mapping[str, str | Decimal]) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "/balances", json={
            "accountId": account_id, "balances": {k: str(v) for k, v in balances.items()},
        })
        return result

    def balances(self, account_id: str) -> dict[str, dict[str, Decimal]]:
        """symbol → {"available": Decimal, "inOrder": Decimal}."""
        data = self._call("GET", "/balances", params={"accountId": account_id})
        return {s: {k: Decimal(v) for k, v in b.items()} for s, b in data["balances"].items()}

    def orders(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/orders")
        return result

    def set_price(self, market: str, price: str | Decimal) -> None:
        self._call("POST", "/prices", json={"market": market, "price": str(price)})

    def prices(self) -> dict[str, Decimal]:
        return {k: Decimal(v) for k, v in self._call("GET", "/prices").items()}

    def advance(self, ms: int) -> int:
        """Advance the simulated clock (prices move along the model, resting orders match); returns sim time."""
        result: int = self._call("POST", "/clock", json={"advance_ms": ms})["time"]
        return result

    def set_speed(self, speed: float) -> None:
        """0 pauses the automatic clock (prices move only by set_price/advance); 1 is real time."""
        self._call("POST", "/clock", json={"speed": speed})

    def set_clock_offset(self, offset_ms: int) -> None:
        """Shift the exchange's own clock (`/time` and the signature window) by `offset_ms` (negative: behind)."""
        self._call("POST", "/clock", json={"offset_ms": offset_ms})

    def fault(
        self, endpoint: str, kind: str, probability: float = 1.0, count: int | None = None, latency_ms: int = 0
    ) -> None:
        self._call("POST", "/faults", json={
            "endpoint": endpoint, "kind": kind, "probability": probability, "count": count, "latency_ms": latency_ms,
        })

    def poison(self, endpoint: str, account_id: str, path: str, value: Any, count: int | None = None) -> None:
        """Answer ``account_id``'s ``endpoint`` with ``value`` at ``path`` of the JSON (e.g. "fills.0.amount")."""
        self._call("POST", "/poison", json={"endpoint": endpoint, "accountId": account_id, "path": path,
                                             "value": value, "count": count})

    def requests(self, account_id: str) -> dict[str, int]:
        """How many /v2 requests of each endpoint ("POST /order") arrived from the account's keys."""
        result: dict[str, int] = self._call("GET", "/requests", params={"accountId": account_id})
        return result

    def weight(self, account_id: str) -> int:
        """The rate-limit weight the account's keys were charged so far."""
        return int(self._call("GET", "/weights", params={"accountId": account_id})["weight"])

    def public_requests(self) -> dict[str, int]:
        """How many unsigned (public) /v2 requests of each "METHOD /path" arrived, e.g. "GET /BTC-EUR/candles"."""
        result: dict[str, int] = self._call("GET", "/public-requests")
        return result

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def close(self) -> None:
        self._http.close()


@dataclass
class RunningSimulator:
    base: str  # http://127.0.0.1:PORT — ccxt: urls['api'] = {'public': base, 'private': base}
    url: str  # base + "/v2" — the SDK's RESTURL
    admin: AdminClient
    process: subprocess.Popen[bytes]
    log_path: Path

    def ccxt_urls(self) -> dict[str, dict[str, str]]:
        return {"api": {"public": self.base, "private": self.base}}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_ready(process: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"simulator exited with {process.returncode}:\n{log_path.read_text()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url + "/time", timeout=1.0).status_code == 200:
                return
        time.sleep(0.05)
    raise RuntimeError(f"simulator did not answer within {START_TIMEOUT_S}s:\n{log_path.read_text()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (the simulator saves its state and exits), then SIGKILL if it lingers."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@contextlib.contextmanager
def start_simulator(
    seed: int = 1, state: Path | None = None, extra_args: Sequence[str] = (), port: int | None = None
) -> Iterator[RunningSimulator]:
    port = port or free_port()
    args = [sys.executable, "-m", "autoinvest.simulator", "--port", str(port), "--seed", str(seed), "--admin"]
    if state is not None:
        args += ["--state", str(state)]
    args += list(extra_args)
    log_fd, log_name = tempfile.mkstemp(prefix="simulator-", suffix=".log")
    log_path = Path(log_name)
    with os.fdopen(log_fd, "wb") as log_file:
        process = subprocess.Popen(args, stdout=log_file, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    admin = AdminClient(base)
    try:
        _wait_ready(process, base + "/v2", log_path)
        yield RunningSimulator(base, base + "/v2", admin, process, log_path)
    finally:
        admin.close()
        stop(process)


@pytest.fixture(scope="session")
def simulator() -> Iterator[RunningSimulator]:
    """One simulator subprocess (admin API on, seed 1) for the whole test session."""
    with start_simulator(seed=1) as running:
        yield running
