"""Guarantee 12: as the application role, one tenant can neither see nor change another's rows."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql

from autoinvest.db.tx import AppConnection, system_tx, user_tx
from tests.support.full_tenant import TENANT_TABLES, make_full_tenant


async def _count(conn: AppConnection, table: str, owner_col: str, owner: object) -> int:
    cur = await conn.execute(sql.SQL("SELECT count(*) AS n FROM {} WHERE {} = %s").format(
        sql.Identifier(table), sql.Identifier(owner_col)), (owner,))
    row = await cur.fetchone()
    assert row is not None
    return int(row["n"])  # type: ignore[call-overload]


async def test_every_table_with_a_user_column_is_covered(app_conn: AppConnection, db: object) -> None:
    cur = await app_conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND c.relkind = 'r' AND (c.relname = 'users' OR EXISTS"
        " (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'user_id'))")
    tables = {r["relname"] for r in await cur.fetchall()}
    assert tables == set(TENANT_TABLES)
    cur = await app_conn.execute(
        "SELECT relname FROM pg_class WHERE relname = ANY(%s) AND relrowsecurity AND relforcerowsecurity",
        (list(TENANT_TABLES),))
    assert {r["relname"] for r in await cur.fetchall()} == set(TENANT_TABLES)


@pytest.mark.parametrize("table", sorted(TENANT_TABLES))
async def test_user_a_cannot_read_change_or_create_rows_of_user_b(app_conn: AppConnection, table: str) -> None:
    user_a, _ = await make_full_tenant(app_conn)
    user_b, _ = await make_full_tenant(app_conn)
    owner_col = TENANT_TABLES[table]
    ident = sql.Identifier(table)
    col = sql.Identifier(owner_col)

    async with user_tx(app_conn, user_b):
        rows_of_b = await _count(app_conn, table, owner_col, user_b)
    assert rows_of_b >= 1  # B has rows here

    async with user_tx(app_conn, user_a):
        assert await _count(app_conn, table, owner_col, user_b) == 0
        assert await _count(app_conn, table, owner_col, user_a) >= 1

    for statement in (sql.SQL("UPDATE {} SET {} = {} WHERE {} = %s").format(ident, col, col, col),
                      sql.SQL("DELETE FROM {} WHERE {} = %s").format(ident, col)):
        try:
            async with user_tx(app_conn, user_a):
                cur = await app_conn.execute(statement, (user_b,))
                assert cur.rowcount == 0
        except psycopg.errors.InsufficientPrivilege:
            pass  # append-only tables: the app role may not update or delete at all

    # Inserting a row that belongs to B while acting as A is refused by the policy's WITH CHECK.
    async with user_tx(app_conn, user_b):
        cur = await app_conn.execute(sql.SQL("SELECT * FROM {} WHERE {} = %s").format(ident, col), (user_b,))
        row = await cur.fetchone()
    assert row is not None
    copy = {k: v for k, v in row.items() if k not in ("id",) or table == "users"}
    if table == "users":
        copy["email"] = "other-" + str(copy["email"])
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match=r"row-level security|permission denied"):
        async with user_tx(app_conn, user_a):
            await app_conn.execute(
                sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                    ident, sql.SQL(", ").join(map(sql.Identifier, copy)),
                    sql.SQL(", ").join(sql.Placeholder() * len(copy))),
                [psycopg.types.json.Jsonb(v) if isinstance(v, dict) else v for v in copy.values()])

    async with user_tx(app_conn, user_b):  # B's rows are untouched
        assert await _count(app_conn, table, owner_col, user_b) == rows_of_b

    async with system_tx(app_conn):  # with no user set, nothing is visible
        cur = await app_conn.execute(sql.SQL("SELECT count(*) AS n FROM {}").format(ident))
        assert (await cur.fetchone()) == {"n": 0}


async def test_no_carry_over_of_the_user_between_transactions(app_conn: AppConnection) -> None:
    user_a, _ = await make_full_tenant(app_conn)
    async with user_tx(app_conn, user_a):
        assert await _count(app_conn, "profiles", "user_id", user_a) == 1
    # same connection, next transaction without a user: the setting was transaction-local
    async with system_tx(app_conn):
        assert await _count(app_conn, "profiles", "user_id", user_a) == 0
