"""Throughput of 1 and of 4 executor worker processes, against bare orders in the same run.

Each round starts its executors (``autoinvest worker --roles executor``) and waits until every one is past
start-up and its first pass, then commits K approved proposals in ONE transaction (one per profile, over many
profiles and tenants, so that neither the per-profile serialisation nor a key's rate limit is the bottleneck):
orders/s = K / (commit → the last of the K orders' ``created`` at the simulator, on the simulator's clock less the
measured offset). Set-up writes the proposals in SQL; everything measured runs in the real processes.

Wasted calls: every call of ``execute()`` in a worker logs "executed" (or "execute failed" when it raised; both
in the worker's JSON log), whatever its outcome. Calls − orders placed are the calls that did nothing new
(``already_claimed`` or ``waiting``), given as % of orders. Bare orders/s: sequential bare orders
(``bench._orders.Bare``), K / their total time. The ratio of the wasted-calls row is calls per order.
Targets: 4 executors >= 3.5x one; wasted < 5 % of orders.

CPU: the whole machine's busy time (``/proc/stat``, every process: executors, PostgreSQL, the simulator) from the
commit to the last order, per order. ``cores / CPU per order`` is the most any number of executors can reach
on this machine: once one executor no longer waits (issue 13), 4 executors scale only up to that ceiling."""

from __future__ import annotations

import asyncio
import os
import time
import uuid

from autoinvest.db.tx import AppConnection, connect, user_tx
from autoinvest.execution.client_order_id import client_order_id
from bench._orders import ORDER_EUR, Bare, Worker, order_created_ms, sim_offset_ms, start_executors, stop_all, tenants
from bench._suite import Env, Figure
from tests.support.trading import TradingTenant, settings_for

NAME = "throughput"
TARGET_SCALING = 3.5
TARGET_WASTED_PCT = 5.0
WAIT_S = 900


async def run(env: Env, *, quick: bool) -> list[Figure]:
    k = 4 if quick else 150
    settings = settings_for(env.sim, env.tmp / NAME)
    conn = await connect(env.db.app_url)
    bare = await Bare.open(env)
    try:
        env.progress(f"{NAME}: {2 * k} profiles")
        pairs = await tenants(conn, env, settings, profiles_needed=2 * k, profiles_per_tenant=10)
        rates, wasted, cpu = {}, {}, {}
        for n, round_pairs in ((1, pairs[:k]), (4, pairs[k:])):
            rates[n], wasted[n], cpu[n] = await _round(env, conn, n, round_pairs)
        env.progress(f"{NAME}: {k} bare orders")
        bare_s = sum(await bare.orders(k))
    finally:
        await bare.close()
        await conn.close()
    bare_rate = k / bare_s
    baseline = f"bare {bare_rate:.0f} orders/s"
    scaling = rates[4] / rates[1]
    wasted_pct = 100 * wasted[4] / k
    cores = os.cpu_count() or 1
    ceiling = cores / (cpu[1] / k)
    return [
        Figure(NAME, "1 executor", rates[1], "orders/s", baseline=baseline, ratio=rates[1] / bare_rate),
        Figure(NAME, "4 executors", rates[4], "orders/s", baseline=baseline, ratio=rates[4] / bare_rate),
        Figure(NAME, "4 executors / 1 executor", scaling, "x", baseline=f"1 executor {rates[1]:.1f} orders/s",
               ratio=scaling, target=f">= {TARGET_SCALING:g}x", met=scaling >= TARGET_SCALING),
        Figure(NAME, "wasted execute calls, 4 executors", wasted_pct, "% of orders",
               baseline=f"{wasted[4] + k} calls for {k} orders", ratio=(wasted[4] + k) / k,
               target=f"< {TARGET_WASTED_PCT:g} %",
               met=wasted_pct < TARGET_WASTED_PCT),
        Figure(NAME, "machine CPU per order, 1 executor", 1000 * cpu[1] / k, "ms",
               baseline=f"{cores} cores: ceiling {ceiling:.0f} orders/s"),
        Figure(NAME, "4 executors / the CPU ceiling", rates[4] / ceiling, "x",
               baseline=f"ceiling {ceiling:.0f} orders/s", ratio=rates[4] / ceiling),
    ]


async def _round(env: Env, conn: AppConnection, n: int, pairs: list[tuple[TradingTenant, uuid.UUID]]
                 ) -> tuple[float, int, float]:
    """Orders/s of ``n`` executors on ``len(pairs)`` proposals approved at once, their wasted calls, and the
    machine's busy CPU seconds meanwhile."""
    workers: list[Worker] = []
    try:
        workers = await start_executors(env, n, f"{NAME}-{n}")
        env.progress(f"{NAME}: {len(pairs)} approved proposals, {n} executor(s)")
        offset_ms = sim_offset_ms(env)
        busy_at_start = _busy_s()
        coids = await _approve_all(conn, pairs)
        committed_ms = time.time() * 1000 + offset_ms
        deadline = time.monotonic() + WAIT_S
        while len(created := order_created_ms(env, coids)) < len(coids):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{NAME}: {len(created)} of {len(coids)} orders after {WAIT_S} s")
            await asyncio.sleep(0.2)
        busy = _busy_s() - busy_at_start
        await asyncio.sleep(1.5)  # a pass in flight finishes (its calls are counted) before the workers stop
    finally:
        stop_all(workers)
    calls = sum(w.calls() for w in workers)
    if calls < len(coids):  # every order came from a call: the count no longer sees the calls
        raise RuntimeError(f"{NAME}: {calls} execute calls logged for {len(coids)} orders; is the \"executed\""
                           " log line of autoinvest/execution/loops.py still there?")
    elapsed_s = (max(created.values()) - committed_ms) / 1000
    return len(coids) / elapsed_s, calls - len(coids), busy


def _busy_s() -> float:
    """CPU seconds every process of the machine has spent busy since boot (all but idle and iowait)."""
    fields = [int(x) for x in open("/proc/stat").readline().split()[1:]]  # noqa: SIM115 (one line, read at once)
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


async def _approve_all(conn: AppConnection, pairs: list[tuple[TradingTenant, uuid.UUID]]) -> set[str]:
    """One approved proposal per profile, committed in one transaction (the executors are woken once)."""
    coids = set()
    async with conn.transaction():
        for tenant, profile in pairs:
            proposal = uuid.uuid4()
            async with user_tx(conn, tenant.user_id):
                await conn.execute(
                    "INSERT INTO trade_proposals (id, user_id, profile_id, market, side, amount_eur, confidence,"
                    " source, status, expires_at) VALUES (%s, %s, %s, 'BTC-EUR', 'buy', %s, 75, 'manual',"
                    " 'APPROVED', now() + interval '1 hour')", (proposal, tenant.user_id, profile, ORDER_EUR))
            coids.add(str(client_order_id(tenant.user_id, proposal)))
    return coids
