"""Guarantee 14: what the account held beyond our own fills is the user's, never a profile's position or capital."""

from __future__ import annotations

from decimal import Decimal

from autoinvest import runtime
from autoinvest.config import Settings
from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.execution.service import ExecutionOutcome, ExecutionResult, execute
from autoinvest.ledger import repo as ledger_repo
from tests.integration.reconcile.helpers import reconcile
from tests.support.proposals import make_proposal
from tests.support.simulator import RunningSimulator
from tests.support.trading import TradingTenant, make_trading_tenant

D = Decimal


async def trade(conn: AppConnection, settings: Settings, t: TradingTenant, *, side: str,
                amount_eur: Decimal | None = None, amount_base: Decimal | None = None) -> ExecutionResult:
    proposal = await make_proposal(conn, t.user_id, t.profile_id, market="BTC-EUR", side=side,
                                   amount_eur=amount_eur, amount_base=amount_base)
    result = await execute(conn, proposal, clients_for=runtime.executor_clients(settings),
                           settings=runtime.submit_settings(settings))
    return result


async def test_a_coin_the_user_held_before_is_never_the_profiles(
        app_conn: AppConnection, simulator: RunningSimulator, settings: Settings) -> None:
    # The scenario: 1 BTC on the linked account before; a BTC-EUR profile with 100 EUR buys 5 EUR.
    t = await make_trading_tenant(app_conn, simulator, settings, eur=D("1000"), allocate=D("100"),
                                  allowlist=("BTC-EUR",), max_order_eur=D("100000"))
    simulator.admin.set_balances(t.trade_key.account_id, {"EUR": "1000", "BTC": "1"})
    bought_5 = await trade(app_conn, settings, t, side="buy", amount_eur=D("5"))
    assert bought_5.outcome is ExecutionOutcome.SUBMITTED, bought_5
    async with user_tx(app_conn, t.user_id):
        cur = await app_conn.execute("SELECT quantity FROM positions WHERE market = 'BTC-EUR'")
        row = await cur.fetchone()
        assert row is not None
        bought = row["quantity"]
    assert 0 < bought < D("0.001")

    report = await reconcile(app_conn, settings, t)
    async with user_tx(app_conn, t.user_id):
        cur = await app_conn.execute("SELECT quantity FROM positions WHERE market = 'BTC-EUR'")
        row = await cur.fetchone()
        assert row is not None and row["quantity"] == bought, (row, report.to_json())
        cur = await app_conn.execute("SELECT count(*) AS n FROM ledger_entries WHERE kind = 'ADJUST'")
        assert (await cur.fetchone()) == {"n": 0}, report.to_json()
        cur = await app_conn.execute("SELECT asset, amount FROM unmanaged_holdings")
        assert await cur.fetchall() == [{"asset": "BTC", "amount": D("1")}]

    # The profile may not sell the user's coin: the pre-flight counts only its own position.
    sold = await trade(app_conn, settings, t, side="sell", amount_base=D("0.5"))
    assert sold.outcome is ExecutionOutcome.REJECTED and sold.reasons == ("INSUFFICIENT_CAPITAL",), sold
    assert simulator.admin.balances(t.trade_key.account_id)["BTC"]["available"] == D("1") + bought
    async with user_tx(app_conn, t.user_id):
        account = await ledger_repo.account(app_conn, t.profile_id)
        assert await ledger_repo.check(app_conn, t.profile_id) is None
    free = account.allocated - account.reserved_for_orders - account.reserved_for_positions + account.realized_pnl
    assert D("94.9") <= free <= D("95"), account  # 100 - 5 - the fee
    again = await reconcile(app_conn, settings, t)
    assert again.counts() == dict.fromkeys(again.counts(), 0), again.to_json()
    assert {a: D(n) for a, n in again.accounts[0].unmanaged.items()} == {"BTC": D("1")}  # shown in the report

    # The user sells their own coin by hand: the unmanaged holding goes to 0, the profile's position is untouched.
    eur = simulator.admin.balances(t.trade_key.account_id)["EUR"]["available"]
    simulator.admin.set_balances(t.trade_key.account_id, {"EUR": eur, "BTC": bought})
    after = await reconcile(app_conn, settings, t)
    assert after.counts() == dict.fromkeys(after.counts(), 0), after.to_json()
    async with user_tx(app_conn, t.user_id):
        cur = await app_conn.execute("SELECT amount FROM unmanaged_holdings WHERE asset = 'BTC'")
        assert await cur.fetchone() == {"amount": 0}
        cur = await app_conn.execute("SELECT quantity FROM positions WHERE market = 'BTC-EUR'")
        assert await cur.fetchone() == {"quantity": bought}
