"""Paper trading for `autoinvest up`: the local exchange simulator, its vault keys and the demo tenant.

The simulator runs as a separate process (`python -m autoinvest.simulator`): production code never
imports it. Its state (accounts, balances, orders, fills, clock) persists under AUTOINVEST_HOME.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from cryptography.fernet import Fernet
from pydantic import SecretStr

from autoinvest.accounts import profiles, users, vault
from autoinvest.config import Settings
from autoinvest.db.ids import find_owner
from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.errors import ExchangeUnavailable

DEMO_EMAIL = "demo@paper.autoinvest"
DEMO_MARKETS = ("BTC-EUR", "ETH-EUR")


@dataclass
class PaperExchange:
    process: subprocess.Popen[bytes]
    url: str  # ends in /v2
    admin: str  # the /_sim admin API

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # the simulator saves its state on SIGTERM
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


#: What the simulator process inherits: enough to run Python, nothing else. An allowlist, so that no vault key,
#: database URL or password, LLM key or any secret a deployment adds later reaches a process that needs none.
SIMULATOR_ENV = frozenset({"PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "PYTHONPATH",
                           "PYTHONPYCACHEPREFIX", "VIRTUAL_ENV", "SYSTEMROOT"})


def simulator_environment(environ: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in environ.items() if k in SIMULATOR_ENV or k.startswith("LC_")}


def start_exchange(home: Path, *, speed: float) -> PaperExchange:
    """Start the simulator with its state file under ``home`` and none of our secrets; wait until it answers."""
    port = _free_port()
    with (home / "simulator.log").open("ab") as log:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "autoinvest.simulator", "--port", str(port), "--seed", "1", "--admin",
             "--state", str(home / "simulator-state.json"), "--speed", str(speed)], stdout=log, stderr=log,
            env=simulator_environment(os.environ))
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ExchangeUnavailable(f"the paper exchange exited ({process.returncode}); see {home / 'simulator.log'}")
        try:
            if httpx.get(base + "/v2/time", timeout=1).status_code == 200:
                return PaperExchange(process, base + "/v2", base + "/_sim")
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise ExchangeUnavailable(f"the paper exchange did not answer within 30 s; see {home / 'simulator.log'}")


def vault_keys(home: Path, settings: Settings) -> dict[str, Any]:
    """Paper mode only: generate the two vault keys once and keep them under HOME (mode 0600)."""
    if settings.vault_key_readonly and settings.vault_key_trade:
        return {}
    path = home / "paper-vault-keys.json"
    if not path.exists():
        keys = {"vault_key_readonly": Fernet.generate_key().decode(), "vault_key_trade": Fernet.generate_key().decode()}
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(keys, handle)
    return {name: SecretStr(value) for name, value in json.loads(path.read_text()).items()}


@dataclass(frozen=True)
class Demo:
    user_id: UUID
    profile_id: UUID


async def ensure_demo(conn: AppConnection, home: Path, exchange: PaperExchange, settings: Settings, *,
                      scan_interval_s: int) -> Demo:
    """Create the demo user, profile and paper account once; later runs find them again."""
    path = home / "paper-demo.json"
    if path.exists():
        saved = json.loads(path.read_text())
        demo = Demo(UUID(saved["user_id"]), UUID(saved["profile_id"]))
        if await find_owner(conn, "profile", demo.profile_id) == demo.user_id:
            return demo
    balance = str(settings.demo_balance_eur)
    async with httpx.AsyncClient(base_url=exchange.admin, timeout=10) as admin:
        trade = (await admin.post("/accounts", json={"balances": {"EUR": balance},
                                                     "permissions": ["view", "trade"]})).json()
        view = (await admin.post("/accounts", json={"accountId": trade["accountId"],
                                                    "permissions": ["view"]})).json()
    user_id = users.new_user_id()
    spec = profiles.profile_spec("paper demo", Decimal(balance), DEMO_MARKETS, preset="semiauto",
                                 overrides={"scan_interval_seconds": scan_interval_s, "strategy": "dca"})
    async with user_tx(conn, user_id):
        await users.create_user(conn, user_id, f"{user_id.hex[:8]}.{DEMO_EMAIL}", actor="autoinvest up")
        profile_id = await profiles.create_profile(conn, user_id, spec, actor="autoinvest up")
        # No exchange_url stored: the paper exchange's port changes between runs; settings carry it.
        await vault.set_credential(conn, user_id, "readonly", view["apiKey"], view["apiSecret"], settings,
                                   actor="autoinvest up")
        await vault.set_credential(conn, user_id, "trade", trade["apiKey"], trade["apiSecret"], settings,
                                   actor="autoinvest up")
    path.write_text(json.dumps({"user_id": str(user_id), "profile_id": str(profile_id)}))
    return Demo(user_id, profile_id)
