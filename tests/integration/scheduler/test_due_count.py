"""The contention metric's count: due jobs nobody holds, across tenants, and nothing else."""

from __future__ import annotations

from pathlib import Path

from autoinvest.db.tx import AppConnection
from autoinvest.scheduler import jobs
from tests.support.database import DatabaseUnderTest
from tests.support.simulator import RunningSimulator
from tests.support.trading import make_trading_tenant, settings_for


async def test_due_unclaimed_counts_due_jobs_until_they_are_claimed(
        scan_db: DatabaseUnderTest, scan_conn: AppConnection, simulator: RunningSimulator,
        tmp_path: Path) -> None:
    settings = settings_for(simulator, tmp_path)
    for _ in range(3):
        await make_trading_tenant(scan_conn, simulator, settings)  # three users, one due job each
    assert await jobs.due_unclaimed(scan_conn) == 3
    claimed = await jobs.claim(scan_conn, "worker-a", 2, 60)
    assert len(claimed) == 2
    assert await jobs.due_unclaimed(scan_conn) == 1
    assert len(await jobs.claim(scan_conn, "worker-b", 5, 60)) == 1  # SKIP LOCKED leaves the held two alone
    assert await jobs.due_unclaimed(scan_conn) == 0
