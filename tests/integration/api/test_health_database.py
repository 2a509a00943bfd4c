"""Guarantee 13, the database part of /internal/health: 503 naming the database, both when no connection can be
made (nothing listens at the address) and when the connection is lost in the middle of the check (its session
is terminated while it waits). The exchange is up and every expected loop is fresh: the database is the only
reason. The shared test server keeps running; the second case locks a database of its own."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from typing import Any

import httpx
import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from autoinvest.api.app import create_app
from autoinvest.db.tx import connect, system_tx
from tests.integration.scheduler.isolated import isolated_database
from tests.support.database import DatabaseUnderTest
from tests.support.simulator import RunningSimulator


async def _get(app: object, path: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:  # type: ignore[arg-type]
        return await client.get(path)


def _nothing_listens(app_url: str) -> str:
    """The app URL with a port that was free a moment ago (bound, then closed): connections are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    params: dict[str, Any] = conninfo_to_dict(app_url)
    params.update(host="127.0.0.1", port=str(port), connect_timeout="3")
    return make_conninfo(**params)


def _assert_the_database_is_the_reason(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["healthy"] is False and body["database"]["ok"] is False and body["database"]["error"], body


async def test_health_is_503_naming_the_database_when_nothing_listens_at_its_address(
        db: DatabaseUnderTest, simulator: RunningSimulator) -> None:
    app = create_app(app_url=_nothing_listens(db.app_url), exchange_url=simulator.url, loops=(), stale_after_s=30)
    response = await _get(app, "/internal/health")
    _assert_the_database_is_the_reason(response)
    assert response.json()["database"]["error"] == "DatabaseError"


async def test_health_is_503_naming_the_database_when_its_connection_is_lost_mid_check(
        db: DatabaseUnderTest, simulator: RunningSimulator) -> None:
    own = isolated_database(db)  # the lock below must block nobody else's heartbeats
    loop = f"fresh-{uuid.uuid4().hex[:6]}"
    conn = await connect(own.app_url)
    try:
        async with system_tx(conn):
            await conn.execute("INSERT INTO loop_heartbeats (loop_name, instance, last_success_at)"
                               " VALUES (%s, 'test', now())", (loop,))
    finally:
        await conn.close()
    app = create_app(app_url=own.role_url("api"), exchange_url=simulator.url, loops=(loop,), stale_after_s=30)
    assert (await _get(app, "/internal/health")).status_code == 200  # healthy until the database goes

    locker = await psycopg.AsyncConnection.connect(own.admin_url)
    watcher = await psycopg.AsyncConnection.connect(own.admin_url, autocommit=True)
    # The check's first query waits behind this lock: a connection open, the check under way.
    await locker.execute("LOCK TABLE loop_heartbeats IN ACCESS EXCLUSIVE MODE")
    request = asyncio.create_task(_get(app, "/internal/health"))
    try:
        deadline = time.monotonic() + 20
        terminated = False
        while not terminated and not request.done():
            assert time.monotonic() < deadline, "the health check never waited on the database"
            cur = await watcher.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
                " AND usename = 'autoinvest_api' AND wait_event_type = 'Lock'")
            terminated = any(row[0] for row in await cur.fetchall())
            await asyncio.sleep(0.05)
    finally:
        await locker.rollback()  # a request still waiting goes on now
        await locker.close()
        await watcher.close()
        await asyncio.wait([request], timeout=10)
    response = request.result()
    assert terminated, response.text
    _assert_the_database_is_the_reason(response)
