"""A scanner pass works off a backlog: it keeps claiming while full batches are due (bounded), and its jobs
reuse the pass's connections instead of connecting once per job."""

from __future__ import annotations

from pathlib import Path

import psycopg

from autoinvest.db.tx import AppConnection
from autoinvest.scanner.runs import PassSettings, Running, scan_pass
from tests.integration.scanner.helpers import scanner_for
from tests.support.database import DatabaseUnderTest
from tests.support.simulator import RunningSimulator
from tests.support.trading import make_trading_tenant, settings_for


def _scheduled(db: DatabaseUnderTest) -> tuple[int, int]:
    """(jobs that ran and are scheduled again, jobs never run), across tenants."""
    with psycopg.connect(db.admin_url) as conn:
        row = conn.execute("SELECT count(*) FILTER (WHERE last_run_at IS NOT NULL),"
                           " count(*) FILTER (WHERE last_run_at IS NULL) FROM scan_jobs").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


async def test_a_pass_with_20_due_jobs_and_batch_8_runs_all_20_on_at_most_8_connections(
        scan_db: DatabaseUnderTest, scan_conn: AppConnection, simulator: RunningSimulator, tmp_path: Path) -> None:
    settings = settings_for(simulator, tmp_path)
    for _ in range(20):
        await make_trading_tenant(scan_conn, simulator, settings, strategy="dca", scan_interval_seconds=60)
    scanner = scanner_for(simulator, tmp_path)
    sessions: set[int] = set()

    async def run_job(conn: AppConnection, running: Running) -> str:
        sessions.add(conn.info.backend_pid)  # which PostgreSQL session ran the job
        return await scanner.run_job(conn, running)

    pass_settings = PassSettings(worker=scanner.worker, app_url=scan_db.app_url, batch=8, lease_s=30)
    claimed = await scan_pass(scan_conn, pass_settings, run_job)

    assert (claimed, _scheduled(scan_db)) == (20, (20, 0)), "the pass left due jobs for the next poll"
    assert pass_settings.outcomes == {"ok": 20}
    assert len(sessions) <= 8, f"{len(sessions)} connections for 20 jobs: one per job, not reused"


async def test_a_pass_stops_claiming_at_its_bound(
        scan_db: DatabaseUnderTest, scan_conn: AppConnection, simulator: RunningSimulator, tmp_path: Path) -> None:
    settings = settings_for(simulator, tmp_path)
    for _ in range(6):
        await make_trading_tenant(scan_conn, simulator, settings, strategy="dca", scan_interval_seconds=60)
    scanner = scanner_for(simulator, tmp_path)
    pass_settings = PassSettings(worker=scanner.worker, app_url=scan_db.app_url, batch=2, lease_s=30, max_jobs=4)

    assert await scan_pass(scan_conn, pass_settings, scanner.run_job) == 4
    assert _scheduled(scan_db) == (4, 2)
