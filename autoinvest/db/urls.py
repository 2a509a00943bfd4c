"""Which URL does what: the admin URL migrates, the application URL runs the product."""

from __future__ import annotations

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from autoinvest import config
from autoinvest.db import embedded
from autoinvest.errors import DatabaseError


def admin_url(settings: config.Settings, *, start: bool = False) -> str:
    """DATABASE_URL, or the embedded server's URL (started first when ``start``)."""
    if settings.database_url:
        return settings.database_url
    found = embedded.start(settings.home) if start else embedded.url(settings.home)
    if not found:
        raise DatabaseError("the embedded database is not running: run `autoinvest db start` "
                            "(or set DATABASE_URL)", reason="DB_NOT_RUNNING")
    return found


def app_url(settings: config.Settings, *, start: bool = False) -> str:
    """AUTOINVEST_APP_DATABASE_URL, or the admin URL with the application role as user."""
    if settings.app_database_url:
        return settings.app_database_url
    params = conninfo_to_dict(admin_url(settings, start=start))
    params["user"] = config.APP_ROLE
    params["password"] = settings.app_db_password.get_secret_value() or None
    return make_conninfo(**params)  # type: ignore[arg-type]
