"""Start one real PostgreSQL for the test run, or use DATABASE_URL."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from autoinvest.db import embedded, migrate

ROLE_PASSWORD = "test-role-password"
#: Tests only: a login under row-level security (a member of every component role, owning nothing) that may also
#: read and write every table directly, for tests that set a scene up and act in one connection. The product
#: never connects as it: processes started by tests get each component's own role (``env``), and
#: tests/integration/db/test_component_roles.py holds each of those to what it must not do.
ALL_COMPONENTS_ROLE = "autoinvest_test_all_components"
ROLE_PASSWORDS = {role: ROLE_PASSWORD for role in migrate.COMPONENT_ROLES}


@dataclass(frozen=True)
class DatabaseUnderTest:
    admin_url: str
    app_url: str  #: as ALL_COMPONENTS_ROLE
    home: Path
    embedded: bool

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for a subprocess that uses this database (each component as its own role)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOINVEST_") and k != "DATABASE_URL"}
        env.update(DATABASE_URL=self.admin_url, AUTOINVEST_DB_ROLE_PASSWORD=ROLE_PASSWORD,
                   AUTOINVEST_HOME=str(self.home))
        env.update(extra)
        return env

    def migrated_copy(self) -> DatabaseUnderTest:
        """A new, freshly migrated database on the same server (for tests that must see only their own rows)."""
        admin = self.fresh_database()
        migrate.upgrade(admin, passwords=ROLE_PASSWORDS)
        create_all_components_role(admin)
        return dataclasses.replace(self, admin_url=admin, app_url=_with_user(admin, ALL_COMPONENTS_ROLE))

    def role_url(self, component: str) -> str:
        """The URL of a component's role (``autoinvest_<component>``)."""
        return _with_user(self.admin_url, f"autoinvest_{component}")

    def fresh_database(self) -> str:
        """Create an empty database on the same server; return its admin URL."""
        name = f"scratch_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        params = conninfo_to_dict(self.admin_url)
        params["dbname"] = name
        return make_conninfo(**params)  # type: ignore[arg-type]


@contextlib.contextmanager
def private_home(prefix: str) -> Iterator[Path]:
    """A directory for an embedded server outside pytest's shared temp root.

    The server runs as another system user, and every pytest session re-applies mode 0700 to
    ``/tmp/pytest-of-<user>``: a second session (a mutation run, a developer's second terminal) would
    lock a running server out of its own data directory."""
    home = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield home
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _with_user(url: str, user: str) -> str:
    params = conninfo_to_dict(url)
    params.update(user=user, password=ROLE_PASSWORD)
    return make_conninfo(**params)  # type: ignore[arg-type]


def start(home: Path) -> DatabaseUnderTest:
    external = os.environ.get("DATABASE_URL")
    admin = external or embedded.start(home)
    migrate.upgrade(admin, passwords=ROLE_PASSWORDS)
    create_all_components_role(admin)
    return DatabaseUnderTest(admin_url=admin, app_url=_with_user(admin, ALL_COMPONENTS_ROLE), home=home,
                             embedded=external is None)


def create_all_components_role(admin_url: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (ALL_COMPONENTS_ROLE,)).fetchone() is None:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE").format(
                sql.Identifier(ALL_COMPONENTS_ROLE)))
        conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(ALL_COMPONENTS_ROLE),
                                                                 sql.Literal(ROLE_PASSWORD)))
        roles = sql.SQL(", ").join(sql.Identifier(r) for r in migrate.COMPONENT_ROLES)
        conn.execute(sql.SQL("GRANT {} TO {}").format(roles, sql.Identifier(ALL_COMPONENTS_ROLE)))
        conn.execute(sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(
            sql.Identifier(ALL_COMPONENTS_ROLE)))


def stop(db: DatabaseUnderTest) -> None:
    if db.embedded:
        embedded.stop(db.home)
