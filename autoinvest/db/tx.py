"""Connections and transactions as the application role; tenant transactions set app.user_id locally."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar
from uuid import UUID

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from autoinvest.db.errors import cannot_connect, translated
from autoinvest.errors import UnsafeDatabaseRole

AppConnection = psycopg.AsyncConnection[dict[str, Any]]
T = TypeVar("T")

#: No transaction of ours waits on anything but the database (exchange and LLM calls happen between
#: transactions), so one left idle this long belongs to a process that hangs or was paused. PostgreSQL then
#: ends its session: its row locks go, and a lease that has run out can be taken over (fencing keeps the
#: paused process from writing when it wakes).
IDLE_IN_TRANSACTION_TIMEOUT_MS = 10_000


def make_pool(app_url: str, *, min_size: int = 1, max_size: int = 10) -> AsyncConnectionPool[AppConnection]:
    """A pool of application-role connections (open it with ``await pool.open()``)."""
    return AsyncConnectionPool(app_url, min_size=min_size, max_size=max_size, open=False,
                               kwargs={"row_factory": dict_row, "application_name": f"autoinvest-{os.getpid()}"},
                               connection_class=psycopg.AsyncConnection, configure=_configure)


async def _configure(conn: AppConnection) -> None:
    await conn.execute(f"SET idle_in_transaction_session_timeout = {IDLE_IN_TRANSACTION_TIMEOUT_MS}")
    await conn.commit()


def is_broken(conn: AppConnection) -> bool:
    """True when the connection is unusable (server restart, session ended): reconnect, do not retry on it."""
    return conn.closed or conn.broken


async def connect(app_url: str) -> AppConnection:
    """Connect as the application role; a refused connection becomes DatabaseUnavailable with a hint."""
    try:
        # The process id names the session in pg_stat_activity: an operator sees which process holds what.
        conn = await psycopg.AsyncConnection.connect(app_url, row_factory=dict_row,
                                                     application_name=f"autoinvest-{os.getpid()}")
        await _configure(conn)
        return conn
    except psycopg.OperationalError as exc:
        raise cannot_connect(exc) from exc


def run_with_connection(app_url: str, work: Callable[[AppConnection], Awaitable[T]]) -> T:
    """For the CLI: open one application-role connection, run ``work`` on it, close it."""

    async def main() -> T:
        conn = await connect(app_url)
        try:
            return await work(conn)
        finally:
            await conn.close()

    return asyncio.run(main())


@asynccontextmanager
async def user_tx(conn: AppConnection, user_id: UUID) -> AsyncIterator[AppConnection]:
    """One transaction in which row-level security shows only ``user_id``'s rows."""
    async with conn.transaction():
        await conn.execute("SELECT set_config('app.user_id', %s, true)", (str(user_id),))
        yield conn


@asynccontextmanager
async def system_tx(conn: AppConnection) -> AsyncIterator[AppConnection]:
    """A transaction with no user set: tenant tables show nothing; only global tables and id functions."""
    async with conn.transaction():
        yield conn


@asynccontextmanager
async def savepoint(conn: AppConnection) -> AsyncIterator[AppConnection]:
    """A savepoint in the caller's transaction whose driver errors arrive translated (``db.errors``).

    A refused statement rolls back to the savepoint only: the caller catches our error (``UniqueViolated``,
    ``CheckRefused``, ``ForeignKeyMissing``, by its ``constraint``) and its transaction stays usable.
    (Outside a transaction this is a transaction of its own.)
    """
    with translated():
        async with conn.transaction():
            yield conn


#: What each component's role must not be able to do (migration 0007), checked at start: a URL that names a
#: role with more rights (another component's, or an older all-purpose one) is refused before anything runs.
_NOT_EVERYONE = (("capital_accounts", "UPDATE"), ("audit_log", "INSERT"), ("audit_log", "UPDATE"),
                 ("audit_log", "DELETE"))
_NOT_POLICY_OR_KEYS = (("profile_policies", "UPDATE"), ("profiles", "UPDATE"), ("users", "UPDATE"),
                       ("exchange_credentials", "INSERT"), ("global_settings", "UPDATE"))
MUST_NOT: dict[str, tuple[tuple[str, str], ...]] = {
    "scanner": (*_NOT_EVERYONE, *_NOT_POLICY_OR_KEYS, ("trade_proposals", "INSERT"), ("trade_proposals", "UPDATE"),
                ("exchange_credentials", "UPDATE"), ("executions", "INSERT"), ("ledger_entries", "INSERT")),
    "trader": (*_NOT_EVERYONE, *_NOT_POLICY_OR_KEYS, ("trade_proposals", "INSERT"), ("trade_proposals", "UPDATE")),
    "api": (*_NOT_EVERYONE, *_NOT_POLICY_OR_KEYS, ("executions", "INSERT"), ("ledger_entries", "INSERT")),
    "operator": _NOT_EVERYONE,
}
#: Switching all trading back on is the operator's alone.
_OPERATOR_ONLY_FUNCTION = "set_global_kill_switch(boolean, text, text)"


async def assert_safe_role(conn: AppConnection, component: str | None = None) -> None:
    """Refuse to run as a role that owns tables or bypasses row-level security; with ``component``, also as one
    that can do what that component's role must not (``MUST_NOT``)."""
    cur = await conn.execute(
        "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
    role = await cur.fetchone()
    assert role is not None
    if role["rolsuper"] or role["rolbypassrls"]:
        raise UnsafeDatabaseRole(f"database role {role['rolname']} is a superuser or bypasses RLS; connect the "
                                 "application with its component roles (AUTOINVEST_<COMPONENT>_DATABASE_URL)")
    cur = await conn.execute(
        "SELECT c.relname FROM pg_class c WHERE c.relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
        " AND c.relkind IN ('r', 'p', 'v', 'm') LIMIT 5")
    owned = [r["relname"] for r in await cur.fetchall()]
    if owned:
        raise UnsafeDatabaseRole(f"database role {role['rolname']} owns tables ({', '.join(map(str, owned))}); "
                                 "the application must connect as a role that owns nothing")
    cur = await conn.execute(
        "SELECT has_database_privilege(current_database(), 'TEMPORARY') AS temp,"
        " has_schema_privilege('public', 'CREATE') AS create_public")
    may = await cur.fetchone()
    if may is not None and (may["temp"] or may["create_public"]):
        # A table it creates could capture a SECURITY DEFINER function (guarantee 12).
        raise UnsafeDatabaseRole(f"database role {role['rolname']} may create temporary tables or tables in schema "
                                 "public; run `autoinvest db migrate` as the database owner (it revokes both)")
    if component is not None:
        await _assert_fits(conn, str(role["rolname"]), component)
    await conn.rollback()


async def assert_safe_url(url: str, component: str) -> None:
    """Connect with ``url`` and check its role for ``component`` (``assert_safe_role``), before anything runs."""
    conn = await connect(url)
    try:
        await assert_safe_role(conn, component)
    finally:
        await conn.close()


async def _assert_fits(conn: AppConnection, rolname: str, component: str) -> None:
    checks = MUST_NOT[component]
    cur = await conn.execute(
        "SELECT t, p FROM unnest(%s::text[], %s::text[]) AS c(t, p) WHERE has_table_privilege(t, p)",
        ([t for t, _ in checks], [p for _, p in checks]))
    too_much = [f"{r['p']} {r['t']}" for r in await cur.fetchall()]
    if component != "operator":
        cur = await conn.execute("SELECT has_function_privilege(%s, 'EXECUTE') AS may", (_OPERATOR_ONLY_FUNCTION,))
        row = await cur.fetchone()
        if row is not None and row["may"]:
            too_much.append("EXECUTE set_global_kill_switch")
    if too_much:
        variable = f"AUTOINVEST_{component.upper()}_DATABASE_URL"
        raise UnsafeDatabaseRole(f"database role {rolname} may {', '.join(too_much)}: more than the {component} "
                                 f"role may; connect the {component} with its own role, autoinvest_{component} "
                                 f"({variable}), and run `autoinvest db migrate`")
