"""How much does one claim transaction cost? Printed as a ratio to a bare transaction in the same run.

Run: `.venv/bin/python -m bench.bench_claim` (starts an embedded PostgreSQL in a temporary directory).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from autoinvest.db.tx import connect, user_tx
from autoinvest.execution.claim import Outcome, claim
from tests.support import database
from tests.support.proposals import make_proposal, set_policy
from tests.support.tenants import make_profile, make_user

N = 200


async def main(db: database.DatabaseUnderTest) -> None:
    conn = await connect(db.app_url)
    user = await make_user(conn)
    profiles = [await make_profile(conn, user) for _ in range(N)]
    for profile in profiles:
        await set_policy(conn, user, profile, cooldown_minutes=0, anti_flip_minutes=0)
    proposals = [await make_proposal(conn, user, p) for p in profiles]

    started = time.perf_counter()
    for _ in range(N):  # baseline: a transaction as the user that reads one row
        async with user_tx(conn, user):
            await (await conn.execute("SELECT 1 FROM profiles WHERE id = %s", (profiles[0],))).fetchone()
    baseline = (time.perf_counter() - started) / N

    started = time.perf_counter()
    results = [await claim(conn, user, p) for p in proposals]
    per_claim = (time.perf_counter() - started) / N
    await conn.close()
    assert all(r.outcome is Outcome.CLAIMED for r in results)
    print(f"bare transaction {baseline * 1000:.2f} ms, claim {per_claim * 1000:.2f} ms: "
          f"claim/baseline ratio {per_claim / baseline:.1f}x over {N} claims")


if __name__ == "__main__":
    db = database.start(Path(tempfile.mkdtemp()))
    try:
        asyncio.run(main(db))
    finally:
        database.stop(db)
