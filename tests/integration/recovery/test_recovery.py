"""Start-up recovery: a profile whose ledger does not add up is paused and audited; a dead exchange delays a worker
by a bounded time only."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest

from autoinvest import runtime
from autoinvest.config import Settings
from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.exchange.base import MarketData
from autoinvest.execution.loops import LoopSettings
from autoinvest.recovery import recover
from tests.integration.reconcile.helpers import below, big_tenant, frozen_prices, place_resting
from tests.support.database import DatabaseUnderTest
from tests.support.proposals import make_proposal
from tests.support.simulator import RunningSimulator
from tests.support.trading import settings_for

D = Decimal


@pytest.fixture
def settings(simulator: RunningSimulator, tmp_path: Path) -> Settings:
    return settings_for(simulator, tmp_path, resolver_grace_s=0)


def loop_settings(settings: Settings) -> LoopSettings:
    return LoopSettings(submit=runtime.submit_settings(settings), resolve=runtime.resolve_settings(settings),
                        resolver_grace_s=settings.resolver_grace_s)


def reader_for(settings: Settings):  # type: ignore[no-untyped-def]
    async def make(conn: AppConnection, user_id: UUID) -> MarketData:
        return await runtime.reader_for(conn, user_id, settings)
    return make


async def test_a_ledger_mismatch_pauses_the_profile_and_is_audited(
        db: DatabaseUnderTest, app_conn: AppConnection, simulator: RunningSimulator, settings: Settings) -> None:
    t = await big_tenant(app_conn, simulator, settings)
    async with user_tx(app_conn, t.user_id):  # capital that no entry explains
        await app_conn.execute("UPDATE capital_accounts SET allocated = allocated + 100 WHERE profile_id = %s",
                               (t.profile_id,))
    report = await recover(db.app_url, reader_for=reader_for(settings), loop_settings=loop_settings(settings))
    [paused] = [p for p in report.paused if p["profile_id"] == str(t.profile_id)]
    assert paused["drift"] == {"allocated": "100"} and paused["newly_paused"] is True
    async with user_tx(app_conn, t.user_id):
        cur = await app_conn.execute("SELECT trading_enabled FROM profile_policies WHERE profile_id = %s",
                                     (t.profile_id,))
        assert await cur.fetchone() == {"trading_enabled": False}
        cur = await app_conn.execute("SELECT actor, details FROM audit_log WHERE action = 'kill_switch.on'")
        [audit] = await cur.fetchall()
    assert audit["actor"] == "recovery" and "LEDGER_MISMATCH_AT_START" in audit["details"]["reason"]
    again = await recover(db.app_url, reader_for=reader_for(settings), loop_settings=loop_settings(settings))
    assert [p["newly_paused"] for p in again.paused if p["profile_id"] == str(t.profile_id)] == [False]


async def test_an_unresponsive_exchange_delays_start_up_by_the_budget_only(
        db: DatabaseUnderTest, app_conn: AppConnection, simulator: RunningSimulator, settings: Settings) -> None:
    t = await big_tenant(app_conn, simulator, settings)
    with frozen_prices(simulator):
        await place_resting(app_conn, settings, t, market="ETH-EUR", amount=D("0.1"), price=below(simulator, "ETH-EUR"))
    await make_proposal(app_conn, t.user_id, t.profile_id)  # approved: its account is reconciled before the loops
    simulator.admin.fault("*", "latency", latency_ms=20_000)
    try:
        started = time.monotonic()
        report = await recover(db.app_url, reader_for=reader_for(settings), loop_settings=loop_settings(settings),
                               exchange_budget_s=2.0)
        elapsed = time.monotonic() - started
    finally:
        simulator.admin.clear_faults()
    assert report.timed_out and elapsed < 10, (report.to_json(), elapsed)
    async with user_tx(app_conn, t.user_id):  # nothing was given up: the order is still followed
        cur = await app_conn.execute("SELECT state FROM executions")
        assert [r["state"] for r in await cur.fetchall()] == ["SUBMITTED"]
