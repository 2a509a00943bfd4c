"""Accounts, API keys and balances: available and held (inOrder), moved only by exact Decimal operations."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from autoinvest.simulator.errors import ApiError

PERMISSIONS = frozenset({"view", "trade", "withdraw"})


@dataclass
class Balance:
    available: Decimal = Decimal(0)
    in_order: Decimal = Decimal(0)


@dataclass
class ApiKey:
    key: str
    secret: str
    account_id: str
    permissions: frozenset[str]


@dataclass
class Account:
    account_id: str
    balances: dict[str, Balance] = field(default_factory=dict)

    def balance(self, symbol: str) -> Balance:
        return self.balances.setdefault(symbol, Balance())

    def hold(self, symbol: str, amount: Decimal) -> None:
        """Move `amount` from available to inOrder, or refuse with 216."""
        bal = self.balance(symbol)
        if amount > bal.available:
            raise ApiError(216)
        bal.available -= amount
        bal.in_order += amount

    def release(self, symbol: str, amount: Decimal) -> None:
        bal = self.balance(symbol)
        bal.in_order -= amount
        bal.available += amount

    def spend_held(self, symbol: str, amount: Decimal) -> None:
        self.balance(symbol).in_order -= amount

    def debit(self, symbol: str, amount: Decimal) -> None:
        bal = self.balance(symbol)
        if amount > bal.available:
            raise ApiError(216)
        bal.available -= amount

    def credit(self, symbol: str, amount: Decimal) -> None:
        self.balance(symbol).available += amount


class Accounts:
    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {}
        self.keys: dict[str, ApiKey] = {}

    def create(self, balances: dict[str, Decimal]) -> Account:
        account = Account(str(uuid.uuid4()))
        for symbol, amount in balances.items():
            account.balance(symbol).available = amount
        self.accounts[account.account_id] = account
        return account

    def add_key(self, account_id: str, permissions: frozenset[str]) -> ApiKey:
        if account_id not in self.accounts:
            raise KeyError(account_id)
        # 64 characters, as Bitvavo's keys (error 301 otherwise).
        key = ApiKey(secrets.token_hex(32), secrets.token_hex(64), account_id, permissions)
        self.keys[key.key] = key
        return key

    def set_balances(self, account_id: str, balances: dict[str, Decimal]) -> None:
        """Set available amounts directly (simulates deposits, withdrawals and drift); holds are kept."""
        account = self.accounts[account_id]
        for symbol, amount in balances.items():
            account.balance(symbol).available = amount
