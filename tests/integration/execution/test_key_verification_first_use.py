"""Guarantee 3, on first use: a key pair stored unverified (the paper bootstrap, a key stored without the other
purpose's vault key) is verified against the exchange before the executor sends anything with it, and recorded."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from autoinvest.accounts import vault
from autoinvest.config import Settings
from autoinvest.db.tx import AppConnection, user_tx
from tests.support.proposals import make_proposal
from tests.support.simulator import RunningSimulator
from tests.support.trading import execute_with_vault, make_trading_tenant, orders_of_account


async def _verification(conn: AppConnection, user_id: object) -> dict[str, Any]:
    async with user_tx(conn, user_id):  # type: ignore[arg-type]
        cur = await conn.execute("SELECT purpose, verified_at IS NOT NULL AS verified, verification_reason AS reason"
                                 " FROM exchange_credentials ORDER BY purpose")
        return {row["purpose"]: (row["verified"], row["reason"]) for row in await cur.fetchall()}


async def test_an_unverified_good_pair_is_verified_on_first_use_and_trades(
        app_conn: AppConnection, simulator: RunningSimulator, settings: Settings) -> None:
    t = await make_trading_tenant(app_conn, simulator, settings)
    assert await _verification(app_conn, t.user_id) == {"readonly": (False, None), "trade": (False, None)}
    result = await execute_with_vault(app_conn, await make_proposal(app_conn, t.user_id, t.profile_id), settings)
    assert result.state == "FILLED", result
    assert await _verification(app_conn, t.user_id) == {"readonly": (True, None), "trade": (True, None)}


async def test_the_executor_refuses_a_pair_whose_read_only_key_can_trade(
        app_conn: AppConnection, simulator: RunningSimulator, settings: Settings) -> None:
    t = await make_trading_tenant(app_conn, simulator, settings)
    can_trade = simulator.admin.second_key(t.trade_key.account_id, ["view", "trade"])
    async with user_tx(app_conn, t.user_id):  # stored without verification, as the paper bootstrap does
        await vault.set_credential(app_conn, t.user_id, "readonly", can_trade.api_key, can_trade.api_secret, settings,
                                   exchange_url=simulator.url, actor="test")
    proposal = await make_proposal(app_conn, t.user_id, t.profile_id, amount_eur=Decimal("10"))
    result = await execute_with_vault(app_conn, proposal, settings)
    assert result.state == "REJECTED" and result.reasons == ("CREDENTIAL_READONLY_CAN_TRADE",), result
    assert orders_of_account(simulator, t.trade_key.account_id) == []
    refused = (True, "CREDENTIAL_READONLY_CAN_TRADE")
    assert await _verification(app_conn, t.user_id) == {"readonly": refused, "trade": refused}
