"""A worker holds only the database URLs of the components it runs (issue 12, item 2)."""

from __future__ import annotations

import asyncio
import socket
import time

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from autoinvest.db.tx import AppConnection, system_tx
from tests.support import processes
from tests.support.database import DatabaseUnderTest
from tests.support.simulator import RunningSimulator


def _nothing_listens(url: str) -> str:
    with socket.socket() as s:  # a port that was free a moment ago: a connection there is refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    params = conninfo_to_dict(url)
    params.update(host="127.0.0.1", port=str(port), connect_timeout="2")
    return make_conninfo(**params)  # type: ignore[arg-type]


async def test_a_scanner_worker_runs_without_the_traders_url_and_the_operators(
        db: DatabaseUnderTest, simulator: RunningSimulator, app_conn: AppConnection) -> None:
    unreachable = _nothing_listens(db.role_url("trader"))
    env = processes.env_for(db, simulator, AUTOINVEST_TRADER_DATABASE_URL=unreachable,
                            AUTOINVEST_OPERATOR_DATABASE_URL=_nothing_listens(db.role_url("operator")),
                            AUTOINVEST_API_DATABASE_URL=_nothing_listens(db.role_url("api")))
    del env["AUTOINVEST_VAULT_KEY_TRADE"]
    worker = processes.start(["worker", "--roles", "scanner,scheduler", "--poll-s", "0.2"], env)
    try:
        deadline = time.monotonic() + 60
        beat = False
        while not beat and time.monotonic() < deadline and worker.poll() is None:
            async with system_tx(app_conn):
                cur = await app_conn.execute("SELECT 1 FROM loop_heartbeats WHERE loop_name = 'scanner'"
                                             " AND instance LIKE %s AND last_success_at IS NOT NULL",
                                             (f"%:{worker.pid}",))
                beat = await cur.fetchone() is not None
            await asyncio.sleep(0.2)
    finally:
        worker.terminate()
        _, err = worker.communicate(timeout=30)
    assert beat, f"the scanner worker did not run with only its own URL: {err[-2000:]}"
