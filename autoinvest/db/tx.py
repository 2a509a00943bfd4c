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


async def assert_safe_role(conn: AppConnection) -> None:
    """Refuse to run as a role that owns tables or bypasses row-level security."""
    cur = await conn.execute(
        "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
    role = await cur.fetchone()
    assert role is not None
    if role["rolsuper"] or role["rolbypassrls"]:
        raise UnsafeDatabaseRole(f"database role {role['rolname']} is a superuser or bypasses RLS; connect the "
                                 "application with its own role (AUTOINVEST_APP_DATABASE_URL)")
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
    await conn.rollback()
