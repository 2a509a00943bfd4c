"""Tenants on different exchanges (two simulators) never see each other's market data or metadata (guarantee 12):
the scanner's cache and ``market_metadata`` are kept per exchange base URL."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from autoinvest.db.tx import AppConnection, system_tx
from autoinvest.scheduler.housekeeping import housekeeping_pass
from tests.integration.scanner.helpers import events, job, proposals, run_pass, scanner_for
from tests.integration.scheduler.isolated import admin_execute
from tests.support.database import DatabaseUnderTest
from tests.support.simulator import RunningSimulator, start_simulator
from tests.support.trading import make_trading_tenant, settings_for


@pytest.fixture
def other_exchange() -> Iterator[RunningSimulator]:
    """A second exchange on another port."""
    with start_simulator(seed=2) as running:
        yield running


async def test_a_tenant_on_another_exchange_does_not_get_the_cached_prices_of_the_first(
        scan_db: DatabaseUnderTest, scan_conn: AppConnection, simulator: RunningSimulator,
        other_exchange: RunningSimulator, tmp_path: Path) -> None:
    a = await make_trading_tenant(scan_conn, simulator, settings_for(simulator, tmp_path), strategy="dca",
                                  scan_interval_seconds=60)
    b = await make_trading_tenant(scan_conn, other_exchange, settings_for(other_exchange, tmp_path), strategy="dca",
                                  scan_interval_seconds=60)
    due = (await job(scan_conn, a.user_id))["next_run_at"]
    admin_execute(scan_db, "UPDATE scan_jobs SET next_run_at = now() + interval '1 hour' WHERE profile_id = %s",
                  (b.profile_id,))
    scanner = scanner_for(simulator, tmp_path)  # one process, one cache, for both tenants
    await run_pass(scan_conn, scan_db, scanner)
    assert len(await proposals(scan_conn, a.user_id)) == 2

    # B's exchange cannot give prices; B's job runs in the same scan window as A's did
    other_exchange.admin.fault("GET /ticker/price", "http_500")
    admin_execute(scan_db, "UPDATE scan_jobs SET next_run_at = %s WHERE profile_id = %s", (due, b.profile_id))
    await run_pass(scan_conn, scan_db, scanner)

    assert await proposals(scan_conn, b.user_id) == [], "B's scan used the prices of A's exchange"
    (event,) = await events(scan_conn, b.user_id)
    assert event["outcome"] == "failed"


async def test_market_metadata_is_refreshed_and_read_per_exchange(
        scan_db: DatabaseUnderTest, scan_conn: AppConnection, simulator: RunningSimulator,
        other_exchange: RunningSimulator, tmp_path: Path) -> None:
    settings = settings_for(simulator, tmp_path)
    await make_trading_tenant(scan_conn, simulator, settings, strategy="dca")
    await make_trading_tenant(scan_conn, other_exchange, settings_for(other_exchange, tmp_path), strategy="dca")
    scanner = scanner_for(simulator, tmp_path)

    assert await housekeeping_pass(scanner.reader_for, settings)(scan_conn) == 0

    async with system_tx(scan_conn):
        cur = await scan_conn.execute("SELECT exchange_url, count(*) AS n, min(min_order_quote) AS min_eur"
                                      " FROM market_metadata GROUP BY exchange_url ORDER BY exchange_url")
        rows = await cur.fetchall()
    assert rows == sorted([{"exchange_url": simulator.base, "n": 4, "min_eur": Decimal("5")},
                           {"exchange_url": other_exchange.base, "n": 4, "min_eur": Decimal("5")}],
                          key=lambda r: str(r["exchange_url"]))
