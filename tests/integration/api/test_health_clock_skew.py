"""Guarantee 16 in /internal/health: a process that sends orders reports the measured clock skew, and answers 503
while the fence holds orders back (skew beyond the bound, or no fresh measurement)."""

from __future__ import annotations

import uuid

import httpx

from autoinvest.api.app import create_app
from autoinvest.db.tx import AppConnection, system_tx
from autoinvest.observability import clock_skew
from autoinvest.observability.clock_skew import ClockFence
from tests.support.database import DatabaseUnderTest
from tests.support.simulator import RunningSimulator


async def _health(db: DatabaseUnderTest, fence: ClockFence, loop: str) -> httpx.Response:
    app = create_app(app_url=db.app_url, exchange_url=fence.exchange_url, loops=(loop,), stale_after_s=30,
                     clock=fence)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        return await client.get("/internal/health")


async def test_health_reports_the_skew_and_is_503_beyond_the_bound(db: DatabaseUnderTest, app_conn: AppConnection,
                                                                    sim: RunningSimulator) -> None:
    loop = f"fresh-{uuid.uuid4().hex[:6]}"
    async with system_tx(app_conn):
        await app_conn.execute("INSERT INTO loop_heartbeats (loop_name, instance) VALUES (%s, 'test')", (loop,))
    url = sim.url + "/"  # a URL of its own: no other test's measurement
    fence = ClockFence(exchange_url=url, bound_ms=500, max_age_s=60)
    unmeasured = await _health(db, fence, loop)
    assert unmeasured.status_code == 503 and unmeasured.json()["clock_skew"]["reason"] == "CLOCK_SKEW_UNMEASURED"

    sim.admin.set_clock_offset(-3_000)
    await clock_skew.measure(app_conn, url)
    behind = await _health(db, fence, loop)
    assert behind.status_code == 503, behind.json()
    report = behind.json()["clock_skew"]
    assert report["ok"] is False and report["reason"] == "CLOCK_SKEW_EXCEEDED"
    assert -3_500 < report["skew_ms"] < -2_500

    sim.admin.set_clock_offset(0)
    await clock_skew.measure(app_conn, url)
    agreeing = await _health(db, fence, loop)
    assert agreeing.status_code == 200, agreeing.json()
    assert abs(agreeing.json()["clock_skew"]["skew_ms"]) < 500
