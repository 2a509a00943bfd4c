"""The one place where psycopg's errors become ``autoinvest.errors``.

A refused row (UNIQUE, CHECK, FOREIGN KEY) becomes a :class:`~autoinvest.errors.ConstraintViolation` that names
the constraint; a refused connection or a session that ended becomes
:class:`~autoinvest.errors.DatabaseUnavailable`. Each is raised ``from`` the driver's error. Anything else the
driver raises is left as it is (a bug, or a refusal the caller did not ask to handle).

Callers outside ``autoinvest.db`` catch our classes, never the driver's: run the statements that may be refused in
``tx.savepoint(conn)`` (a savepoint that translates, so that the caller's transaction stays usable), or wrap a
block in :func:`translated`. Messages carry PostgreSQL's primary message, never its detail (which quotes the
row's values, e.g. an e-mail address).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from autoinvest.errors import (
    CheckRefused,
    ConstraintViolation,
    DatabaseError,
    DatabaseUnavailable,
    ForeignKeyMissing,
    UniqueViolated,
)

#: SQLSTATEs of a session the server ended: admin or crash shutdown, cannot connect now, idle-session and
#: idle-in-transaction timeouts. (Class 08, connection exception, is matched by its prefix.)
SESSION_ENDED = frozenset({"57P01", "57P02", "57P03", "57P05", "25P03"})

_CONSTRAINTS: tuple[tuple[type[psycopg.Error], type[ConstraintViolation]], ...] = (
    (psycopg.errors.UniqueViolation, UniqueViolated),
    (psycopg.errors.CheckViolation, CheckRefused),
    (psycopg.errors.ForeignKeyViolation, ForeignKeyMissing),
)


def translate(exc: BaseException) -> DatabaseError | None:
    """Our error for a driver error (raise it ``from exc``), or None when it is not one we translate."""
    if not isinstance(exc, psycopg.Error):
        return None
    for driver_class, ours in _CONSTRAINTS:
        if isinstance(exc, driver_class):
            return ours(_primary(exc), constraint=exc.diag.constraint_name)
    if connection_failed(exc):
        return DatabaseUnavailable(f"the database connection failed: {_primary(exc)}")
    return None


def connection_failed(exc: BaseException) -> bool:
    """True for a failure of the connection itself (not of a statement): the server is gone or ended the session."""
    if not isinstance(exc, psycopg.Error):
        return False
    sqlstate = exc.sqlstate
    if sqlstate is None:  # raised by libpq or psycopg, not by the server: refused, reset, closed
        return isinstance(exc, psycopg.OperationalError)
    return sqlstate.startswith("08") or sqlstate in SESSION_ENDED


def cannot_connect(exc: psycopg.OperationalError) -> DatabaseUnavailable:
    """A new connection was refused; the message says how to start the database (raise it ``from exc``)."""
    # libpq's message names host and user, never the password.
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return DatabaseUnavailable(f"cannot connect to the database: {first_line} (is it running? `autoinvest db start`)")


@contextmanager
def translated() -> Iterator[None]:
    """Translate the driver errors escaping the block (others pass through unchanged)."""
    try:
        yield
    except psycopg.Error as exc:
        ours = translate(exc)
        if ours is None:
            raise
        raise ours from exc


def _primary(exc: psycopg.Error) -> str:
    text = exc.diag.message_primary or str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
