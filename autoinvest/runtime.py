"""Composition root: the pieces wired from settings in one place."""

from __future__ import annotations

import os
import socket
from uuid import UUID

from autoinvest.accounts.vault import load_credential
from autoinvest.config import Settings
from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.domain.states import CredentialPurpose
from autoinvest.exchange.base import MarketData
from autoinvest.exchange.readonly import market_data
from autoinvest.exchange.trade import trading
from autoinvest.execution.resolve import ResolveSettings
from autoinvest.execution.service import ClientsFor, UserClients
from autoinvest.execution.submit import SubmitSettings

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


async def reader_for(conn: AppConnection, user_id: UUID, settings: Settings) -> MarketData:
    """The user's read-only client (resolver, monitor, reconciler, scanner)."""
    async with user_tx(conn, user_id):
        readonly = await load_credential(conn, user_id, CredentialPurpose.READONLY, settings)
    return market_data(readonly)
