"""Run scan passes in the test process, and read what they wrote."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

from autoinvest import runtime
from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.exchange.base import MarketData
from autoinvest.scanner.runs import PassSettings, scan_pass
from autoinvest.scanner.service import Scanner
from tests.support.database import DatabaseUnderTest
from tests.support.simulator import RunningSimulator
from tests.support.trading import settings_for


def scanner_for(sim: RunningSimulator, home: Path, worker: str = "test-worker", **extra: Any) -> Scanner:
    settings = settings_for(sim, home, **extra)

    async def reader_for(conn: AppConnection, user_id: UUID) -> MarketData:
        return await runtime.reader_for(conn, user_id, settings)

    return Scanner(worker=worker, reader_for=reader_for, settings=settings)


async def run_pass(conn: AppConnection, test_db: DatabaseUnderTest, scanner: Scanner, *,
                   lease_s: int = 30) -> PassSettings:
    settings = PassSettings(worker=scanner.worker, app_url=test_db.app_url, batch=8, lease_s=lease_s)
    await scan_pass(conn, settings, scanner.run_job)
    return settings


async def proposals(conn: AppConnection, user_id: UUID) -> list[dict[str, Any]]:
    async with user_tx(conn, user_id):
        cur = await conn.execute(
            "SELECT *, extract(epoch FROM expires_at - created_at)::int AS ttl_s FROM trade_proposals"
            " ORDER BY market, created_at")
        return await cur.fetchall()


async def events(conn: AppConnection, user_id: UUID) -> list[dict[str, Any]]:
    async with user_tx(conn, user_id):
        cur = await conn.execute("SELECT payload FROM outbox_events WHERE kind = 'scan.completed' ORDER BY id")
        return [r["payload"] for r in await cur.fetchall()]


async def job(conn: AppConnection, user_id: UUID) -> dict[str, Any]:
    async with user_tx(conn, user_id):
        cur = await conn.execute("SELECT *, next_run_at > now() AS scheduled FROM scan_jobs")
        row = await cur.fetchone()
    assert row is not None
    return row
