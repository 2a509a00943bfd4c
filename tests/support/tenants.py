"""Make users and profiles directly in SQL, as the application role under RLS."""

from __future__ import annotations

import uuid
from decimal import Decimal

from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.ledger import entries as ledger
from autoinvest.ledger import repo as ledger_repo


async def make_user(conn: AppConnection) -> uuid.UUID:
    user_id = uuid.uuid4()
    async with user_tx(conn, user_id):
        await conn.execute("INSERT INTO users (id, email) VALUES (%s, %s)",
                           (user_id, f"{user_id.hex[:10]}@example.org"))
    return user_id


async def make_profile(conn: AppConnection, user_id: uuid.UUID, *, allocated: Decimal = Decimal("1000"),
                       allowlist: tuple[str, ...] = ("BTC-EUR",)) -> uuid.UUID:
    profile_id = uuid.uuid4()
    async with user_tx(conn, user_id):
        await conn.execute("INSERT INTO profiles (id, user_id, name) VALUES (%s, %s, %s)",
                           (profile_id, user_id, f"p-{profile_id.hex[:8]}"))
        await conn.execute("INSERT INTO profile_policies (profile_id, user_id, allowlist) VALUES (%s, %s, %s)",
                           (profile_id, user_id, list(allowlist)))
        await ledger_repo.open_account(conn, profile_id, user_id)
        if allocated:
            await ledger_repo.post(conn, profile_id, user_id, ledger.allocate(profile_id, "initial", allocated))
    return profile_id
