"""Approve → order at the exchange, with ONE executor worker process below its capacity.

One ``autoinvest worker --roles executor`` process runs (past its start-up and first pass). Proposals are made
PENDING beforehand, over profiles whose policy lets everything pass; the operator approves them one every
``INTERVAL_S`` as ``autoinvest proposals approve`` does (``accounts.proposals.approve_proposal`` in the owner's
transaction, on a connection of the operator's role). Latency: the approve's commit (this process's wall clock,
taken when the commit returns) → the order's ``created`` timestamp at the simulator (its own clock, which runs
at real time; the offset between the two clocks is measured once and subtracted). The baseline is one bare
order (``bench._orders.Bare``) measured in the same run. Targets: p50 <= 30 ms, p99 <= 150 ms."""

from __future__ import annotations

import asyncio
import time

from autoinvest.accounts import proposals as operator_proposals
from autoinvest.db.ids import owner_of
from autoinvest.db.tx import connect, user_tx
from autoinvest.execution.client_order_id import client_order_id
from bench._orders import Bare, order_created_ms, sim_offset_ms, start_executors, stop_all, tenants
from bench._suite import Env, Figure, percentile
from tests.support.proposals import make_proposal
from tests.support.trading import settings_for

NAME = "approve-to-order"
INTERVAL_S = 0.1
TARGETS_MS = {50: 30.0, 99: 150.0}
WAIT_S = 600  # today's executor is slower than the offered load: the queue drains after the last approval


async def run(env: Env, *, quick: bool) -> list[Figure]:
    n = 5 if quick else 100
    settings = settings_for(env.sim, env.tmp / NAME)
    conn = await connect(env.db.app_url)
    operator = await connect(env.db.role_url("operator"))
    bare = await Bare.open(env)
    workers = []
    try:
        env.progress(f"{NAME}: {n} pending proposals")
        pairs = await tenants(conn, env, settings, profiles_needed=10, profiles_per_tenant=5)
        pending = [(t.user_id, await make_proposal(conn, t.user_id, profile, status="PENDING"))
                   for t, profile in (pairs[i % len(pairs)] for i in range(n))]
        bare_times = await bare.orders(max(n, 50))
        workers = await start_executors(env, 1, NAME)
        env.progress(f"{NAME}: approving one every {INTERVAL_S * 1000:.0f} ms")
        offset_ms = sim_offset_ms(env)
        approved_ms: dict[str, float] = {}
        for user_id, proposal in pending:
            next_at = time.monotonic() + INTERVAL_S
            owner = await owner_of(operator, "proposal", proposal)
            async with user_tx(operator, owner):
                await operator_proposals.approve_proposal(operator, proposal, actor="bench")
            approved_ms[str(client_order_id(user_id, proposal))] = time.time() * 1000 + offset_ms
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        env.progress(f"{NAME}: waiting for {n} orders at the exchange")
        deadline = time.monotonic() + WAIT_S
        while len(created := order_created_ms(env, set(approved_ms))) < n:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{NAME}: {len(created)} of {n} orders at the exchange after {WAIT_S} s")
            await asyncio.sleep(0.5)
    finally:
        stop_all(workers)
        await bare.close()
        await operator.close()
        await conn.close()
    latencies = [created[coid] - approved_ms[coid] for coid in approved_ms]
    bare_p50 = percentile(bare_times, 50) * 1000
    return [Figure(NAME, f"approve -> order p{p}", percentile(latencies, p), "ms",
                   baseline=f"bare order p50 {bare_p50:.1f} ms", ratio=percentile(latencies, p) / bare_p50,
                   target=f"<= {target:g} ms", met=percentile(latencies, p) <= target)
            for p, target in TARGETS_MS.items()]
