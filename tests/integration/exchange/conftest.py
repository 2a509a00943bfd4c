"""Simulator accounts with a trade key and a view-only key, and the production clients over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass

import pytest

from autoinvest.domain.states import CredentialPurpose
from autoinvest.exchange.base import MarketData, Trading
from autoinvest.exchange.budget import BudgetRegistry
from autoinvest.exchange.credentials import Credential
from autoinvest.exchange.readonly import market_data
from autoinvest.exchange.trade import trading
from tests.support.simulator import RunningSimulator

TIMEOUT_MS = 5_000


@dataclass(frozen=True)
class Account:
    account_id: str
    trade: Credential
    readonly: Credential


@dataclass
class Clients:
    account: Account
    reader: MarketData
    trader: Trading


MakeAccount = Callable[..., Account]


@pytest.fixture
def make_account(simulator: RunningSimulator) -> MakeAccount:
    def make(balances: Mapping[str, str] | None = None) -> Account:
        trade_key = simulator.admin.create_account(balances or {"EUR": "1000"}, ["view", "trade"])
        view_key = simulator.admin.second_key(trade_key.account_id, ["view"])
        return Account(
            account_id=trade_key.account_id,
            trade=Credential(
                api_key=trade_key.api_key,
                api_secret=trade_key.api_secret,
                purpose=CredentialPurpose.TRADE,
                base_url=simulator.url,
            ),
            readonly=Credential(
                api_key=view_key.api_key,
                api_secret=view_key.api_secret,
                purpose=CredentialPurpose.READONLY,
                base_url=simulator.url,
            ),
        )

    return make


@pytest.fixture
async def clients(make_account: MakeAccount) -> AsyncIterator[Clients]:
    """A fresh account (1000 EUR, 0.01 BTC) and both clients, each test with its own budgets."""
    account = make_account({"EUR": "1000", "BTC": "0.01"})
    budgets = BudgetRegistry()
    reader = market_data(account.readonly, timeout_ms=TIMEOUT_MS, budgets=budgets)
    trader = trading(account.trade, timeout_ms=TIMEOUT_MS, budgets=budgets)
    try:
        yield Clients(account, reader, trader)
    finally:
        await reader.close()
        await trader.close()


