"""Exchange sessions kept across executions (exchange/pool.py): built once per user and key, rebuilt when the key
changes, never carrying an order across a kill switch, bounded, and sharing one SSL context."""

from __future__ import annotations

from uuid import UUID

import pytest

from autoinvest import runtime
from autoinvest.accounts import kill_switch, vault
from autoinvest.config import Settings
from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.domain.states import CredentialPurpose
from autoinvest.errors import ExchangeError
from autoinvest.exchange.credentials import Credential
from autoinvest.exchange.pool import SessionPool
from autoinvest.exchange.readonly import market_data
from autoinvest.execution.client_order_id import client_order_id
from autoinvest.execution.service import ExecutionResult, execute
from tests.support.proposals import make_proposal
from tests.support.simulator import RunningSimulator
from tests.support.trading import TradingTenant, make_trading_tenant, orders_of

pytestmark = pytest.mark.slow


async def _execute(conn: AppConnection, pool: SessionPool, settings: Settings, t: TradingTenant,
                   market: str = "BTC-EUR") -> tuple[UUID, ExecutionResult]:
    proposal = await make_proposal(conn, t.user_id, t.profile_id, market=market)
    result = await execute(conn, proposal, clients_for=runtime.executor_clients(settings, pool),
                           settings=runtime.submit_settings(settings))
    return proposal, result


async def test_a_users_sessions_are_built_once_and_rebuilt_when_the_key_changes(
        app_conn: AppConnection, simulator: RunningSimulator, settings: Settings) -> None:
    t = await make_trading_tenant(app_conn, simulator, settings)
    pool = SessionPool()
    try:
        for market in ("BTC-EUR", "ETH-EUR", "BTC-EUR"):
            _, result = await _execute(app_conn, pool, settings, t, market)
            assert result.state == "FILLED", result
        assert pool.built == 2  # the read-only and the trade session, for three orders
        rotated = simulator.admin.second_key(t.trade_key.account_id, ["view", "trade"])
        async with user_tx(app_conn, t.user_id):
            await vault.set_credential(app_conn, t.user_id, "trade", rotated.api_key, rotated.api_secret, settings,
                                       exchange_url=simulator.url, actor="test")
        simulator.admin.delete_key(t.trade_key.api_key)  # a session kept from the old key would be refused
        proposal, result = await _execute(app_conn, pool, settings, t, "ETH-EUR")
        assert result.state == "FILLED", result
        assert pool.built == 3 and len(pool) == 2
        assert len(orders_of(simulator, client_order_id(t.user_id, proposal))) == 1
    finally:
        await pool.close()


async def test_a_warm_session_sends_nothing_once_the_kill_switch_is_on(
        app_conn: AppConnection, simulator: RunningSimulator, settings: Settings) -> None:
    t = await make_trading_tenant(app_conn, simulator, settings)
    pool = SessionPool()
    try:
        _, warm = await _execute(app_conn, pool, settings, t)
        assert warm.state == "FILLED"
        async with user_tx(app_conn, t.user_id):
            await kill_switch.set_user(app_conn, t.user_id, True, actor="test")
        try:
            proposal, refused = await _execute(app_conn, pool, settings, t, "ETH-EUR")
        finally:
            async with user_tx(app_conn, t.user_id):
                await kill_switch.set_user(app_conn, t.user_id, False, actor="test")
        assert (refused.state, refused.reasons) == ("REJECTED", ("KILL_SWITCH_USER",))
        assert orders_of(simulator, client_order_id(t.user_id, proposal)) == []
    finally:
        await pool.close()


async def test_the_pool_is_bounded_and_an_evicted_session_sends_nothing(simulator: RunningSimulator) -> None:
    keys = [simulator.admin.create_account({"EUR": "1"}, ["view"]) for _ in range(3)]
    credentials = [Credential(api_key=k.api_key, api_secret=k.api_secret, purpose=CredentialPurpose.READONLY,
                              base_url=simulator.url) for k in keys]
    pool = SessionPool(max_sessions=2)
    try:
        first = market_data(credentials[0], pool=pool, owner="a")
        assert "EUR" in await first.balances()
        for owner, credential in zip("bc", credentials[1:], strict=True):
            assert "EUR" in await market_data(credential, pool=pool, owner=owner).balances()
        assert len(pool) == 2
        sent = simulator.admin.requests(keys[0].account_id)
        with pytest.raises(ExchangeError):
            await first.balances()  # evicted: refused before anything is sent
        assert simulator.admin.requests(keys[0].account_id) == sent
    finally:
        await pool.close()


async def test_sessions_share_one_ssl_context_and_plain_http_builds_none() -> None:
    def credential(url: str, n: int) -> Credential:
        return Credential(api_key=f"key-{n}-" + "k" * 20, api_secret="s" * 20, purpose=CredentialPurpose.READONLY,
                          base_url=url)

    pool = SessionPool()
    try:
        secure = [pool.session(credential("https://api.bitvavo.com/v2", n), owner=str(n), timeout_ms=1000,
                               access_window_ms=1000) for n in range(3)]
        plain = pool.session(credential("http://127.0.0.1:1/v2", 9), owner="9", timeout_ms=1000,
                             access_window_ms=1000)
        contexts = {id(s._exchange.ssl_context) for s in secure}
        assert len(contexts) == 1 and secure[0]._exchange.ssl_context is not None
        assert plain._exchange.ssl_context is False
        assert len({id(s._exchange.session) for s in secure}) == 1  # one connection pool per host
        assert secure[0]._exchange.timeout_on_exit == 0  # ccxt's 250 ms sleep on close
    finally:
        await pool.close()
