"""The composition root: everything a process runs is wired from settings here — the exchange clients per
user, the pass of each worker role, the HTTP app. ``worker``, ``up``, ``recovery`` (through what it is handed)
and the CLI take their pieces from this module and build none themselves."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID

from fastapi import FastAPI

from autoinvest.accounts.vault import load_credential
from autoinvest.api.app import create_app
from autoinvest.config import Settings
from autoinvest.db import urls
from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.domain.states import CredentialPurpose
from autoinvest.errors import InputError
from autoinvest.exchange.base import MarketData, Trading
from autoinvest.exchange.readonly import market_data
from autoinvest.exchange.trade import trading
from autoinvest.execution import loops
from autoinvest.execution.resolve import ResolveSettings
from autoinvest.execution.service import ClientsFor, UserClients
from autoinvest.execution.submit import SubmitSettings
from autoinvest.reconcile.service import RECONCILE_INTERVAL_S, reconcile_all

Pass = Callable[[AppConnection], Awaitable[int]]
#: The NOTIFY channel on which an approved proposal wakes the executor (a trigger of the schema sends it).
APPROVED_CHANNEL = "autoinvest_approved"

# Orders must fail fast rather than hang: an unknown outcome is resolved by lookup anyway.
ORDER_TIMEOUT_MS = 10_000


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def submit_settings(settings: Settings) -> SubmitSettings:
    return SubmitSettings(operator_id=settings.operator_id, access_window_ms=settings.access_window_ms)


def resolve_settings(settings: Settings) -> ResolveSettings:
    return ResolveSettings(worker_id=worker_id(), access_window_ms=settings.access_window_ms,
                           clock_skew_ms=settings.clock_skew_ms)


def executor_clients(settings: Settings) -> ClientsFor:
    """Clients per user from the vault: the only place a trade key is decrypted (executor processes only)."""

    async def clients_for(conn: AppConnection, user_id: UUID) -> UserClients:
        async with user_tx(conn, user_id):
            readonly = await load_credential(conn, user_id, CredentialPurpose.READONLY, settings)
            trade = await load_credential(conn, user_id, CredentialPurpose.TRADE, settings)
        return UserClients(reader=market_data(readonly),
                           trader=trading(trade, timeout_ms=ORDER_TIMEOUT_MS,
                                          access_window_ms=settings.access_window_ms))

    return clients_for


async def lookup_for(conn: AppConnection, user_id: UUID, settings: Settings) -> Trading:
    """The user's trade client, for looking orders up only (resolver, start-up recovery): an unknown outcome
    is decided with the key that placed the order, never with a read-only key that may reach another account."""
    async with user_tx(conn, user_id):
        trade = await load_credential(conn, user_id, CredentialPurpose.TRADE, settings)
    return trading(trade, timeout_ms=ORDER_TIMEOUT_MS, access_window_ms=settings.access_window_ms)


async def reader_for(conn: AppConnection, user_id: UUID, settings: Settings) -> MarketData:
    """The user's read-only client (resolver, monitor, reconciler, scanner)."""
    async with user_tx(conn, user_id):
        readonly = await load_credential(conn, user_id, CredentialPurpose.READONLY, settings)
    return market_data(readonly)


def loop_settings(settings: Settings) -> loops.LoopSettings:
    return loops.LoopSettings(submit=submit_settings(settings), resolve=resolve_settings(settings),
                              resolver_grace_s=settings.resolver_grace_s)


@dataclass(frozen=True)
class Context:
    """What a role needs to build its pass."""

    settings: Settings
    loop_settings: loops.LoopSettings

    async def reader_for(self, conn: AppConnection, user_id: UUID) -> MarketData:
        return await reader_for(conn, user_id, self.settings)

    async def lookup_for(self, conn: AppConnection, user_id: UUID) -> Trading:
        return await lookup_for(conn, user_id, self.settings)


def _executor(ctx: Context) -> Pass:
    clients_for = executor_clients(ctx.settings)  # the only role that decrypts trade keys

    async def one_pass(conn: AppConnection) -> int:
        return await loops.executor_pass(conn, clients_for=clients_for, settings=ctx.loop_settings)

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
    last = [-RECONCILE_INTERVAL_S]  # monotonic time of the last pass; the loop polls faster than we reconcile

    async def one_pass(conn: AppConnection) -> int:
        if time.monotonic() - last[0] < RECONCILE_INTERVAL_S:
            return 0
        last[0] = time.monotonic()
        return len((await reconcile_all(conn, ctx.reader_for)).accounts)

    return one_pass


def _scanner(ctx: Context) -> Pass:
    """Claims due scan jobs (lease + fencing token) and runs them with the read-only client only."""
    from autoinvest.scanner import service

    return service.scanner_pass(ctx.settings, worker=worker_id(), app_url=urls.app_url(ctx.settings),
                                reader_for=ctx.reader_for)


def _scheduler(ctx: Context) -> Pass:
    """Housekeeping of no particular job: expires overdue proposals, refreshes stale market metadata."""
    from autoinvest.scheduler import housekeeping

    return housekeeping.housekeeping_pass(ctx.reader_for)


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


def role_passes(settings: Settings, roles: tuple[str, ...]) -> list[tuple[str, Pass, str | None]]:
    """Each role's pass and wake channel; the trade key is loaded only for the executor role."""
    ctx = Context(settings, loop_settings(settings))
    return [(role, factory(ctx), channel) for role in roles for factory, channel in [ROLE_FACTORIES[role]]]


def http_app(settings: Settings, *, roles: tuple[str, ...], poll_s: float) -> FastAPI:
    """The process's HTTP app (/metrics, /internal/health) for the loops it runs."""
    return create_app(app_url=urls.app_url(settings), exchange_url=settings.exchange_url, loops=roles,
                      stale_after_s=max(30.0, 10 * poll_s))
