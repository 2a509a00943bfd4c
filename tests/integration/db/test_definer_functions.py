"""The SECURITY DEFINER functions cannot be captured through ``pg_temp`` (guarantee 12).

A definer function runs as the schema's owner, which sees every tenant's rows. If a temporary table named like
one of ours came first in its search path, the function would read the caller's table as the owner — and return
whatever ids the caller planted. The application role may not create temporary tables at all, and even in a
session that can (a superuser's), the functions read the real tables.
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from tests.support.database import ALL_COMPONENTS_ROLE, DatabaseUnderTest

PLANTED = uuid.UUID("00000000-0000-0000-0000-00000000bad1")

# (a call of a definer function, the temporary tables that would capture it and a row for each)
CAPTURES: list[tuple[str, dict[str, str]]] = [
    ("SELECT * FROM active_profile_ids()", {"profiles": "SELECT %(id)s::uuid AS id, %(id)s::uuid AS user_id,"
                                                        " 'active'::text AS status"}),
    ("SELECT * FROM profile_ids()", {"profiles": "SELECT %(id)s::uuid AS id, %(id)s::uuid AS user_id"}),
    ("SELECT owner_of('profile', %(id)s)", {"profiles": "SELECT %(id)s::uuid AS id, %(id)s::uuid AS user_id"}),
    ("SELECT owner_of('user', %(id)s)", {"users": "SELECT %(id)s::uuid AS id"}),
    ("SELECT * FROM approved_proposal_ids(100)", {
        "trade_proposals": "SELECT %(id)s::uuid AS id, %(id)s::uuid AS user_id, 'APPROVED'::text AS status,"
                           " now() AS created_at",
        "executions": "SELECT %(id)s::uuid AS proposal_id, %(id)s::uuid AS user_id WHERE false"}),
    ("SELECT * FROM execution_state_counts()", {"executions": "SELECT 'PLANTED'::text AS state"}),
    ("SELECT * FROM execution_ids_in_state('PLANTED', 0, 100)", {
        "executions": "SELECT %(id)s::uuid AS id, %(id)s::uuid AS user_id, 'PLANTED'::text AS state,"
                      " now() - interval '1 day' AS updated_at"}),
    ("SELECT due_scan_job_count()", {
        "scan_jobs": "SELECT %(id)s::uuid AS id, %(id)s::uuid AS profile_id, now() - interval '1 day' AS next_run_at,"
                     " NULL::timestamptz AS locked_until",
        "profiles": "SELECT %(id)s::uuid AS id, 'active'::text AS status"}),
    ("SELECT * FROM credential_user_ids('readonly')", {
        "exchange_credentials": "SELECT %(id)s::uuid AS user_id, 'readonly'::text AS purpose"}),
]


def _call_as_app(conn: psycopg.Connection[Any], call: str) -> list[tuple[Any, ...]]:
    conn.execute(f"SET ROLE {ALL_COMPONENTS_ROLE}")
    try:
        return conn.execute(call, {"id": PLANTED}).fetchall()  # type: ignore[arg-type]
    finally:
        conn.execute("RESET ROLE")


def test_the_application_role_cannot_create_a_temporary_table(db: DatabaseUnderTest) -> None:
    with psycopg.connect(db.app_url) as app:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="temporary"):
            app.execute("CREATE TEMP TABLE profiles (id uuid, user_id uuid, status text)")
        app.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app.execute("CREATE TABLE public.profiles_shadow (id uuid)")


@pytest.mark.parametrize(("call", "tables"), CAPTURES, ids=[c for c, _ in CAPTURES])
def test_a_temporary_table_does_not_capture_a_definer_function(db: DatabaseUnderTest, call: str,
                                                               tables: dict[str, str]) -> None:
    # The admin session still may create temporary tables: the functions must read the real ones anyway.
    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        honest = _call_as_app(conn, call)
        for name, rows in tables.items():
            conn.execute(f"CREATE TEMP TABLE {name} AS {rows}", {"id": PLANTED})  # type: ignore[arg-type]
        conn.execute("GRANT SELECT, UPDATE ON ALL TABLES IN SCHEMA pg_temp TO PUBLIC")
        assert _call_as_app(conn, call) == honest, f"{call} read the planted temporary table"
    assert str(PLANTED) not in str(honest)
