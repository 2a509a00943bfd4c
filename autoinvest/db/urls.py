"""Which URL does what: the admin URL migrates; each component connects with its own role's URL."""

from __future__ import annotations

from typing import Literal

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from autoinvest import config
from autoinvest.db import embedded
from autoinvest.errors import DatabaseError

Component = Literal["scanner", "trader", "api", "operator"]
#: The component whose role each worker loop connects as.
LOOP_COMPONENT: dict[str, Component] = {
    "scanner": "scanner", "scheduler": "scanner",
    "executor": "trader", "resolver": "trader", "monitor": "trader", "reconciler": "trader",
}


def role_name(component: Component) -> str:
    return f"autoinvest_{component}"


def admin_url(settings: config.Settings, *, start: bool = False) -> str:
    """DATABASE_URL, or the embedded server's URL (started first when ``start``)."""
    if settings.database_url:
        return settings.database_url
    found = embedded.start(settings.home) if start else embedded.url(settings.home)
    if not found:
        raise DatabaseError("the embedded database is not running: run `autoinvest db start` "
                            "(or set DATABASE_URL)", reason="DB_NOT_RUNNING")
    return found


def role_url(settings: config.Settings, component: Component, *, start: bool = False) -> str:
    """AUTOINVEST_<COMPONENT>_DATABASE_URL, or the admin URL with the component's role and DB_ROLE_PASSWORD."""
    explicit: str | None = getattr(settings, f"{component}_database_url")
    if explicit:
        return explicit
    return with_login(admin_url(settings, start=start), role_name(component),
                      settings.db_role_password.get_secret_value() or None)


def with_login(conninfo: str, user: str, password: str | None = None) -> str:
    """The connection string with another login (and its password, or none)."""
    params = conninfo_to_dict(conninfo)
    params["user"] = user
    params["password"] = password
    return make_conninfo(**params)  # type: ignore[arg-type]


def role_passwords(settings: config.Settings) -> dict[str, str]:
    """The password `db migrate` sets on each component role: its URL's own, else DB_ROLE_PASSWORD (none: unset)."""
    passwords: dict[str, str] = {}
    for component in config.COMPONENTS:
        explicit: str | None = getattr(settings, f"{component}_database_url")
        password = (conninfo_to_dict(explicit).get("password") if explicit
                    else settings.db_role_password.get_secret_value())
        if password:
            passwords[role_name(component)] = str(password)  # type: ignore[arg-type]
    return passwords


def without_password(conninfo: str) -> str:
    """The connection string (URL or keywords) with its password left out, in keyword form: safe to print; psql and
    libpq then take the password from PGPASSWORD or ~/.pgpass."""
    params = conninfo_to_dict(conninfo)
    params.pop("password", None)
    return make_conninfo(**params)  # type: ignore[arg-type]
