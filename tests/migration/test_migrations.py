"""Migrations: empty → head, the result equals the committed reference, concurrent runs are safe."""

from __future__ import annotations

import subprocess
import sys
import uuid

import psycopg
import pytest
import sqlalchemy as sa

from autoinvest.config import COMPONENTS
from autoinvest.db import migrate
from autoinvest.db.tx import assert_safe_role, connect
from autoinvest.errors import UnsafeDatabaseRole
from tests.migration.schema_dump import REFERENCE, dump
from tests.support.database import ROLE_PASSWORDS, DatabaseUnderTest


def test_upgrade_from_empty_to_head_matches_the_reference_dump(db: DatabaseUnderTest) -> None:
    url = db.fresh_database()
    assert migrate.current_revision(url) is None
    assert migrate.upgrade(url) == migrate.head_revision()
    assert dump(url) == REFERENCE.read_text(), (
        "the migrated schema differs from tests/migration/schema.sql; if the change is intended, regenerate it with "
        "`python -m tests.migration.schema_dump \"$(autoinvest db url)\"` on a freshly migrated database")


@pytest.mark.slow
def test_four_processes_migrating_at_once_leave_one_correct_schema(db: DatabaseUnderTest) -> None:
    url = db.fresh_database()
    env = db.env(DATABASE_URL=url)
    procs = [subprocess.Popen([sys.executable, "-m", "autoinvest.cli", "db", "migrate"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = [(*p.communicate(timeout=120), p.returncode) for p in procs]
    assert [r[2] for r in results] == [0, 0, 0, 0], results
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(migrate.head_revision(),)]
    assert dump(url) == REFERENCE.read_text()


async def test_the_application_role_is_safe_and_the_admin_role_is_refused(db: DatabaseUnderTest) -> None:
    for component in COMPONENTS:
        app = await connect(db.role_url(component))
        try:
            await assert_safe_role(app, component)  # owns nothing, no BYPASSRLS, no more than its component may
        finally:
            await app.close()
    admin = await connect(db.admin_url)
    try:
        with pytest.raises(UnsafeDatabaseRole):
            await assert_safe_role(admin)
    finally:
        await admin.close()


def test_db_migrate_sets_role_passwords_without_ever_sending_them(db: DatabaseUnderTest) -> None:
    """A server that logs statements (log_statement = 'all', or an error's statement) keeps only a SCRAM verifier."""
    sent: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        sent.append(statement)

    password = f"pw-{uuid.uuid4().hex}"
    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        migrate.upgrade(db.admin_url, passwords={"autoinvest_api": password})
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)
        migrate.upgrade(db.admin_url, passwords=ROLE_PASSWORDS)  # the other tests' password back
    assert any("ALTER ROLE" in s and "SCRAM-SHA-256$" in s for s in sent), "the verifier was set"
    assert not any(password in s for s in sent), "the password itself went to the server"
