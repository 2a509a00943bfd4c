"""Start one real PostgreSQL for the test run, or use DATABASE_URL."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from autoinvest.config import APP_ROLE
from autoinvest.db import embedded, migrate


@dataclass(frozen=True)
class DatabaseUnderTest:
    admin_url: str
    app_url: str
    home: Path
    embedded: bool

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for a subprocess that uses this database."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOINVEST_") and k != "DATABASE_URL"}
        env.update(DATABASE_URL=self.admin_url, AUTOINVEST_APP_DATABASE_URL=self.app_url,
                   AUTOINVEST_HOME=str(self.home))
        env.update(extra)
        return env

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


def start(home: Path) -> DatabaseUnderTest:
    external = os.environ.get("DATABASE_URL")
    admin = external or embedded.start(home)
    migrate.upgrade(admin, app_password="test-app-password")
    params = conninfo_to_dict(admin)
    params.update(user=APP_ROLE, password="test-app-password")
    return DatabaseUnderTest(admin_url=admin, app_url=make_conninfo(**params), home=home,  # type: ignore[arg-type]
                        embedded=external is None)


def stop(db: DatabaseUnderTest) -> None:
    if db.embedded:
        embedded.stop(db.home)
