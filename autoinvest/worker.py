"""`autoinvest worker --roles …`: run any subset of the loops in one process until told to stop: start-up
recovery, then each role's pass (built in ``runtime``) in a loop that reconnects, heartbeats and is woken by
NOTIFY where the role has a channel."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from uuid import UUID

from autoinvest import recovery, runtime
from autoinvest.config import Settings
from autoinvest.db import tx, urls
from autoinvest.db.tx import AppConnection
from autoinvest.errors import AutoInvestError
from autoinvest.exchange.base import MarketData, Trading
from autoinvest.exchange.pool import SessionPool
from autoinvest.observability import metrics
from autoinvest.runtime import Pass

log = logging.getLogger(__name__)
STOP_CHECK_S = 0.5


async def heartbeat(conn: AppConnection, loop_name: str, error: str | None = None) -> None:
    """Record that a loop finished a pass (health reads the age of the last success)."""
    async with tx.system_tx(conn):
        if error is None:
            await conn.execute(
                "INSERT INTO loop_heartbeats (loop_name, instance) VALUES (%s, %s) ON CONFLICT (loop_name, instance)"
                " DO UPDATE SET last_success_at = now(), last_error = NULL", (loop_name, runtime.worker_id()))
        else:
            await conn.execute(
                "INSERT INTO loop_heartbeats (loop_name, instance, last_error) VALUES (%s, %s, %s)"
                " ON CONFLICT (loop_name, instance) DO UPDATE SET last_error = EXCLUDED.last_error",
                (loop_name, runtime.worker_id(), error))


async def _loop(name: str, app_url: str, one_pass: Pass, stop: asyncio.Event, poll_s: float,
                wake_channel: str | None = None, woken: deque[str] | None = None) -> None:
    conn: AppConnection | None = None
    listener: AppConnection | None = None  # LISTEN wakes the loop at once; polling is the fallback
    try:
        while not stop.is_set():
            try:
                if conn is None or tx.is_broken(conn):
                    conn = await _reopen(conn, app_url)
                if wake_channel is not None and (listener is None or tx.is_broken(listener)):
                    listener = await _reopen(listener, app_url)
                    await listener.set_autocommit(True)
                    await listener.execute(f"LISTEN {wake_channel}")
            except AutoInvestError as exc:  # the database is unreachable: try again after the poll interval
                log.warning("loop cannot reach the database", extra={"loop": name, "reason": exc.reason})
                await _wait(stop, None, poll_s, None)
                continue
            started = time.monotonic()
            await _one_pass(name, conn, one_pass)
            metrics.LOOP_PASS_SECONDS.labels(name).observe(time.monotonic() - started)
            try:
                await _wait(stop, listener, poll_s, woken)
            except Exception:
                if listener is None or not tx.is_broken(listener):
                    raise
    finally:
        for c in (conn, listener):
            if c is not None:
                with contextlib.suppress(Exception):
                    await c.close()


async def _reopen(conn: AppConnection | None, app_url: str) -> AppConnection:
    if conn is not None:
        with contextlib.suppress(Exception):
            await conn.close()
    return await tx.connect(app_url)


async def _one_pass(name: str, conn: AppConnection, one_pass: Pass) -> None:
    """One pass and its heartbeat. A lost connection (a server restart, a session PostgreSQL ended) is
    reconnected by the caller; any other unexpected error is a bug and stops the worker loudly."""
    try:
        try:
            await one_pass(conn)
            await heartbeat(conn, name)
            metrics.LOOP_PASSES.labels(name, "ok").inc()
            metrics.LOOP_LAST_SUCCESS.labels(name).set_to_current_time()
        except AutoInvestError as exc:
            log.warning("loop pass failed", extra={"loop": name, "reason": exc.reason})
            metrics.LOOP_PASSES.labels(name, "error").inc()
            await heartbeat(conn, name, error=exc.reason)
    except Exception:
        if not tx.is_broken(conn):
            raise
        log.warning("loop lost its database connection; reconnecting", extra={"loop": name})
        metrics.LOOP_PASSES.labels(name, "error").inc()


async def _wait(stop: asyncio.Event, listener: AppConnection | None, poll_s: float,
                woken: deque[str] | None) -> None:
    """Until a wake-up (its payload left in ``woken`` for the pass) or the poll interval. A pass follows every
    (re)connection of the listener, so nothing approved while no one listened waits for a poll."""
    if listener is None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), poll_s)
        return
    deadline = time.monotonic() + poll_s
    while not stop.is_set() and (remaining := deadline - time.monotonic()) > 0:
        # In slices, so that a stop is seen within one even when the poll interval is long.
        async for notify in listener.notifies(timeout=min(remaining, STOP_CHECK_S), stop_after=1):
            if woken is not None:
                woken.append(notify.payload)
            return


async def run(settings: Settings, roles: tuple[str, ...], stop: asyncio.Event, *, poll_s: float = 1.0) -> None:
    """Run the given roles until ``stop`` is set. Trade keys are loaded by the executor (to send) and by the
    resolver and start-up recovery (to look orders up with the key that placed them), never by the others."""
    # Each loop connects as its component's role, and the process holds only the URLs of its loops' roles (a
    # scanner-only worker never the trader's): every one is checked before anything runs.
    components = {role: urls.LOOP_COMPONENT[role] for role in roles}
    for component in sorted(set(components.values())):
        await tx.assert_safe_url(urls.role_url(settings, component), component)

    pool = SessionPool()  # the process's exchange sessions, kept across passes and closed at the end
    try:
        await _run(settings, roles, stop, poll_s, components, pool)
    finally:
        await pool.close()


async def _run(settings: Settings, roles: tuple[str, ...], stop: asyncio.Event, poll_s: float,
               components: dict[str, urls.Component], pool: SessionPool) -> None:
    async def reader_for(c: AppConnection, user_id: UUID) -> MarketData:
        return await runtime.reader_for(c, user_id, settings, pool)

    async def lookup_for(c: AppConnection, user_id: UUID) -> Trading:
        return await runtime.lookup_for(c, user_id, settings, pool)

    # Start-up recovery before any loop (bounded when the exchange is down): see autoinvest/recovery.py. It is
    # trader work: a process without a trader loop leaves it to those that have one. Only a process that runs
    # the executor or resolver holds the trade vault key the resolver decides with.
    if "trader" in components.values():
        trades = bool({"executor", "resolver"} & set(roles))
        await recovery.recover(urls.role_url(settings, "trader"), reader_for=reader_for,
                               lookup_for=lookup_for if trades else None,
                               loop_settings=runtime.loop_settings(settings),
                               ack_above_eur=settings.reconcile_ack_above_eur)
    passes = runtime.role_passes(settings, roles, pool)
    await asyncio.gather(*(_loop(role, urls.role_url(settings, components[role]), one_pass, stop, poll_s, channel,
                                 woken) for role, one_pass, channel, woken in passes))
