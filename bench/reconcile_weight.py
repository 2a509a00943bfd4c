"""Exchange weight spent per reconciliation cycle per profile (Bitvavo: 1000 weight per minute per key).

Each account is reconciled once through the real code (``reconcile.service.reconcile_users``, the reconciler
loop's pass) with the runtime's read-only client. Counted two ways: by our client's ``WeightBudget`` (ccxt's
weights, ``exchange/_endpoints.py``: what we budget with, e.g. ``GET /ordersOpen`` 5 per market or 100 for all)
and by the simulator's charge per key (Bitvavo's documented weights: 1 per market or 25). Baseline: one
``GET /balance`` (5 weight), the least a cycle that compares balances can cost.

Run alone: ``.venv/bin/python -m bench.reconcile_weight``.
"""

from __future__ import annotations

import asyncio
from uuid import UUID

from autoinvest import runtime
from autoinvest.db.tx import AppConnection, connect
from autoinvest.exchange.base import MarketData
from autoinvest.exchange.budget import DEFAULT_BUDGETS
from autoinvest.reconcile.service import reconcile_users
from bench._suite import Env, Figure
from bench._tenants import Bulk, make_tenants
from tests.support.trading import settings_for

NAME = "reconcile-weight"
USERS = 50
BALANCE_WEIGHT = 5


async def _per_profile(env: Env, conn: AppConnection, bulk: Bulk) -> tuple[float, float, list[str]]:
    """(our budget's weight, the simulator's charge) per profile per cycle, and any run that was not ok."""
    settings = settings_for(env.sim, env.tmp)

    async def reader_for(c: AppConnection, user_id: UUID) -> MarketData:
        return await runtime.reader_for(c, user_id, settings)

    ours = charged = 0
    bad: list[str] = []
    for u in bulk.users:
        budget = DEFAULT_BUDGETS.for_key(u.key.api_key)
        before, sim_before = budget.used(), env.sim.admin.weight(u.key.account_id)
        report = await reconcile_users(conn, reader_for, [u.user_id])
        ours += budget.used() - before
        charged += env.sim.admin.weight(u.key.account_id) - sim_before
        bad += [f"{p.profile_id}: {p.status}" for a in report.accounts for p in a.profiles if p.status != "ok"]
    return ours / bulk.profiles, charged / bulk.profiles, bad


async def run(env: Env, *, quick: bool) -> list[Figure]:
    users = 3 if quick else USERS
    figures = []
    conn = await connect(env.db.app_url)
    try:
        for per_user in (4, 1):
            bulk = make_tenants(env, users=users, profiles_per_user=per_user, interval_s=300, due_now=False)
            ours, charged, bad = await _per_profile(env, conn, bulk)
            if bad:
                raise RuntimeError(f"reconciliation runs not ok: {bad[:5]}")
            figures += [
                Figure(NAME, f"weight per profile per cycle, {per_user} profile(s) per account (our budget)", ours,
                       "weight", baseline=f"one GET /balance {BALANCE_WEIGHT}", ratio=ours / BALANCE_WEIGHT,
                       target="<= 15", met=ours <= 15),
                Figure(NAME, f"weight per profile per cycle, {per_user} profile(s) per account (simulator's charge)",
                       charged, "weight", baseline="Bitvavo's documented weights"),
            ]
    finally:
        await conn.close()
    return figures


if __name__ == "__main__":
    import sys
    import tempfile
    from pathlib import Path

    from bench._suite import started as _started

    with tempfile.TemporaryDirectory() as tmp, _started(Path(tmp)) as bench_env:
        for figure in asyncio.run(run(bench_env, quick="--quick" in sys.argv)):
            print(figure)
