"""One row in every tenant table for a fresh user: the material of the isolation tests."""

from __future__ import annotations

import uuid

from autoinvest.db.tx import AppConnection, user_tx
from tests.support.tenants import make_profile, make_user

# table -> the column that holds the owner (users is keyed by id)
TENANT_TABLES: dict[str, str] = {
    "users": "id", "profiles": "user_id", "profile_policies": "user_id", "exchange_credentials": "user_id",
    "scan_jobs": "user_id", "trade_proposals": "user_id", "executions": "user_id", "exchange_orders": "user_id",
    "fills": "user_id", "trade_history": "user_id", "positions": "user_id", "capital_accounts": "user_id",
    "ledger_entries": "user_id", "llm_usage": "user_id", "outbox_events": "user_id", "audit_log": "user_id",
    "reconciliation_runs": "user_id", "quarantined_items": "user_id",
    "unmanaged_holdings": "user_id", "reconcile_adjustments": "user_id",
}


async def make_full_tenant(conn: AppConnection) -> tuple[uuid.UUID, uuid.UUID]:
    """Create a user with a row in every tenant table; return (user_id, profile_id)."""
    user = await make_user(conn)
    profile = await make_profile(conn, user)
    names = ("cred", "job", "prop", "exec", "order", "fill", "trade", "pos", "llm", "rec")
    ids = {name: uuid.uuid4() for name in names}
    async with user_tx(conn, user):
        await conn.execute(
            "INSERT INTO exchange_credentials (id, user_id, purpose, api_key, secret_encrypted)"
            " VALUES (%s, %s, 'readonly', 'k', 'gAAAA')", (ids["cred"], user))
        await conn.execute("INSERT INTO scan_jobs (id, user_id, profile_id) VALUES (%s, %s, %s)",
                           (ids["job"], user, profile))
        await conn.execute(
            "INSERT INTO trade_proposals (id, user_id, profile_id, market, side, amount_eur, confidence, source,"
            " expires_at) VALUES (%s, %s, %s, 'BTC-EUR', 'buy', 10, 75, 'manual', now() + interval '10 minutes')",
            (ids["prop"], user, profile))
        await conn.execute(
            "INSERT INTO executions (id, user_id, profile_id, proposal_id, market, side, state, client_order_id,"
            " amount_eur) VALUES (%s, %s, %s, %s, 'BTC-EUR', 'buy', 'CLAIMED', %s, 10)",
            (ids["exec"], user, profile, ids["prop"], uuid.uuid4()))
        await conn.execute(
            "INSERT INTO exchange_orders (id, user_id, profile_id, execution_id, exchange_order_id, market, side,"
            " order_type, status) VALUES (%s, %s, %s, %s, %s, 'BTC-EUR', 'buy', 'market', 'filled')",
            (ids["order"], user, profile, ids["exec"], f"ex-{ids['order']}"))
        await conn.execute(
            "INSERT INTO fills (id, user_id, profile_id, execution_id, exchange_order_id, exchange_fill_id, market,"
            " side, amount, price, filled_at) VALUES (%s, %s, %s, %s, %s, %s, 'BTC-EUR', 'buy', 0.0002, 50000, now())",
            (ids["fill"], user, profile, ids["exec"], f"ex-{ids['order']}", f"fill-{ids['fill']}"))
        await conn.execute(
            "INSERT INTO trade_history (id, user_id, profile_id, fill_id, market, side, amount_base, price,"
            " amount_eur, executed_at) VALUES (%s, %s, %s, %s, 'BTC-EUR', 'buy', 0.0002, 50000, 10, now())",
            (ids["trade"], user, profile, ids["fill"]))
        await conn.execute(
            "INSERT INTO positions (id, user_id, profile_id, market, quantity, cost_basis_eur)"
            " VALUES (%s, %s, %s, 'BTC-EUR', 0.0002, 10)", (ids["pos"], user, profile))
        await conn.execute(
            "INSERT INTO ledger_entries (user_id, profile_id, kind, reference, d_allocated)"
            " VALUES (%s, %s, 'ALLOCATE', %s, 0)", (user, profile, f"test:{profile}"))
        await conn.execute("INSERT INTO llm_usage (id, user_id, profile_id) VALUES (%s, %s, %s)",
                           (ids["llm"], user, profile))
        await conn.execute("INSERT INTO outbox_events (user_id, kind) VALUES (%s, 'test')", (user,))
        await conn.execute(
            "INSERT INTO audit_log (user_id, actor, action, subject_type) VALUES (%s, 'test', 'test', 'user')",
            (user,))
        await conn.execute("INSERT INTO reconciliation_runs (id, user_id, profile_id) VALUES (%s, %s, %s)",
                           (ids["rec"], user, profile))
        await conn.execute("INSERT INTO quarantined_items (id, user_id, exchange_url, endpoint, reason, item,"
                           " item_digest) VALUES (%s, %s, 'http://x', 'GET /trades', 'EXCHANGE_NUMBER_INVALID',"
                           " '{}', 'd')", (uuid.uuid4(), user))
        await conn.execute("INSERT INTO unmanaged_holdings (user_id, asset, amount) VALUES (%s, 'BTC', 1)", (user,))
        await conn.execute("INSERT INTO reconcile_adjustments (id, user_id, profile_id, market, d_quantity, value_eur)"
                           " VALUES (%s, %s, %s, 'BTC-EUR', -1, 1)", (uuid.uuid4(), user, profile))
    return user, profile
