"""A user and a profile whose capital comes from an ALLOCATE entry, and reads as that user."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.ledger import entries as L
from autoinvest.ledger import repo
from tests.support.tenants import make_profile, make_user


@dataclass(frozen=True)
class Tenant:
    user_id: uuid.UUID
    profile_id: uuid.UUID


async def funded_profile(conn: AppConnection, amount: Decimal = Decimal(100)) -> Tenant:
    """A fresh user and profile with a zero account, then ``amount`` allocated through the ledger."""
    user_id = await make_user(conn)
    profile_id = await make_profile(conn, user_id, allocated=Decimal(0))
    if amount:
        async with user_tx(conn, user_id):
            assert await repo.post(conn, profile_id, user_id, L.allocate(profile_id, "initial", amount))
    return Tenant(user_id, profile_id)


async def snapshot(conn: AppConnection, t: Tenant) -> tuple[L.Account, list[L.Entry]]:
    """The materialised account and the entries, read in one transaction."""
    async with user_tx(conn, t.user_id):
        return await repo.account(conn, t.profile_id), await repo.entries(conn, t.profile_id)
