"""Scan jobs across worker processes (`autoinvest worker --roles scheduler,scanner`) on one database.

- 2 and 8 processes: each due job runs exactly once per due time (one 'scan.completed' outbox event per
  job and due time, written by the fenced completion);
- a worker SIGKILLed mid-job: its job runs again (same due time) once the lease has expired;
- a worker SIGSTOPped past its lease, then SIGCONTed: its late writes are refused by the fencing token.

No process here has AUTOINVEST_VAULT_KEY_TRADE: scanning never needs the trade key.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from autoinvest.db.tx import IDLE_IN_TRANSACTION_TIMEOUT_MS, AppConnection, connect, is_broken, system_tx, user_tx
from autoinvest.scheduler.jobs import INCOMPLETE
from tests.integration.scanner.helpers import events, job, proposals
from tests.integration.scheduler.isolated import admin_execute
from tests.support import processes
from tests.support.database import DatabaseUnderTest
from tests.support.simulator import RunningSimulator
from tests.support.trading import TradingTenant, make_trading_tenant, settings_for

pytestmark = pytest.mark.slow


def _env(test_db: DatabaseUnderTest, sim: RunningSimulator, **extra: str) -> dict[str, str]:
    env = processes.env_for(test_db, sim, **({"AUTOINVEST_SCAN_LEASE_S": "2"} | extra))
    del env["AUTOINVEST_VAULT_KEY_TRADE"]
    return env


def _start(env: dict[str, str]) -> subprocess.Popen[str]:
    return processes.start(["worker", "--roles", "scheduler,scanner", "--poll-s", "0.2"], env)


def _stop(*procs: subprocess.Popen[str]) -> list[str]:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGCONT)
            p.send_signal(signal.SIGTERM)
    errs = []
    for p in procs:
        try:
            _, err = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
        errs.append(err)
    return errs


async def _until(check: Callable[[], Awaitable[bool]], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def _tenants(conn: AppConnection, sim: RunningSimulator, home: Path, n: int,
                   **policy: Any) -> list[TradingTenant]:
    settings = settings_for(sim, home)
    return [await make_trading_tenant(conn, sim, settings, strategy="dca", **policy) for _ in range(n)]


@pytest.mark.parametrize("workers", [2, 8])
async def test_each_due_job_runs_exactly_once_per_due_time(
        scan_db: DatabaseUnderTest, scan_conn: AppConnection, simulator: RunningSimulator, tmp_path: Path,
        workers: int) -> None:
    tenants = await _tenants(scan_conn, simulator, tmp_path, 6, scan_interval_seconds=5)
    env = _env(scan_db, simulator, AUTOINVEST_SCAN_BATCH="2", AUTOINVEST_SCAN_LEASE_S="10",
               AUTOINVEST_SCAN_HOLD_S="0.3", AUTOINVEST_TEST_HOOKS="true")
    admin_execute(scan_db, "UPDATE scan_jobs SET next_run_at = now() + interval '1 hour'")
    procs = [_start(env) for _ in range(workers)]

    async def all_up() -> bool:  # every worker has finished a scanner pass
        async with system_tx(scan_conn):
            cur = await scan_conn.execute("SELECT instance FROM loop_heartbeats WHERE loop_name = 'scanner'")
            pids = {int(r["instance"].rsplit(":", 1)[1]) for r in await cur.fetchall()}
        return pids >= {p.pid for p in procs}

    async def two_runs_each() -> bool:
        counts = [len(await events(scan_conn, t.user_id)) for t in tenants]
        return min(counts) >= 2

    try:
        await _until(all_up, 60, "every worker to run")
        admin_execute(scan_db, "UPDATE scan_jobs SET next_run_at = now()")  # all due at once: contention
        await _until(two_runs_each, 60, "two runs of every job")
    finally:
        errs = _stop(*procs)
    assert all(p.returncode == 0 for p in procs), errs
    runners: set[str] = set()
    for t in tenants:
        runs = await events(scan_conn, t.user_id)
        per_due = Counter(r["due_at"] for r in runs)
        assert max(per_due.values()) == 1, per_due  # never twice for one due time
        dues = sorted(datetime.fromisoformat(d) for d in per_due)
        assert all((b - a).total_seconds() >= 5 for a, b in itertools.pairwise(dues))  # on the interval
        assert all(r["outcome"] == "ok" for r in runs)
        written = await proposals(scan_conn, t.user_id)
        assert Counter(str(p["scan_fencing_token"]) for p in written) == Counter(
            {str(r["fencing_token"]): 2 for r in runs if r["proposals"]})
        assert len(written) == sum(r["proposals"] for r in runs)
        runners |= {r["worker"] for r in runs}
    assert len(runners) >= 2, runners  # the work was shared


async def _claimed_and_holding(conn: AppConnection, t: TradingTenant) -> bool:
    row = await job(conn, t.user_id)
    return row["locked_by"] is not None and (row["last_error"] or "").startswith(INCOMPLETE)


async def test_a_killed_workers_job_runs_again_after_the_lease(
        scan_db: DatabaseUnderTest, scan_conn: AppConnection, simulator: RunningSimulator, tmp_path: Path) -> None:
    (t,) = await _tenants(scan_conn, simulator, tmp_path, 1, scan_interval_seconds=60)
    due = (await job(scan_conn, t.user_id))["next_run_at"]
    doomed = _start(_env(scan_db, simulator, AUTOINVEST_SCAN_HOLD_S="60", AUTOINVEST_TEST_HOOKS="true"))
    try:
        await _until(lambda: _claimed_and_holding(scan_conn, t), 30, "the first worker to hold the job")
        held = await job(scan_conn, t.user_id)
        assert held["locked_by"].endswith(f":{doomed.pid}") and held["fencing_token"] == 1
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=10)
        rescuer = _start(_env(scan_db, simulator))

        async def completed() -> bool:
            return bool(await events(scan_conn, t.user_id))

        try:
            await _until(completed, 30, "the job to run again")
        finally:
            _stop(rescuer)
    finally:
        _stop(doomed)
    (run,) = await events(scan_conn, t.user_id)
    assert run["worker"].endswith(f":{rescuer.pid}") and run["fencing_token"] == 2
    assert datetime.fromisoformat(run["due_at"]) == due  # the same due time, run once
    written = await proposals(scan_conn, t.user_id)
    assert len(written) == 2 and {p["scan_fencing_token"] for p in written} == {2}


async def test_a_paused_worker_cannot_write_after_its_lease_was_taken_over(
        scan_db: DatabaseUnderTest, scan_conn: AppConnection, simulator: RunningSimulator, tmp_path: Path) -> None:
    (t,) = await _tenants(scan_conn, simulator, tmp_path, 1, scan_interval_seconds=60)
    stale = _start(_env(scan_db, simulator, AUTOINVEST_SCAN_HOLD_S="3", AUTOINVEST_TEST_HOOKS="true"))
    fresh: subprocess.Popen[str] | None = None
    try:
        await _until(lambda: _claimed_and_holding(scan_conn, t), 30, "the first worker to hold the job")
        stale.send_signal(signal.SIGSTOP)  # paused mid-job: no renewal, the lease runs out
        fresh = _start(_env(scan_db, simulator))

        async def completed() -> bool:
            return bool(await events(scan_conn, t.user_id))

        await _until(completed, 30, "the other worker to take the job over")
        stale.send_signal(signal.SIGCONT)  # wakes up past its hold: tries to write with token 1
        await asyncio.sleep(3)
    finally:
        _stop(stale, *([fresh] if fresh else []))
    assert fresh is not None
    (run,) = await events(scan_conn, t.user_id)
    assert run["worker"].endswith(f":{fresh.pid}") and run["fencing_token"] == 2
    written = await proposals(scan_conn, t.user_id)
    assert len(written) == 2 and {p["scan_fencing_token"] for p in written} == {2}  # nothing from token 1
    async with user_tx(scan_conn, t.user_id):
        cur = await scan_conn.execute("SELECT count(*) AS n FROM trade_proposals WHERE scan_fencing_token = 1")
        assert (await cur.fetchone()) == {"n": 0}


async def test_a_session_stalled_inside_a_transaction_does_not_hold_its_job_forever(
        scan_db: DatabaseUnderTest, scan_conn: AppConnection, simulator: RunningSimulator, tmp_path: Path) -> None:
    # A worker paused between a statement and its COMMIT (say, mid-renewal) keeps the job's row lock, and the
    # claim skips locked rows. PostgreSQL ends such a session after IDLE_IN_TRANSACTION_TIMEOUT_MS.
    (t,) = await _tenants(scan_conn, simulator, tmp_path, 1, scan_interval_seconds=60)
    stalled = await connect(scan_db.app_url)
    worker: subprocess.Popen[str] | None = None
    try:
        await stalled.execute("SELECT set_config('app.user_id', %s, true)", (str(t.user_id),))
        cur = await stalled.execute("SELECT id FROM scan_jobs WHERE user_id = %s FOR UPDATE", (t.user_id,))
        assert await cur.fetchone() is not None  # holding the row lock, idle in transaction
        worker = _start(_env(scan_db, simulator))
        started = time.monotonic()

        async def completed() -> bool:
            return bool(await events(scan_conn, t.user_id))

        await _until(completed, IDLE_IN_TRANSACTION_TIMEOUT_MS / 1000 + 30, "the job to run despite the stall")
        assert time.monotonic() - started > IDLE_IN_TRANSACTION_TIMEOUT_MS / 1000 - 2  # it did wait for the lock
        with pytest.raises(Exception):  # noqa: B017 (psycopg's class for "session ended" varies by timing)
            await stalled.execute("SELECT 1")
        assert is_broken(stalled)
    finally:
        if worker is not None:
            _stop(worker)
        with contextlib.suppress(Exception):
            await stalled.close()
    (run,) = await events(scan_conn, t.user_id)
    assert worker is not None and run["worker"].endswith(f":{worker.pid}")
