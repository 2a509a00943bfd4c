"""Restart to ready: ``autoinvest worker`` (the trader loops) started on a database with many open orders (SUBMITTED
executions whose limit orders rest at the simulator) and a million ledger entries.

Figures: seconds from the process start to the ``recovery done`` log line (ready: the loops start right after
it), and to the first heartbeat of the first and of the last loop. Baseline: the same start on an empty database
in the same run. Set-up writes the rows with COPY as the database owner (triggers off, accounts set to the sums of
their entries, so every account checks clean); the orders are placed at the simulator over signed HTTP.

Run alone: ``.venv/bin/python -m bench.restart [USERS ENTRIES]`` (default: 2,500 users × 4 profiles, one open
order each: 10,000; 1,000,000 entries).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from decimal import Decimal

import httpx
import psycopg

from autoinvest.execution.client_order_id import client_order_id
from bench._suite import Env, Figure, run_alone
from bench._tenants import ALLOWLISTS, Bulk, make_tenants, signed
from tests.support import processes

NAME = "restart"
USERS = 2_500
PROFILES_PER_USER = 4
ENTRIES = 1_000_000
ROLES = "executor,resolver,monitor,reconciler"
LOOPS = ROLES.split(",")
LOADED_TIMEOUT_S = 120.0
#: A resting buy far below the market (it never fills during the run), worth 12 EUR.
ORDERS = {"BTC-EUR": (Decimal("30000"), Decimal("0.0004")), "ETH-EUR": (Decimal("1500.00"), Decimal("0.008"))}


def configure(users: int, entries: int) -> None:
    global USERS, ENTRIES
    USERS, ENTRIES = users, entries


def _place_orders(env: Env, bulk: Bulk) -> list[tuple[uuid.UUID, uuid.UUID, str, uuid.UUID, uuid.UUID, str]]:
    """One resting order per profile: (user, profile, market, proposal, client order id, exchange order id)."""
    placed = []
    with httpx.Client(base_url=env.sim.url) as client:
        for n, u in enumerate(bulk.users):
            for i, profile_id in enumerate(u.profile_ids):
                market = ALLOWLISTS[i % 4][0]
                price, amount = ORDERS[market]
                proposal = uuid.uuid4()
                coid = client_order_id(u.user_id, proposal)
                body = json.dumps({"market": market, "side": "buy", "orderType": "limit", "amount": str(amount),
                                   "price": str(price), "clientOrderId": str(coid), "operatorId": 1})
                response = client.post("/order", content=body, headers=signed(u.key, "POST", "/order", body))
                response.raise_for_status()
                placed.append((u.user_id, profile_id, market, proposal, coid, response.json()["orderId"]))
            if n and n % 500 == 0:
                env.progress(f"restart: orders of {n} accounts placed")
    return placed


def _write_rows(env: Env, bulk: Bulk, placed: list[tuple[uuid.UUID, uuid.UUID, str, uuid.UUID, uuid.UUID, str]],
                entries: int) -> None:
    profiles = [(u.user_id, p) for u in bulk.users for p in u.profile_ids]
    filler = max(0, entries - len(profiles) - len(placed)) // max(1, len(profiles))
    with psycopg.connect(env.db.admin_url) as conn:
        conn.execute("SET session_replication_role = replica")  # set-up only: no per-row triggers for 1M entries
        with conn.cursor() as cur, cur.copy("COPY trade_proposals (id, user_id, profile_id, market, side, amount_eur,"
                                            " confidence, source, status, expires_at, decided_at, decided_by)"
                                            " FROM STDIN") as copy:
            for user_id, profile_id, market, proposal, _, _ in placed:
                copy.write_row((proposal, user_id, profile_id, market, "buy", "12", 75, "manual", "EXECUTED",
                                "2100-01-01T00:00:00Z", "2000-01-01T00:00:00Z", "user"))
        execution_ids = {coid: uuid.uuid4() for *_, coid, _ in placed}
        with conn.cursor() as cur, cur.copy("COPY executions (id, user_id, profile_id, proposal_id, market, side,"
                                            " state, client_order_id, amount_eur, reserved_eur, exchange_order_id,"
                                            " submit_ts) FROM STDIN") as copy:
            for user_id, profile_id, market, proposal, coid, order_id in placed:
                copy.write_row((execution_ids[coid], user_id, profile_id, proposal, market, "buy", "SUBMITTED", coid,
                                "12", "12", order_id, "2000-01-01T00:00:00Z"))
        with conn.cursor() as cur, cur.copy("COPY exchange_orders (id, user_id, profile_id, execution_id,"
                                            " exchange_order_id, client_order_id, market, side, order_type, status,"
                                            " amount) FROM STDIN") as copy:
            for user_id, profile_id, market, _, coid, order_id in placed:
                copy.write_row((uuid.uuid4(), user_id, profile_id, execution_ids[coid], order_id, coid, market, "buy",
                                "limit", "new", str(ORDERS[market][1])))
        with conn.cursor() as cur, cur.copy("COPY ledger_entries (user_id, profile_id, kind, reference, d_allocated,"
                                            " d_reserved_for_orders, memo) FROM STDIN") as copy:
            for user_id, profile_id in profiles:
                copy.write_row((user_id, profile_id, "ALLOCATE", f"alloc:{profile_id}:initial", "1000", "0", "{}"))
                for k in range(filler):
                    copy.write_row((user_id, profile_id, "ALLOCATE", f"alloc:{profile_id}:{k}", "0.01", "0", "{}"))
            for user_id, profile_id, _, _, coid, _ in placed:
                copy.write_row((user_id, profile_id, "RESERVE", f"reserve:{execution_ids[coid]}", "0", "12",
                                json.dumps({"execution_id": str(execution_ids[coid])})))
        conn.execute("UPDATE capital_accounts a SET allocated = s.allocated, reserved_for_orders = s.reserved"
                     " FROM (SELECT profile_id, sum(d_allocated) AS allocated, sum(d_reserved_for_orders) AS reserved"
                     " FROM ledger_entries GROUP BY profile_id) s WHERE s.profile_id = a.profile_id")
        conn.execute("SET session_replication_role = DEFAULT")
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")


def _count(env: Env, query: str) -> int:
    with psycopg.connect(env.db.admin_url) as conn:
        row = conn.execute(query).fetchone()
    return int(row[0]) if row else 0


def _start_to_ready(env: Env, label: str, timeout_s: float) -> tuple[float, dict[str, float]]:
    """Seconds from the worker's start to ``recovery done``, and to each loop's first heartbeat (those that beat
    within ``timeout_s``)."""
    log_path = env.tmp / f"restart-{label}.log"
    with psycopg.connect(env.db.admin_url, autocommit=True) as conn:
        conn.execute("DELETE FROM loop_heartbeats")
    variables = processes.env_for(env.db, env.sim)
    ready: float | None = None
    beats: dict[str, float] = {}
    with log_path.open("wb") as log:
        started = time.monotonic()
        proc = subprocess.Popen([*processes.CLI, "worker", "--roles", ROLES], env=variables,
                                stdout=subprocess.DEVNULL, stderr=log)
        try:
            while time.monotonic() - started < timeout_s and len(beats) < len(LOOPS):
                time.sleep(0.05)
                now = time.monotonic() - started
                if ready is None and b"recovery done" in log_path.read_bytes():
                    ready = now
                with psycopg.connect(env.db.admin_url) as conn:
                    rows = conn.execute("SELECT loop_name FROM loop_heartbeats WHERE last_success_at IS NOT NULL"
                                        ).fetchall()
                beats |= {r[0]: now for r in rows if r[0] not in beats}
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    if ready is None:
        raise RuntimeError(f"no 'recovery done' within {timeout_s} s: see {log_path}")
    return ready, beats


def _beats(beats: dict[str, float], timeout_s: float) -> str:
    return ", ".join(f"{loop} {beats[loop]:.1f} s" if loop in beats else f"{loop} not within {timeout_s:.0f} s"
                     for loop in LOOPS)


async def run(env: Env, *, quick: bool) -> list[Figure]:
    users, entries = (5, 2_000) if quick else (USERS, ENTRIES)
    base_ready, base_beats = _start_to_ready(env, "empty", 60)
    env.progress(f"restart: empty database ready in {base_ready:.2f} s; setting up {users} accounts")
    bulk = make_tenants(env, users=users, profiles_per_user=PROFILES_PER_USER, interval_s=300, trade=True,
                        due_now=False)
    placed = _place_orders(env, bulk)
    _write_rows(env, bulk, placed, entries)
    n_entries = _count(env, "SELECT count(*) FROM ledger_entries")
    env.progress(f"restart: {len(placed)} open orders, {n_entries} ledger entries; starting the worker")
    ready, beats = _start_to_ready(env, "loaded", LOADED_TIMEOUT_S)
    open_now = _count(env, "SELECT count(*) FROM executions WHERE state = 'SUBMITTED'")
    paused = _count(env, "SELECT count(*) FROM profile_policies WHERE NOT trading_enabled")
    executor = beats.get("executor", float("inf"))
    return [
        Figure(NAME, f"start to 'recovery done' ({len(placed)} open orders, {n_entries} entries)", ready, "s",
               baseline=f"empty database {base_ready:.2f} s", ratio=ready / base_ready, target="<= 10 s",
               met=ready <= 10),
        Figure(NAME, f"start to the executor's first heartbeat (loops: {_beats(beats, LOADED_TIMEOUT_S)})",
               executor, "s", baseline=f"empty database: {_beats(base_beats, 60)}",
               ratio=executor / base_beats.get("executor", float("inf"))),
        Figure(NAME, "open orders still followed (SUBMITTED) after the restart", open_now, "orders",
               baseline=f"{len(placed)} before", target="none lost", met=open_now == len(placed)),
        Figure(NAME, "profiles paused by the ledger check (every account adds up)", paused, "profiles",
               target="0", met=paused == 0),
    ]


if __name__ == "__main__":
    if len(sys.argv) >= 3:
        configure(int(sys.argv[1]), int(sys.argv[2]))
    run_alone(lambda env: run(env, quick="--quick" in sys.argv))
