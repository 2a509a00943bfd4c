"""Scan scale: many active profiles (rules strategy, no LLM) on one embedded PostgreSQL, all due at once, scanned by
``autoinvest worker --roles scanner`` processes.

Round 1 drains the backlog (every profile due at the start): profiles scanned per second. Round 2 is the steady
state (each job is due again one interval after its first run, so due times are spread as the first round ran
them): the p99 lag of a run behind its due time, from the ``scan.completed`` events (completion minus due time,
so it includes the scan itself). Public market-data requests are counted at the simulator. Baseline: one bare
signed ``GET /balance`` round trip (p50), the floor of any exchange call; the ratio is the worker time one
profile's scan costs (processes × elapsed / profiles) over it.

Run alone: ``.venv/bin/python -m bench.scan_scale [PROFILES INTERVAL_S]`` (default: the issue's 10,000 every 300 s).
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from datetime import datetime, timedelta

import psycopg

from bench._suite import Env, Figure, percentile, run_alone
from bench._tenants import bare_balance_ms, make_tenants, start_workers, stop_workers

NAME = "scan-scale"
PROFILES_PER_USER = 4
WORKERS = 2  #: one per core: PostgreSQL and the simulator share the same two cores
BATCH = 16
#: The issue's volume; ``configure`` changes them for a shorter run at the same offered load (profiles/interval).
PROFILES = 10_000
INTERVAL_S = 300
_CANDLES = re.compile(r"^GET /([A-Z]+-[A-Z]+)/candles$")


def configure(profiles: int, interval_s: int) -> None:
    global PROFILES, INTERVAL_S
    PROFILES, INTERVAL_S = profiles, interval_s


def _events(env: Env) -> list[tuple[int, datetime, datetime]]:
    """(fencing token, due at, completed at) of every scan run so far."""
    with psycopg.connect(env.db.admin_url) as conn:
        rows = conn.execute("SELECT (payload->>'fencing_token')::int, (payload->>'due_at')::timestamptz,"
                            " (payload->>'next_run_at')::timestamptz - make_interval(secs => p.scan_interval_seconds)"
                            " FROM outbox_events e JOIN profiles p ON p.id = (e.payload->>'profile_id')::uuid"
                            " WHERE e.kind = 'scan.completed'").fetchall()
    return [(int(r[0]), r[1], r[2]) for r in rows]


def _runs_with_token(env: Env, token: int) -> int:
    with psycopg.connect(env.db.admin_url) as conn:
        row = conn.execute("SELECT count(*) FROM scan_jobs WHERE fencing_token > %(t)s"  # a later run has started
                           " OR (fencing_token = %(t)s AND locked_by IS NULL)", {"t": token}).fetchone()
    return int(row[0]) if row else 0


async def _wait_for(env: Env, token: int, total: int, deadline: float) -> None:
    while time.monotonic() < deadline and _runs_with_token(env, token) < total:
        await asyncio.sleep(1.0)
        env.progress(f"scan-scale: round {token}: {_runs_with_token(env, token)}/{total}")


async def run(env: Env, *, quick: bool) -> list[Figure]:
    profiles, interval_s, workers = (40, 10, 1) if quick else (PROFILES, INTERVAL_S, WORKERS)
    users = max(1, profiles // PROFILES_PER_USER)
    env.progress(f"scan-scale: {users} users x {PROFILES_PER_USER} profiles, every {interval_s} s")
    bulk = make_tenants(env, users=users, profiles_per_user=PROFILES_PER_USER, interval_s=interval_s)
    total = bulk.profiles
    bare = bare_balance_ms(env, bulk.users[0].key)
    public_before = env.sim.admin.public_requests()
    with psycopg.connect(env.db.admin_url) as conn:
        conn.execute("UPDATE scan_jobs SET next_run_at = now()")  # all due at once, at the start
        start_row = conn.execute("SELECT now()").fetchone()
    assert start_row is not None
    started_at: datetime = start_row[0]
    procs = start_workers(env, "scanner", workers, AUTOINVEST_SCAN_BATCH=str(BATCH))
    started = time.monotonic()
    try:
        await _wait_for(env, 1, total, started + 3 * interval_s + 60)
        await _wait_for(env, 2, total, time.monotonic() + 2 * interval_s + 60)
    finally:
        stop_workers(procs)
    events = _events(env)
    first = [done for token, _, done in events if token == 1]
    second_lag = [(done - due).total_seconds() for token, due, done in events if token == 2]
    drain_s = (max(first) - started_at).total_seconds() if first else float("inf")
    rate = len(first) / drain_s if first else 0.0
    p99 = percentile(second_lag, 99) if second_lag else float("inf")
    public_after = env.sim.admin.public_requests()
    candles = {m: public_after.get(k, 0) - public_before.get(k, 0)
               for k in public_after if (m := _match(k)) is not None}
    rounds = 2 if second_lag else 1
    per_market = max(candles.values(), default=0) / rounds / workers
    per_profile_ms = workers * drain_s * 1000 / max(1, len(first))
    needed = total / interval_s
    return [
        Figure(NAME, f"profiles scanned/s ({workers} workers, round 1: {len(first)}/{total} all due at once)",
               rate, "/s", baseline=f"needed {needed:.1f}/s", ratio=rate / needed, target=f">= {needed:.1f}/s",
               met=rate >= needed),
        Figure(NAME, "worker time per profile scanned", per_profile_ms, "ms",
               baseline=f"bare GET /balance p50 {bare:.2f} ms", ratio=per_profile_ms / bare),
        Figure(NAME, f"p99 lag behind due time (steady state, round 2: {len(second_lag)} runs)", p99 * 1000, "ms",
               target="< 10000 ms", met=p99 < 10),
        Figure(NAME, "candle requests per market per interval per worker process", per_market, "requests",
               baseline=f"{timedelta(seconds=interval_s)} interval, {sum(candles.values())} in all",
               target="about 1 (one per scan window)", met=per_market <= 2.5),
    ]


def _match(endpoint: str) -> str | None:
    found = _CANDLES.match(endpoint)
    return found.group(1) if found else None


if __name__ == "__main__":
    if len(sys.argv) >= 3:
        configure(int(sys.argv[1]), int(sys.argv[2]))
    run_alone(lambda env: run(env, quick="--quick" in sys.argv))
