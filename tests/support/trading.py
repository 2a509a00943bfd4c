"""A tenant that can trade on the simulator: a sim account, both keys in the vault, a profile."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from autoinvest import runtime
from autoinvest.accounts import profiles, users, vault
from autoinvest.config import Settings
from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.execution.service import ExecutionResult, execute
from tests.support.simulator import RunningSimulator, SimKey

VAULT_READONLY = Fernet.generate_key().decode()
VAULT_TRADE = Fernet.generate_key().decode()


def settings_for(sim: RunningSimulator, home: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = {"home": home, "exchange_url": sim.url, "vault_key_readonly": VAULT_READONLY,
                              "vault_key_trade": VAULT_TRADE, "access_window_ms": 2000, "clock_skew_ms": 500}
    return Settings(**(values | extra))


def bitvavo_format_key() -> tuple[str, str]:
    """An API key and secret in Bitvavo's format (64 characters, 128 hex characters), as the vault requires; for
    tests that store a key the exchange never sees."""
    return secrets.token_hex(32), secrets.token_hex(64)


def vault_env() -> dict[str, str]:
    return {"AUTOINVEST_VAULT_KEY_READONLY": VAULT_READONLY, "AUTOINVEST_VAULT_KEY_TRADE": VAULT_TRADE}


@dataclass(frozen=True)
class TradingTenant:
    user_id: uuid.UUID
    profile_id: uuid.UUID
    trade_key: SimKey
    view_key: SimKey


async def make_trading_tenant(conn: AppConnection, sim: RunningSimulator, settings: Settings, *,
                              eur: Decimal = Decimal("1000"), allocate: Decimal = Decimal("500"),
                              allowlist: tuple[str, ...] = ("BTC-EUR", "ETH-EUR"),
                              **policy: object) -> TradingTenant:
    trade_key = sim.admin.create_account({"EUR": str(eur)}, ["view", "trade"])
    view_key = sim.admin.second_key(trade_key.account_id, ["view"])
    user_id = users.new_user_id()
    overrides = {"cooldown_minutes": 0, "anti_flip_minutes": 0, "max_trades_per_day": 100,
                 "max_trades_per_hour": 100, "min_confidence": 0} | policy
    spec = profiles.profile_spec("trading", allocate, allowlist, overrides=overrides)
    async with user_tx(conn, user_id):
        await users.create_user(conn, user_id, f"{user_id.hex[:12]}@example.org", actor="test")
        profile_id = await profiles.create_profile(conn, user_id, spec, actor="test")
        await vault.set_credential(conn, user_id, "readonly", view_key.api_key, view_key.api_secret, settings,
                                   exchange_url=sim.url, actor="test")
        await vault.set_credential(conn, user_id, "trade", trade_key.api_key, trade_key.api_secret, settings,
                                   exchange_url=sim.url, actor="test")
    return TradingTenant(user_id, profile_id, trade_key, view_key)


def orders_of(sim: RunningSimulator, client_order_id: object) -> list[dict[str, Any]]:
    return [o for o in sim.admin.orders() if o["clientOrderId"] == str(client_order_id)]


def orders_of_account(sim: RunningSimulator, account_id: str) -> list[dict[str, Any]]:
    return [o for o in sim.admin.orders() if o["accountId"] == account_id]


async def execute_with_vault(conn: AppConnection, proposal_id: uuid.UUID, settings: Settings) -> ExecutionResult:
    """Execute a proposal as the executor does: clients from the vault, the executor's submit settings."""
    return await execute(conn, proposal_id, clients_for=runtime.executor_clients(settings),
                         settings=runtime.submit_settings(settings))
