"""db/errors.py without a server: which driver errors become which of ours, and what passes through."""

from __future__ import annotations

import psycopg
import pytest

from autoinvest.db.errors import connection_failed, translate, translated
from autoinvest.errors import CheckRefused, DatabaseUnavailable, ForeignKeyMissing, UniqueViolated


@pytest.mark.parametrize(("driver_error", "ours", "reason"), [
    (psycopg.errors.UniqueViolation, UniqueViolated, "DB_UNIQUE_VIOLATION"),
    (psycopg.errors.CheckViolation, CheckRefused, "DB_CHECK_VIOLATION"),
    (psycopg.errors.ForeignKeyViolation, ForeignKeyMissing, "DB_FOREIGN_KEY_VIOLATION"),
])
def test_each_constraint_refusal_has_its_class_and_reason(driver_error: type[psycopg.Error], ours: type,
                                                           reason: str) -> None:
    translated_error = translate(driver_error("refused"))
    assert type(translated_error) is ours and translated_error.reason == reason
    assert translated_error.constraint is None  # an error built without a server has no diagnostics


@pytest.mark.parametrize("driver_error", [
    psycopg.OperationalError("connection failed: Connection refused"),  # libpq: no SQLSTATE
    psycopg.OperationalError("the connection is closed"),
    psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
    psycopg.errors.CrashShutdown("crash"),
    psycopg.errors.CannotConnectNow("the database system is starting up"),
    psycopg.errors.IdleSessionTimeout("idle session timeout"),
    psycopg.errors.IdleInTransactionSessionTimeout("idle-in-transaction timeout"),
    psycopg.errors.ConnectionFailure("connection failure"),
])
def test_a_lost_or_refused_connection_is_database_unavailable(driver_error: psycopg.Error) -> None:
    assert connection_failed(driver_error)
    translated_error = translate(driver_error)
    assert isinstance(translated_error, DatabaseUnavailable) and translated_error.reason == "DB_UNAVAILABLE"


@pytest.mark.parametrize("error", [
    psycopg.errors.QueryCanceled("statement timeout"),  # an OperationalError of a statement, not the connection
    psycopg.errors.LockNotAvailable("lock timeout"),
    psycopg.errors.SerializationFailure("could not serialize"),
    psycopg.errors.InsufficientPrivilege("permission denied"),
    psycopg.errors.NotNullViolation("null value"),
    psycopg.ProgrammingError("bad query"),
    ValueError("not a driver error"),
])
def test_anything_else_is_not_translated(error: Exception) -> None:
    assert translate(error) is None
    assert not connection_failed(error)


def test_translated_raises_ours_from_the_driver_error_and_lets_the_rest_through() -> None:
    driver_error = psycopg.errors.UniqueViolation("duplicate key value violates unique constraint")
    with pytest.raises(UniqueViolated) as refused, translated():
        raise driver_error
    assert refused.value.__cause__ is driver_error
    assert str(refused.value) == "[DB_UNIQUE_VIOLATION] duplicate key value violates unique constraint"
    with pytest.raises(psycopg.errors.QueryCanceled), translated():
        raise psycopg.errors.QueryCanceled("canceled")
    with pytest.raises(KeyError), translated():
        raise KeyError("x")
