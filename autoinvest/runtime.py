"""The composition root: everything a process runs is wired from settings here — the exchange clients per
user, the pass of each worker role, the HTTP app. ``worker``, ``up``, ``recovery`` (through what it is handed)
and the CLI take their pieces from this module and build none themselves."""

from __future__ import annotations

import os
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import NamedTuple
from uuid import UUID

from fastapi import FastAPI

from autoinvest.accounts.vault import exchange_url as exchange_url_of
from autoinvest.accounts.vault import load_credential, verified_pair
from autoinvest.api.app import create_app
from autoinvest.config import Settings
from autoinvest.db import urls
from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.domain.states import CredentialPurpose
from autoinvest.errors import InputError
from autoinvest.exchange.base import MarketData, Trading
from autoinvest.exchange.credentials import Credential
from autoinvest.exchange.pool import SessionPool
from autoinvest.exchange.readonly import market_data
from autoinvest.exchange.trade import trading
from autoinvest.execution import loops
from autoinvest.execution.resolve import ResolveSettings
from autoinvest.execution.service import ClientsFor, UserClients
from autoinvest.execution.submit import SubmitSettings
from autoinvest.lifecycle import quarantine
from autoinvest.observability import clock_skew
from autoinvest.observability.clock_skew import ClockFence
from autoinvest.reconcile import ledger_audit
from autoinvest.reconcile.service import LEDGER_CHECK_INTERVAL_S, RECONCILE_INTERVAL_S, reconcile_all
from autoinvest.scheduler import metadata

Pass = Callable[[AppConnection], Awaitable[int]]
#: The NOTIFY channel on which an approved proposal wakes the executor (a trigger of the schema sends it).
APPROVED_CHANNEL = "autoinvest_approved"

# Orders must fail fast rather than hang: an unknown outcome is resolved by lookup anyway.
ORDER_TIMEOUT_MS = 10_000


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def clock_fence(settings: Settings) -> ClockFence:
    return ClockFence(exchange_url=settings.exchange_url, bound_ms=settings.skew_bound_ms,
                      max_age_s=settings.clock_skew_max_age_s)


def submit_settings(settings: Settings) -> SubmitSettings:
    return SubmitSettings(operator_id=settings.operator_id, access_window_ms=settings.access_window_ms,
                          clock=clock_fence(settings))


def resolve_settings(settings: Settings) -> ResolveSettings:
    return ResolveSettings(worker_id=worker_id(), access_window_ms=settings.access_window_ms,
                           clock_skew_ms=settings.clock_skew_ms)


def executor_clients(settings: Settings, pool: SessionPool | None = None) -> ClientsFor:
    """Clients per user from the vault: the only place a trade key is decrypted (executor processes only).

    The keys are loaded and checked on every call, so a changed or rotated key (or one no longer verified) is
    used from the next order on; ``pool`` keeps the sessions built from unchanged keys (see exchange/pool.py)."""

    async def clients_for(conn: AppConnection, user_id: UUID) -> UserClients:
        # No trade key is used before the exchange vouched for it.
        readonly, trade = await verified_pair(conn, user_id, settings)
        refused = quarantine.sink(conn, user_id)
        owner = str(user_id)
        return UserClients(reader=market_data(readonly, quarantine=refused, pool=pool, owner=owner),
                           trader=trading(trade, timeout_ms=ORDER_TIMEOUT_MS,
                                          access_window_ms=settings.access_window_ms, quarantine=refused, pool=pool,
                                          owner=owner))

    return clients_for


async def lookup_for(conn: AppConnection, user_id: UUID, settings: Settings,
                     pool: SessionPool | None = None) -> Trading:
    """The user's trade client, for looking orders up only (resolver, start-up recovery): an unknown outcome
    is decided with the key that placed the order, never with a read-only key that may reach another account."""
    async with user_tx(conn, user_id):
        trade = await load_credential(conn, user_id, CredentialPurpose.TRADE, settings)
    return trading(trade, timeout_ms=ORDER_TIMEOUT_MS, access_window_ms=settings.access_window_ms, pool=pool,
                   owner=str(user_id))


async def reader_for(conn: AppConnection, user_id: UUID, settings: Settings,
                     pool: SessionPool | None = None) -> MarketData:
    """The user's read-only client (resolver, monitor, reconciler, scanner)."""
    async with user_tx(conn, user_id):
        readonly = await load_credential(conn, user_id, CredentialPurpose.READONLY, settings)
    return market_data(readonly, quarantine=quarantine.sink(conn, user_id), pool=pool, owner=str(user_id))


def public_market_data(exchange_url: str, pool: SessionPool | None = None) -> MarketData:
    """A client of the exchange's public endpoints only (the market list): no user's key is decrypted for it."""
    return market_data(Credential(api_key="public-endpoints-only", api_secret="never-signs",  # noqa: S106 (no secret)
                                  purpose=CredentialPurpose.READONLY, base_url=exchange_url),
                       pool=pool, owner=f"public {exchange_url}")


async def exchange_listing(conn: AppConnection, user_id: UUID, settings: Settings,
                           pool: SessionPool | None = None) -> dict[str, str]:
    """What the user's exchange lists (market -> status): its stored metadata while fresh, else its /markets."""
    async with user_tx(conn, user_id):
        exchange_url = await exchange_url_of(conn, user_id, settings)
    return await metadata.listing(conn, exchange_url, lambda: public_market_data(exchange_url, pool))


def loop_settings(settings: Settings) -> loops.LoopSettings:
    return loops.LoopSettings(submit=submit_settings(settings), resolve=resolve_settings(settings),
                              resolver_grace_s=settings.resolver_grace_s)


@dataclass(frozen=True)
class Context:
    """What a role needs to build its pass."""

    settings: Settings
    loop_settings: loops.LoopSettings
    pool: SessionPool | None = None  #: the process's exchange sessions (None: a private one per client)
    woken: deque[str] = field(default_factory=deque)  #: the executor's wake-up payloads not yet taken

    async def reader_for(self, conn: AppConnection, user_id: UUID) -> MarketData:
        return await reader_for(conn, user_id, self.settings, self.pool)

    async def lookup_for(self, conn: AppConnection, user_id: UUID) -> Trading:
        return await lookup_for(conn, user_id, self.settings, self.pool)


def _executor(ctx: Context) -> Pass:
    clients_for = executor_clients(ctx.settings, ctx.pool)  # the only role that decrypts trade keys
    worker = worker_id()
    fence = clock_fence(ctx.settings)

    async def one_pass(conn: AppConnection) -> int:
        await clock_skew.refresh(conn, fence)  # measured at start and kept fresh, orders or not (health, metric)
        hints = [ctx.woken.popleft() for _ in range(len(ctx.woken))]
        return await loops.executor_pass(conn, clients_for=clients_for, settings=ctx.loop_settings, worker=worker,
                                         hints=hints)

    return one_pass


def _resolver(ctx: Context) -> Pass:
    async def one_pass(conn: AppConnection) -> int:
        return await loops.resolver_pass(conn, lookup_for=ctx.lookup_for, settings=ctx.loop_settings)

    return one_pass


def _monitor(ctx: Context) -> Pass:
    async def one_pass(conn: AppConnection) -> int:
        return await loops.monitor_pass(conn, reader_for=ctx.reader_for)

    return one_pass


def _reconciler(ctx: Context) -> Pass:
    """Reconciles every account, and checks every capital account against its entries (so the ledger gauge and
    counter live in a process that serves /metrics, not only at start-up)."""
    last = [-RECONCILE_INTERVAL_S]  # monotonic time of the last pass; the loop polls faster than we reconcile
    last_ledger = [-LEDGER_CHECK_INTERVAL_S]

    async def one_pass(conn: AppConnection) -> int:
        if time.monotonic() - last_ledger[0] >= LEDGER_CHECK_INTERVAL_S:
            last_ledger[0] = time.monotonic()
            await ledger_audit.check_all(conn)
        if time.monotonic() - last[0] < RECONCILE_INTERVAL_S:
            return 0
        last[0] = time.monotonic()
        return len((await reconcile_all(conn, ctx.reader_for,
                                        ack_above_eur=ctx.settings.reconcile_ack_above_eur)).accounts)

    return one_pass


def _scanner(ctx: Context) -> Pass:
    """Claims due scan jobs (lease + fencing token) and runs them with the read-only client only."""
    from autoinvest.scanner import service

    return service.scanner_pass(ctx.settings, worker=worker_id(), app_url=urls.role_url(ctx.settings, "scanner"),
                                reader_for=ctx.reader_for)


def _scheduler(ctx: Context) -> Pass:
    """Housekeeping of no particular job: expires overdue proposals, refreshes stale market metadata."""
    from autoinvest.scheduler import housekeeping

    return housekeeping.housekeeping_pass(ctx.reader_for, ctx.settings)


# role -> (factory of its pass, the NOTIFY channel that wakes it or None)
ROLE_FACTORIES: dict[str, tuple[Callable[[Context], Pass], str | None]] = {
    "executor": (_executor, APPROVED_CHANNEL),
    "resolver": (_resolver, None),
    "monitor": (_monitor, None),
    "scanner": (_scanner, None),
    "scheduler": (_scheduler, None),
    "reconciler": (_reconciler, None),
}
ROLES = tuple(ROLE_FACTORIES)


def parse_roles(text: str) -> tuple[str, ...]:
    """Validate a comma-separated role list."""
    roles = tuple(r.strip() for r in text.split(",") if r.strip())
    unknown = sorted(set(roles) - set(ROLE_FACTORIES))
    if not roles or unknown:
        raise InputError(f"unknown role(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(ROLES)}",
                         reason="ROLE_UNKNOWN")
    return roles


class RolePass(NamedTuple):
    role: str
    one_pass: Pass
    channel: str | None  #: the NOTIFY channel that wakes it
    woken: deque[str]  #: where the loop leaves the payloads of its wake-ups for the pass


def role_passes(settings: Settings, roles: tuple[str, ...], pool: SessionPool | None = None) -> list[RolePass]:
    """Each role's pass and wake channel; the trade key is loaded only for the executor role."""
    ctx = Context(settings, loop_settings(settings), pool)
    return [RolePass(role, factory(ctx), channel, ctx.woken if channel else deque())
            for role in roles for factory, channel in [ROLE_FACTORIES[role]]]


def http_app(settings: Settings, *, roles: tuple[str, ...], poll_s: float) -> FastAPI:
    """The process's HTTP app (/metrics, /internal/health) for the loops it runs."""
    return create_app(app_url=urls.role_url(settings, "api"), exchange_url=settings.exchange_url, loops=roles,
                      stale_after_s=max(30.0, 10 * poll_s), failing_after=settings.reconcile_failing_runs,
                      clock=clock_fence(settings) if "executor" in roles else None)
