"""Guarantee 13: /internal/health is 503 naming the profile while its reconciliation keeps failing."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from uuid import UUID

import httpx

from autoinvest import runtime
from autoinvest.api.app import create_app
from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.exchange.base import MarketData
from autoinvest.reconcile.service import reconcile_users
from tests.integration.reconcile.helpers import add_unlisted_profile
from tests.support.database import DatabaseUnderTest
from tests.support.simulator import RunningSimulator
from tests.support.trading import make_trading_tenant, settings_for


async def _health(app: object) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:  # type: ignore[arg-type]
        return await client.get("/internal/health")


async def test_health_is_503_while_a_profile_keeps_failing_and_200_once_it_recovers(
        db: DatabaseUnderTest, app_conn: AppConnection, simulator: RunningSimulator, tmp_path: Path) -> None:
    settings = settings_for(simulator, tmp_path)
    t = await make_trading_tenant(app_conn, simulator, settings, eur=Decimal("1000"), allocate=Decimal("100"))
    bad = await add_unlisted_profile(app_conn, t)

    async def reader_for(c: AppConnection, user_id: UUID) -> MarketData:
        return await runtime.reader_for(c, user_id, settings)

    app = create_app(app_url=db.app_url, exchange_url=simulator.url, loops=(), stale_after_s=30,
                     failing_after=3)
    for _ in range(2):
        await reconcile_users(app_conn, reader_for, [t.user_id])
    assert (await _health(app)).status_code == 200  # two failures in a row: not yet "keeps failing"
    await reconcile_users(app_conn, reader_for, [t.user_id])
    response = await _health(app)
    assert response.status_code == 503, response.json()
    body = response.json()
    assert body["reconciliation"]["failing_profiles"] == [{"profile_id": str(bad), "failed_runs": 3}], body
    assert str(t.profile_id) not in str(body["reconciliation"])  # the user's good profile is not failing

    async with user_tx(app_conn, t.user_id):  # the operator fixes the allowlist: the next run succeeds
        await app_conn.execute("UPDATE profile_policies SET allowlist = '{BTC-EUR}' WHERE profile_id = %s", (bad,))
    await reconcile_users(app_conn, reader_for, [t.user_id])
    assert (await _health(app)).status_code == 200
