"""db/errors.py against a real PostgreSQL: each refusal arrives as our class, with its reason and the constraint's
name, raised from the driver's error; a refused statement in ``savepoint`` leaves the caller's transaction usable;
an unreachable server and a session the server ended are DatabaseUnavailable."""

from __future__ import annotations

import socket
import uuid
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from autoinvest.db.errors import translated
from autoinvest.db.tx import AppConnection, connect, savepoint, system_tx, user_tx
from autoinvest.errors import (
    CheckRefused,
    ConstraintViolation,
    DatabaseError,
    DatabaseUnavailable,
    ForeignKeyMissing,
    UniqueViolated,
)
from tests.support.database import DatabaseUnderTest
from tests.support.tenants import make_profile, make_user


async def _email(conn: AppConnection, user_id: uuid.UUID) -> str:
    async with user_tx(conn, user_id):
        cur = await conn.execute("SELECT email FROM users WHERE id = %s", (user_id,))
        row = await cur.fetchone()
    assert row is not None
    return str(row["email"])


async def test_a_duplicate_is_unique_violated_naming_the_constraint_and_the_transaction_goes_on(
        app_conn: AppConnection) -> None:
    taken = await _email(app_conn, await make_user(app_conn))
    user = uuid.uuid4()
    async with user_tx(app_conn, user):
        with pytest.raises(UniqueViolated) as refused:
            async with savepoint(app_conn):
                await app_conn.execute("INSERT INTO users (id, email) VALUES (%s, %s)", (user, taken))
        # The savepoint rolled back alone: the same transaction inserts the user with another address.
        await app_conn.execute("INSERT INTO users (id, email) VALUES (%s, %s)", (user, f"{user.hex[:10]}@example.org"))
    error = refused.value
    assert error.reason == "DB_UNIQUE_VIOLATION" and error.constraint == "users_email_key"
    assert isinstance(error, ConstraintViolation) and isinstance(error, DatabaseError)
    assert isinstance(error.__cause__, psycopg.errors.UniqueViolation)
    assert str(error).startswith("[DB_UNIQUE_VIOLATION] duplicate key value violates unique constraint")
    assert taken not in str(error)  # PostgreSQL's detail quotes the row's values; our message does not
    assert await _email(app_conn, user) == f"{user.hex[:10]}@example.org"


async def test_a_check_refusal_is_check_refused_naming_the_constraint_and_the_transaction_goes_on(
        app_conn: AppConnection) -> None:
    user = await make_user(app_conn)
    profile = await make_profile(app_conn, user)  # allocated 1000
    async with user_tx(app_conn, user):
        with pytest.raises(CheckRefused) as refused:
            async with savepoint(app_conn):
                await app_conn.execute("UPDATE capital_accounts SET reserved_for_orders = 1000.01"
                                       " WHERE profile_id = %s", (profile,))
        await app_conn.execute("UPDATE capital_accounts SET reserved_for_orders = 1000 WHERE profile_id = %s",
                               (profile,))
    assert refused.value.reason == "DB_CHECK_VIOLATION" and refused.value.constraint == "capital_invariant"
    assert isinstance(refused.value.__cause__, psycopg.errors.CheckViolation)
    async with user_tx(app_conn, user):
        cur = await app_conn.execute("SELECT reserved_for_orders FROM capital_accounts WHERE profile_id = %s",
                                     (profile,))
        assert (await cur.fetchone()) == {"reserved_for_orders": 1000}


async def test_a_missing_parent_row_is_foreign_key_missing_naming_the_constraint_and_the_transaction_goes_on(
        app_conn: AppConnection) -> None:
    nobody = uuid.uuid4()  # row-level security admits the row (its user is the transaction's); the user is missing
    async with user_tx(app_conn, nobody):
        with pytest.raises(ForeignKeyMissing) as refused:
            async with savepoint(app_conn):
                await app_conn.execute("INSERT INTO profiles (id, user_id, name) VALUES (%s, %s, 'orphan')",
                                       (uuid.uuid4(), nobody))
        cur = await app_conn.execute("SELECT count(*) AS n FROM profiles")
        assert (await cur.fetchone()) == {"n": 0}
    assert refused.value.reason == "DB_FOREIGN_KEY_VIOLATION"
    assert refused.value.constraint == "profiles_user_id_fkey"
    assert isinstance(refused.value.__cause__, psycopg.errors.ForeignKeyViolation)


async def test_what_is_not_translated_passes_through_as_the_driver_raised_it(app_conn: AppConnection) -> None:
    # Only unique, check, foreign-key and connection failures are ours; a refused privilege stays PostgreSQL's.
    user = await make_user(app_conn)
    async with user_tx(app_conn, user):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            async with savepoint(app_conn):
                await app_conn.execute("CREATE TABLE public.not_allowed (id int)")
        with pytest.raises(ZeroDivisionError):
            async with savepoint(app_conn):
                raise ZeroDivisionError
        cur = await app_conn.execute("SELECT 1 AS one")
        assert (await cur.fetchone()) == {"one": 1}


def _nothing_listens(app_url: str) -> str:
    with socket.socket() as s:  # a port that was free a moment ago: connections are refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    params: dict[str, Any] = conninfo_to_dict(app_url)
    params.update(host="127.0.0.1", port=str(port), connect_timeout="3")
    return make_conninfo(**params)


async def test_an_unreachable_server_is_database_unavailable(db: DatabaseUnderTest) -> None:
    with pytest.raises(DatabaseUnavailable) as refused:
        await connect(_nothing_listens(db.app_url))
    assert refused.value.reason == "DB_UNAVAILABLE"
    assert isinstance(refused.value.__cause__, psycopg.OperationalError)
    assert "cannot connect to the database" in str(refused.value) and "autoinvest db start" in str(refused.value)


async def test_a_session_the_server_ended_is_database_unavailable(db: DatabaseUnderTest) -> None:
    conn = await connect(db.app_url)
    try:
        with psycopg.connect(db.admin_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))
        with pytest.raises(DatabaseUnavailable) as lost, translated():
            async with system_tx(conn):
                await conn.execute("SELECT 1")
        assert lost.value.reason == "DB_UNAVAILABLE"
        assert isinstance(lost.value.__cause__, psycopg.OperationalError)
        assert conn.broken or conn.closed
    finally:
        await conn.close()
