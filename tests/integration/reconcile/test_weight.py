"""Reconciliation's exchange weight (Bitvavo: 1000 per minute per key): one account with four profiles is
reconciled for at most 15 weight per profile (what it must still find: tests/integration/reconcile/)."""

from __future__ import annotations

from decimal import Decimal

from autoinvest.accounts import profiles
from autoinvest.config import Settings
from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.exchange.budget import DEFAULT_BUDGETS
from tests.integration.reconcile.helpers import big_tenant, reconcile
from tests.support.simulator import RunningSimulator


async def test_one_account_with_four_profiles_costs_at_most_15_weight_per_profile(
        app_conn: AppConnection, simulator: RunningSimulator, settings: Settings) -> None:
    t = await big_tenant(app_conn, simulator, settings)  # BTC-EUR and ETH-EUR
    async with user_tx(app_conn, t.user_id):
        for n, allowlist in enumerate([("BTC-EUR", "SOL-EUR"), ("ETH-EUR", "SOL-EUR"), ("BTC-EUR",)]):
            await profiles.create_profile(app_conn, t.user_id, profiles.profile_spec(
                f"more-{n}", Decimal("10"), allowlist), actor="test")
    budget = DEFAULT_BUDGETS.for_key(t.view_key.api_key)  # what our client spends, by ccxt's weights
    before = budget.used()

    report = await reconcile(app_conn, settings, t)

    spent = budget.used() - before
    [account] = report.accounts
    assert [p.status for p in account.profiles] == ["ok"] * 4 and account.balances == "compared"
    assert spent <= 4 * 15, f"{spent} weight for one account of 4 profiles ({spent / 4:.1f} per profile)"
