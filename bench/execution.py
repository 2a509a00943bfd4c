"""One hardened execution vs the bare INSERT + POST + UPDATE, in the same run.

Hardened: ``autoinvest.execution.service.execute`` with the clients of ``runtime.executor_clients(settings)`` (keys
from the vault, verified once before timing: the executor's real path), one approved 10 EUR market buy per call,
in sequence on one connection, round robin over profiles whose policy lets everything pass. Bare
(``bench._orders.Bare``): the same order through ``autoinvest.exchange.trade.trading(...)`` built once, so one HTTP
round trip on a warm connection, between an INSERT and an UPDATE of a row of its own. Target: hardened / bare at
p50 <= 3x (the floor is about 1.6x: two exchange calls and four short transactions against one call and two
statements)."""

from __future__ import annotations

import time

from autoinvest import runtime
from autoinvest.db.tx import connect
from autoinvest.execution.service import ExecutionOutcome, execute
from bench._orders import Bare, tenants
from bench._suite import Env, Figure, percentile
from tests.support.proposals import make_proposal
from tests.support.trading import settings_for

NAME = "execution"
TARGET_P50 = 3.0


async def run(env: Env, *, quick: bool) -> list[Figure]:
    n = 5 if quick else 200
    settings = settings_for(env.sim, env.tmp / NAME)
    clients_for = runtime.executor_clients(settings)
    submit = runtime.submit_settings(settings)
    conn = await connect(env.db.app_url)
    bare = await Bare.open(env)
    try:
        env.progress(f"{NAME}: tenants and {n} approved proposals")
        pairs = await tenants(conn, env, settings, profiles_needed=max(1, n // 50), profiles_per_tenant=1)
        proposals = [await make_proposal(conn, t.user_id, profile) for t, profile in
                     (pairs[i % len(pairs)] for i in range(n + len(pairs)))]
        for warm_up in proposals[:len(pairs)]:  # each tenant's first call is not timed (as the bare one's)
            await execute(conn, warm_up, clients_for=clients_for, settings=submit)
        env.progress(f"{NAME}: {n} hardened executions")
        hardened = []
        for proposal in proposals[len(pairs):]:
            started = time.perf_counter()
            result = await execute(conn, proposal, clients_for=clients_for, settings=submit)
            hardened.append(time.perf_counter() - started)
            if result.outcome is not ExecutionOutcome.SUBMITTED:
                raise RuntimeError(f"a benchmark execution did not submit: {result}")
        env.progress(f"{NAME}: {n} bare orders")
        bare_times = await bare.orders(n)
    finally:
        await bare.close()
        await conn.close()
    figures = []  # the ratio column is hardened / bare at the same percentile
    for p in (50, 99):
        h, b = percentile(hardened, p) * 1000, percentile(bare_times, p) * 1000
        figures.append(Figure(NAME, f"hardened p{p}", h, "ms", baseline=f"bare p{p} {b:.1f} ms", ratio=h / b,
                              target=f"ratio <= {TARGET_P50:g}x" if p == 50 else "",
                              met=h / b <= TARGET_P50 if p == 50 else None))
    return figures
