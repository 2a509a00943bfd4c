"""Guarantee 13: /internal/health answers 503 when a loop is stale, 200 when every loop is fresh; /metrics serves."""

from __future__ import annotations

import uuid

import httpx

from autoinvest.api.app import create_app
from autoinvest.db.tx import AppConnection, system_tx
from tests.support.database import DatabaseUnderTest
from tests.support.simulator import RunningSimulator


async def _beat(conn: AppConnection, loop: str, seconds_ago: int) -> None:
    async with system_tx(conn):
        await conn.execute(
            "INSERT INTO loop_heartbeats (loop_name, instance, last_success_at)"
            " VALUES (%s, 'test', now() - make_interval(secs => %s))", (loop, seconds_ago))


async def _get(app: object, path: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:  # type: ignore[arg-type]
        return await client.get(path)


async def test_health_is_503_while_a_loop_is_stale_and_200_when_all_are_fresh(
        db: DatabaseUnderTest, app_conn: AppConnection, simulator: RunningSimulator) -> None:
    fresh, stale = f"fresh-{uuid.uuid4().hex[:6]}", f"stale-{uuid.uuid4().hex[:6]}"
    await _beat(app_conn, fresh, 1)
    await _beat(app_conn, stale, 120)
    app = create_app(app_url=db.app_url, exchange_url=simulator.url, loops=(fresh, stale), stale_after_s=30)
    response = await _get(app, "/internal/health")
    assert response.status_code == 503
    body = response.json()
    assert body["loops"][stale]["stale"] is True and body["loops"][fresh]["stale"] is False
    assert body["database"]["ok"] and body["exchange"]["ok"]

    healthy = create_app(app_url=db.app_url, exchange_url=simulator.url, loops=(fresh,), stale_after_s=30)
    assert (await _get(healthy, "/internal/health")).status_code == 200


async def test_health_is_503_when_the_exchange_is_unreachable(db: DatabaseUnderTest, app_conn: AppConnection) -> None:
    loop = f"fresh-{uuid.uuid4().hex[:6]}"
    await _beat(app_conn, loop, 0)
    app = create_app(app_url=db.app_url, exchange_url="http://127.0.0.1:9/v2", loops=(loop,), stale_after_s=30)
    response = await _get(app, "/internal/health")
    assert response.status_code == 503 and response.json()["exchange"]["ok"] is False


async def test_metrics_are_served_in_the_prometheus_format(db: DatabaseUnderTest) -> None:
    app = create_app(app_url=db.app_url, exchange_url="http://127.0.0.1:9/v2", loops=(), stale_after_s=30)
    response = await _get(app, "/metrics")
    assert response.status_code == 200 and "autoinvest_executions_total" in response.text
