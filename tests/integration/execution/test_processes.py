"""Many processes at once, and processes killed at every step: still at most one order per proposal."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path
from uuid import UUID

import psycopg
import pytest

from autoinvest import runtime
from autoinvest.accounts import kill_switch
from autoinvest.config import Settings
from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.exchange.base import MarketData
from autoinvest.execution import loops
from autoinvest.execution.claim import claim
from autoinvest.execution.client_order_id import client_order_id
from autoinvest.execution.failpoints import POINTS
from autoinvest.execution.service import submit_claimed
from autoinvest.ledger import repo as ledger_repo
from tests.support import processes
from tests.support.database import DatabaseUnderTest
from tests.support.proposals import make_proposal
from tests.support.simulator import RunningSimulator
from tests.support.trading import make_trading_tenant, orders_of, orders_of_account, settings_for

pytestmark = pytest.mark.slow


async def test_execute_cli_prints_json_and_exit_codes(
        db: DatabaseUnderTest, app_conn: AppConnection, simulator: RunningSimulator, tmp_path: Path) -> None:
    t = await make_trading_tenant(app_conn, simulator, settings_for(simulator, tmp_path))
    proposal = await make_proposal(app_conn, t.user_id, t.profile_id)
    env = processes.env_for(db, simulator)
    code, payload, _ = processes.execute_result(processes.start(["execute", str(proposal)], env))
    assert code == 0 and payload is not None and payload["state"] == "FILLED"
    assert payload["client_order_id"] == str(client_order_id(t.user_id, proposal))
    assert set(payload) == {"execution_id", "proposal_id", "state", "client_order_id", "exchange_order_id", "reasons"}
    code, payload, _ = processes.execute_result(processes.start(["execute", str(proposal)], env))
    assert code == 4 and payload is not None and payload["state"] == "FILLED"
    denied = await make_proposal(app_conn, t.user_id, t.profile_id, market="SOL-EUR")
    code, payload, _ = processes.execute_result(processes.start(["execute", str(denied)], env))
    assert code == 3 and payload is not None and payload["reasons"] == ["MARKET_NOT_ALLOWED"]
    code, payload, err = processes.execute_result(processes.start(["execute", "not-a-uuid"], env))
    assert code == 2 and payload is None and "ID_INVALID" in err


@pytest.mark.parametrize(("policy", "allowed"), [({"cooldown_minutes": 60}, 1), ({"max_trades_per_hour": 3}, 3)],
                         ids=["cooldown", "hourly-cap"])
async def test_eight_processes_on_one_profile_and_market_add_zero_extra_trades(
        db: DatabaseUnderTest, app_conn: AppConnection, simulator: RunningSimulator, tmp_path: Path,
        policy: dict[str, int], allowed: int) -> None:
    t = await make_trading_tenant(app_conn, simulator, settings_for(simulator, tmp_path), **policy)
    proposals = [await make_proposal(app_conn, t.user_id, t.profile_id) for _ in range(8)]
    env = processes.env_for(db, simulator)
    pending = list(proposals)
    rounds = 0
    started = time.monotonic()
    settings = settings_for(simulator, tmp_path)
    while pending:  # proposals that waited for a live entry are run again, as a worker would
        rounds += 1
        procs = [processes.start(["execute", str(p)], env) for p in pending]
        results = [processes.execute_result(p) for p in procs]
        codes = [code for code, _, _ in results]
        unexpected = [r for r in results if r[0] not in (0, 3, 5, 6)]
        assert not unexpected, unexpected
        pending = [p for p, code in zip(pending, codes, strict=True) if code == 6]
        if 5 in codes:  # a slow machine timed an order out: settle it as the resolver would, never by resending
            await asyncio.sleep((settings.access_window_ms + settings.clock_skew_ms) / 1000)
            await _settle(app_conn, settings)
        assert rounds <= 8, results
    orders = orders_of_account(simulator, t.trade_key.account_id)
    assert len(orders) == allowed
    print(f"8 processes, policy {policy}: {len(orders)} orders in {rounds} rounds, {time.monotonic() - started:.1f}s")


async def _settle(conn: AppConnection, settings: Settings) -> None:
    s = loops.LoopSettings(submit=runtime.submit_settings(settings), resolve=runtime.resolve_settings(settings),
                           resolver_grace_s=0)

    async def reader_for(c: AppConnection, user_id: UUID) -> MarketData:
        return await runtime.reader_for(c, user_id, settings)

    for _ in range(2):  # "not found" must be seen twice after the window
        await loops.resolver_pass(conn, lookup_for=reader_for, settings=s)
    await loops.monitor_pass(conn, reader_for=reader_for, grace_s=0)


async def _wait_terminal(conn: AppConnection, user_id: UUID, proposal: UUID, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    state = "none"
    while time.monotonic() < deadline:
        async with user_tx(conn, user_id):
            cur = await conn.execute("SELECT state, confirmed_at FROM executions WHERE proposal_id = %s",
                                     (proposal,))
            row = await cur.fetchone()
        state = row["state"] if row else "none"
        if state in ("FILLED", "CANCELED", "REJECTED") or (state == "NOT_PLACED" and row and row["confirmed_at"]):
            return state  # a NOT_PLACED is final once a later look has confirmed it
        await asyncio.sleep(0.3)
    return state


EXPECTED = {"after-claim-commit": ("FILLED", 1), "after-submitting-commit": ("NOT_PLACED", 0),
            "before-send": ("NOT_PLACED", 0), "after-send-before-record": ("FILLED", 1),
            "after-record": ("FILLED", 1)}


@pytest.mark.parametrize("point", POINTS)
async def test_a_crash_at_every_failpoint_then_a_restarted_worker(
        db: DatabaseUnderTest, app_conn: AppConnection, simulator: RunningSimulator, tmp_path: Path,
        point: str) -> None:
    t = await make_trading_tenant(app_conn, simulator, settings_for(simulator, tmp_path))
    proposal = await make_proposal(app_conn, t.user_id, t.profile_id)
    armed = processes.env_for(db, simulator, AUTOINVEST_FAILPOINT=point, AUTOINVEST_TEST_HOOKS="true")
    code, _, _ = processes.execute_result(processes.start(["execute", str(proposal)], armed))
    assert code == -signal.SIGKILL  # died at the failpoint, as kill -9 would
    worker = processes.start(["worker", "--roles", "executor,resolver,monitor", "--poll-s", "0.3"],
                             processes.env_for(db, simulator))
    try:
        state = await _wait_terminal(app_conn, t.user_id, proposal, timeout_s=60)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.communicate(timeout=30)
    expected_state, expected_orders = EXPECTED[point]
    assert state == expected_state
    assert len(orders_of(simulator, client_order_id(t.user_id, proposal))) == expected_orders
    async with user_tx(app_conn, t.user_id):
        account = await ledger_repo.account(app_conn, t.profile_id)
        assert await ledger_repo.check(app_conn, t.profile_id) is None
    assert account.reserved_for_orders == 0
    assert account.allocated - account.reserved_for_positions + account.realized_pnl >= 0
    assert (account.reserved_for_positions > 0) == (expected_orders == 1)


async def test_a_worker_whose_sessions_are_ended_reconnects_and_goes_on(
        db: DatabaseUnderTest, app_conn: AppConnection, simulator: RunningSimulator, tmp_path: Path) -> None:
    t = await make_trading_tenant(app_conn, simulator, settings_for(simulator, tmp_path))
    worker = processes.start(["worker", "--roles", "executor,resolver,monitor", "--poll-s", "0.3"],
                             processes.env_for(db, simulator))
    try:
        first = await make_proposal(app_conn, t.user_id, t.profile_id, market="ETH-EUR")
        assert await _wait_terminal(app_conn, t.user_id, first, timeout_s=60) == "FILLED"
        with psycopg.connect(db.admin_url, autocommit=True) as admin:  # a server restart, as the worker sees it
            ended = admin.execute("SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity"
                                  " WHERE application_name = %s", (f"autoinvest-{worker.pid}",)).fetchone()
        assert ended is not None and ended[0] >= 3  # a connection per loop, and the executor's listener
        second = await make_proposal(app_conn, t.user_id, t.profile_id)
        assert await _wait_terminal(app_conn, t.user_id, second, timeout_s=60) == "FILLED"
        assert worker.poll() is None
    finally:
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err


async def test_kill_switch_on_reports_the_orders_in_flight_and_waits_until_they_settle(
        db: DatabaseUnderTest, app_conn: AppConnection, simulator: RunningSimulator, tmp_path: Path) -> None:
    settings = settings_for(simulator, tmp_path)
    t = await make_trading_tenant(app_conn, simulator, settings)
    proposal = await make_proposal(app_conn, t.user_id, t.profile_id)
    claimed = await claim(app_conn, t.user_id, proposal)  # claimed, about to be sent
    assert claimed.execution is not None
    env = processes.env_for(db, simulator)
    try:
        switch = processes.start(["kill-switch", "on", "--user", str(t.user_id), "--wait", "1"], env)
        out, err = switch.communicate(timeout=60)
        assert switch.returncode == 0, err
        assert json.loads(out) == {"scope": "user", "id": str(t.user_id), "kill_switch": True}
        assert "1 order(s) in flight" in err and f"still in flight after 1 s: {claimed.execution.id}" in err, err
        # The executor settles it: refused by the switch, never sent; a second `on` then has nothing to wait for.
        await submit_claimed(app_conn, t.user_id, claimed.execution.id, clients_for=runtime.executor_clients(settings),
                             settings=runtime.submit_settings(settings))
        again = processes.start(["kill-switch", "on", "--user", str(t.user_id)], env)
        _, err = again.communicate(timeout=60)
        assert again.returncode == 0 and "no order in flight for this scope" in err, err
    finally:
        async with user_tx(app_conn, t.user_id):
            await kill_switch.set_user(app_conn, t.user_id, False, actor="test")
    assert orders_of(simulator, client_order_id(t.user_id, proposal)) == []
