"""`autoinvest db migrate`: roles, then Alembic to head, under one advisory lock."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import psycopg
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from psycopg import sql

from autoinvest.config import APP_ROLE, COMPONENTS
from autoinvest.errors import InputError

OWNER_ROLE = "autoinvest_owner"
# Any constant works; it only has to be the same in every instance.
MIGRATION_LOCK_KEY = 0x61_75_74_6F_69_6E_76  # "autoinv"
MIGRATIONS = Path(__file__).parent / "migrations"

COMPONENT_ROLES = tuple(f"autoinvest_{c}" for c in COMPONENTS)

_BOOTSTRAP = f"""
DO $$
DECLARE
  r text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{OWNER_ROLE}') THEN
    CREATE ROLE {OWNER_ROLE} NOLOGIN;
  END IF;
  -- The group the tenant policies name; no one logs in as it and it holds no privilege (migration 0007).
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
    CREATE ROLE {APP_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  ELSE
    ALTER ROLE {APP_ROLE} NOLOGIN;
  END IF;
  FOREACH r IN ARRAY ARRAY[{", ".join(f"'{r}'" for r in COMPONENT_ROLES)}] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      EXECUTE 'CREATE ROLE ' || quote_ident(r)
              || ' LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE IN ROLE {APP_ROLE}';
    END IF;
  END LOOP;
END $$;
GRANT {OWNER_ROLE} TO CURRENT_USER;
GRANT CREATE, USAGE ON SCHEMA public TO {OWNER_ROLE};
-- Nobody else creates objects: a temporary or public table named like ours could capture a SECURITY DEFINER
-- function (it would read the caller's rows as the owner). tx.assert_safe_role checks this at start.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
DO $$ BEGIN
  EXECUTE 'REVOKE TEMPORARY ON DATABASE ' || quote_ident(current_database()) || ' FROM PUBLIC, {APP_ROLE}';
END $$;
"""


def _set_passwords(conn: sa.Connection, passwords: Mapping[str, str]) -> None:
    """Set each role's password as a SCRAM verifier computed here (libpq's PQencryptPasswordConn): the server, and
    any statement log it keeps, never sees the password itself."""
    raw = conn.connection.driver_connection
    assert isinstance(raw, psycopg.Connection)
    for role, password in passwords.items():
        verifier = raw.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256").decode()
        conn.exec_driver_sql(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(role),
                                                                       sql.Literal(verifier)).as_string(raw))


#: A person's own operator login: ``autoinvest_op_<name>``.
OPERATOR_LOGIN = re.compile(r"^[a-z][a-z0-9_]{0,29}$")


def add_operator_login(admin_url: str, name: str, password: str) -> str:
    """Create (or re-password) a person's own login in the operator role; returns the role name. Audit rows they
    write then name them (``audit_log.db_user``), whatever actor a command claims."""
    if not OPERATOR_LOGIN.match(name):
        raise InputError(f"operator name {name!r} must be 1 to 30 lower-case letters, digits or _, starting with a "
                         "letter", reason="OPERATOR_NAME_INVALID")
    if len(password) < 12:
        raise InputError("the password must have at least 12 characters", reason="PASSWORD_TOO_SHORT")
    role = f"autoinvest_op_{name}"
    engine = sa.create_engine(_sqlalchemy_url(admin_url), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            exists = conn.exec_driver_sql(f"SELECT 1 FROM pg_roles WHERE rolname = '{role}'").first()
            if exists is None:
                conn.exec_driver_sql(sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE "
                                             "IN ROLE {}").format(sql.Identifier(role),
                                                                  sql.Identifier("autoinvest_operator")).as_string())
            _set_passwords(conn, {role: password})
            conn.commit()
    finally:
        engine.dispose()
    return role


def _sqlalchemy_url(url: str) -> sa.engine.URL | str:
    if "://" in url:
        return sa.engine.make_url(url).set(drivername="postgresql+psycopg")
    # a keyword conninfo string ("host=... dbname=..."): let psycopg parse it
    return sa.engine.URL.create("postgresql+psycopg", query={"conninfo": url})


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade(admin_url: str, *, passwords: Mapping[str, str] | None = None) -> str | None:
    """Create the roles (``passwords``: role name -> password to set) and upgrade to head; safe when many instances
    run it at once."""
    engine = sa.create_engine(_sqlalchemy_url(admin_url), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})")
            try:
                conn.exec_driver_sql(_BOOTSTRAP)
                _set_passwords(conn, passwords or {})
                conn.commit()
                conn.exec_driver_sql(f"SET ROLE {OWNER_ROLE}")
                cfg = alembic_config()
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
                conn.commit()
                current: str | None = MigrationContext.configure(conn).get_current_revision()
                conn.exec_driver_sql("RESET ROLE")
                conn.commit()
                return current
            finally:
                conn.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")
                conn.commit()
    finally:
        engine.dispose()


def current_revision(admin_url: str) -> str | None:
    engine = sa.create_engine(_sqlalchemy_url(admin_url), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
