"""Guarantee 10/13: the worker's reconciler role checks every capital account periodically, not only at start-up,
and exports the result in its own process (the one serving /metrics)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from autoinvest import runtime
from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.observability import metrics
from tests.support.simulator import RunningSimulator
from tests.support.trading import make_trading_tenant, settings_for


def sample(name: str) -> float:
    return metrics.REGISTRY.get_sample_value(name) or 0.0


async def test_the_reconciler_pass_checks_the_ledger_and_counts_differences(
        scan_conn: AppConnection, simulator: RunningSimulator, tmp_path: Path) -> None:
    settings = settings_for(simulator, tmp_path)
    t = await make_trading_tenant(scan_conn, simulator, settings, allocate=Decimal("100"))
    async with user_tx(scan_conn, t.user_id):  # capital that no entry explains, after start-up
        await scan_conn.execute("UPDATE capital_accounts SET allocated = allocated + 7 WHERE profile_id = %s",
                                (t.profile_id,))
    metrics.LEDGER_CHECK_DIFFERENCES.set(0)
    found = sample("autoinvest_ledger_check_differences_found_total")
    [(_, one_pass, _, _)] = runtime.role_passes(settings, ("reconciler",))
    await one_pass(scan_conn)
    assert sample("autoinvest_ledger_check_differences") == 1
    assert sample("autoinvest_ledger_check_differences_found_total") == found + 1
