"""What the execution benchmarks share: the bare baseline, tenants that may trade on many profiles, executor
worker processes, and the simulator's own order timestamps."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from autoinvest.accounts import profiles, vault
from autoinvest.config import Settings
from autoinvest.db.tx import AppConnection, connect, system_tx, user_tx
from autoinvest.domain.states import CredentialPurpose, Side
from autoinvest.exchange.base import OrderRequest, Trading
from autoinvest.exchange.credentials import Credential
from autoinvest.exchange.trade import trading
from bench._suite import Env
from tests.support import processes
from tests.support.trading import TradingTenant, make_trading_tenant

#: Every policy lets every proposal pass: no cooldown, no flip guard, caps far above any benchmark's volume.
OPEN_POLICY: dict[str, Any] = {"cooldown_minutes": 0, "anti_flip_minutes": 0, "max_trades_per_day": 10_000,
                                  "max_trades_per_hour": 10_000, "min_confidence": 0}
ORDER_EUR = Decimal("10")
#: Orders per key per minute stay far below the simulator's 1000 weight per key per minute.
ORDERS_PER_KEY = 100


class Bare:
    """The floor an execution is compared to: INSERT a row, ONE signed market-order POST, UPDATE the row.

    The POST goes through ``autoinvest.exchange.trade.trading(...)``, built once, so that every order after the
    first is one HTTP round trip on a warm connection; the two statements run in autocommit (two short
    transactions) on one connection of the admin role, on a table of their own."""

    def __init__(self, conn: AppConnection, client: Trading) -> None:
        self._conn = conn
        self._client = client

    @classmethod
    async def open(cls, env: Env) -> Bare:
        conn = await connect(env.db.admin_url)
        await conn.set_autocommit(True)
        await conn.execute("CREATE TABLE IF NOT EXISTS bench_bare_orders"
                           " (id uuid PRIMARY KEY, state text NOT NULL, exchange_order_id text)")
        key = env.sim.admin.create_account({"EUR": "1000000"}, ["view", "trade"])
        client = trading(Credential(api_key=key.api_key, api_secret=key.api_secret, purpose=CredentialPurpose.TRADE,
                                    base_url=env.sim.url))
        bare = cls(conn, client)
        await bare.order()  # the connection (TCP, the client's set-up) is warm before anything is timed
        return bare

    async def order(self) -> float:
        """One bare order; its duration in seconds."""
        order_id = uuid.uuid4()
        started = time.perf_counter()
        await self._conn.execute("INSERT INTO bench_bare_orders (id, state) VALUES (%s, 'SUBMITTING')", (order_id,))
        report = await self._client.place_order(OrderRequest.market_order(
            market="BTC-EUR", side=Side.BUY, client_order_id=str(order_id), operator_id=1, amount_quote=ORDER_EUR))
        await self._conn.execute("UPDATE bench_bare_orders SET state = 'SUBMITTED', exchange_order_id = %s"
                                 " WHERE id = %s", (report.order_id, order_id))
        return time.perf_counter() - started

    async def orders(self, n: int) -> list[float]:
        return [await self.order() for _ in range(n)]

    async def close(self) -> None:
        await self._client.close()
        await self._conn.close()


async def tenants(conn: AppConnection, env: Env, settings: Settings, *, profiles_needed: int,
                  profiles_per_tenant: int) -> list[tuple[TradingTenant, uuid.UUID]]:
    """(tenant, profile) pairs: tenants with verified keys on the simulator, each with up to
    ``profiles_per_tenant`` profiles whose policy lets everything pass."""
    pairs: list[tuple[TradingTenant, uuid.UUID]] = []
    while len(pairs) < profiles_needed:
        tenant = await make_trading_tenant(conn, env.sim, settings, eur=Decimal("1000000"),
                                           allocate=Decimal("100000"), **OPEN_POLICY)
        await vault.verified_pair(conn, tenant.user_id, settings)  # verified once, as in production, untimed
        pairs.append((tenant, tenant.profile_id))
        for i in range(1, min(profiles_per_tenant, profiles_needed - len(pairs) + 1)):
            spec = profiles.profile_spec(f"bench-{i}", Decimal("1000"), ("BTC-EUR", "ETH-EUR"),
                                         overrides=OPEN_POLICY)
            async with user_tx(conn, tenant.user_id):
                profile_id = await profiles.create_profile(conn, tenant.user_id, spec, actor="bench")
            pairs.append((tenant, profile_id))
    return pairs


def sim_offset_ms(env: Env) -> float:
    """Simulator time minus this process's wall clock, in ms (the simulator stamps orders with its own clock)."""
    before = time.time() * 1000
    sim_now = env.sim.admin.advance(0)  # advancing by 0 only reads the clock
    after = time.time() * 1000
    return sim_now - (before + after) / 2


def order_created_ms(env: Env, client_order_ids: set[str]) -> dict[str, int]:
    """clientOrderId -> the simulator's ``created`` timestamp (ms, its clock) of the orders that exist."""
    return {o["clientOrderId"]: int(o["created"]) for o in env.sim.admin.orders()
            if o["clientOrderId"] in client_order_ids}


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log: Path

    def calls(self) -> int:
        """How many times this worker called ``execute()``: each call logs "executed", or "execute failed" when
        it raised (autoinvest/execution/loops.py)."""
        count = 0
        for line in self.log.read_text().splitlines():
            try:
                event = json.loads(line).get("event")
            except (json.JSONDecodeError, AttributeError):
                continue
            count += event in ("executed", "execute failed")
        return count


async def start_executors(env: Env, n: int, label: str) -> list[Worker]:
    """``n`` processes of ``autoinvest worker --roles executor``, each past start-up recovery and its first pass
    (its heartbeat is in the database) before this returns; JSON logs to a file each."""
    workers = [_spawn(env, env.tmp / f"{label}-executor-{i}.log") for i in range(n)]
    conn = await connect(env.db.app_url)
    try:
        deadline = time.monotonic() + 120
        instances = {f"{socket.gethostname()}:{w.process.pid}" for w in workers}
        while True:
            for w in workers:
                if w.process.poll() is not None:
                    raise RuntimeError(f"executor exited with {w.process.returncode}:\n{w.log.read_text()}")
            async with system_tx(conn):
                cur = await conn.execute("SELECT instance FROM loop_heartbeats WHERE loop_name = 'executor'"
                                         " AND instance = ANY(%s) AND last_success_at IS NOT NULL",
                                         (list(instances),))
                ready = {r["instance"] for r in await cur.fetchall()}
            if ready == instances:
                return workers
            if time.monotonic() > deadline:
                raise RuntimeError(f"executors not ready after 120 s: {len(ready)} of {n}")
            await asyncio.sleep(0.1)
    finally:
        await conn.close()


def _spawn(env: Env, log: Path) -> Worker:
    with log.open("wb") as err:
        proc = subprocess.Popen([*processes.CLI, "worker", "--roles", "executor"],
                                env=processes.env_for(env.db, env.sim), stdout=subprocess.DEVNULL, stderr=err)
    return Worker(proc, log)


def stop_all(workers: list[Worker]) -> None:
    """SIGTERM every worker at once (each finishes its pass and exits), then wait; kill one that lingers."""
    for w in workers:
        if w.process.poll() is None:
            w.process.send_signal(signal.SIGTERM)
    for w in workers:
        try:
            w.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            w.process.kill()
            w.process.wait(timeout=5)
