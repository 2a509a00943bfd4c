"""Guarantee 10: reconciliation runs per profile; a profile the exchange rejects cannot block the user's others."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from autoinvest import runtime
from autoinvest.config import Settings
from autoinvest.db.tx import AppConnection
from autoinvest.exchange.base import MarketData
from autoinvest.observability import metrics
from autoinvest.reconcile.service import reconcile_users
from tests.integration.reconcile.helpers import add_unlisted_profile, below, frozen_prices, place_resting
from tests.support.simulator import RunningSimulator
from tests.support.trading import make_trading_tenant


def sample(name: str, labels: dict[str, str] | None = None) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels or {}) or 0.0


async def test_an_unlisted_market_fails_only_its_own_profile(
        app_conn: AppConnection, simulator: RunningSimulator, settings: Settings) -> None:
    t = await make_trading_tenant(app_conn, simulator, settings, eur=Decimal("5000"), allocate=Decimal("3000"),
                                  max_order_eur=Decimal("2000"))
    bad = await add_unlisted_profile(app_conn, t)

    async def reader_for(c: AppConnection, user_id: UUID) -> MarketData:
        return await runtime.reader_for(c, user_id, settings)

    with frozen_prices(simulator):
        price = below(simulator, "BTC-EUR")
        resting = await place_resting(app_conn, settings, t, market="BTC-EUR", amount=Decimal("0.01"), price=price)
        simulator.admin.set_price("BTC-EUR", price - 100)  # fills while nobody watches: a missed fill
        failures = sample("autoinvest_reconcile_failures_total")
        missed = sample("autoinvest_reconcile_mismatches_found_total", {"kind": "missed_fill"})
        report = await reconcile_users(app_conn, reader_for, [t.user_id])
    [account] = report.accounts
    runs = {r.profile_id: r for r in account.profiles}
    good = runs[t.profile_id]
    assert good.status == "repaired" and good.mismatches["missed_fill"] == 1, report.to_json()
    assert [r["execution_id"] for r in good.repaired] == [str(resting.execution_id)]
    assert account.balances == "compared", report.to_json()
    assert runs[bad].status == "failed" and "DOGE-EUR" in " ".join(runs[bad].errors), report.to_json()
    assert sample("autoinvest_reconcile_failures_total") == failures + 1
    assert sample("autoinvest_reconcile_mismatches_found_total", {"kind": "missed_fill"}) == missed + 1
