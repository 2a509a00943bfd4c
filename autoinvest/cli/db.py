"""`autoinvest db start | stop | status | url | migrate`: the embedded PostgreSQL server or DATABASE_URL."""

from __future__ import annotations

import re

import typer

from autoinvest.cli._common import fails_cleanly, out, settings

db_app = typer.Typer(no_args_is_help=True, help="The database: embedded PostgreSQL or DATABASE_URL.")


@db_app.command("start")
@fails_cleanly
def start() -> None:
    """Start the embedded PostgreSQL server (no-op with DATABASE_URL)."""
    from autoinvest.db import urls

    s = settings()
    if s.database_url:
        out.print("DATABASE_URL is set: nothing to start")
        return
    with out.status("starting embedded PostgreSQL…"):
        urls.admin_url(s, start=True)
    out.print(f"embedded PostgreSQL running, data in {s.home.resolve() / 'pgdata'}")


@db_app.command("stop")
@fails_cleanly
def stop() -> None:
    """Stop the embedded PostgreSQL server."""
    from autoinvest.db import embedded

    s = settings()
    out.print("stopped" if embedded.stop(s.home) else "not running")


@db_app.command("status")
@fails_cleanly
def status() -> None:
    """Say whether the database runs and which migration it is at; exit 1 when it does not run."""
    from autoinvest.db import embedded, migrate

    s = settings()
    url = s.database_url or embedded.url(s.home)
    if not url:
        out.print("embedded PostgreSQL: not running (start it with `autoinvest db start`)")
        raise typer.Exit(1)
    kind = "DATABASE_URL" if s.database_url else "embedded PostgreSQL"
    current, head = migrate.current_revision(url), migrate.head_revision()
    state = "up to date" if current == head else f"behind (run `autoinvest db migrate`, head is {head})"
    out.print(f"{kind}: running; schema revision {current or 'none'}: {state}")


@db_app.command("url")
@fails_cleanly
def url(app_role: bool = typer.Option(False, "--app", help="Print the application role's URL instead."),
        show_password: bool = typer.Option(False, "--show-password", help="Print the password too (it then shows in "
                                           "the terminal's scrollback and any log of this output).")) -> None:
    """Print the administrative URL (psql and psycopg accept it); --app prints the application's. The password is
    masked as **** unless --show-password."""
    from autoinvest.db import urls

    s = settings()
    found = urls.app_url(s) if app_role else urls.admin_url(s)
    print(found if show_password else masked(found))


_URL_PASSWORD = re.compile(r"^([a-z][a-z0-9+.-]*://[^:@/?#]*):[^@/?#]*@", re.IGNORECASE)
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&#]*", re.IGNORECASE)
_KEYWORD_PASSWORD = re.compile(r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def masked(text: str) -> str:
    """A database URL or libpq keyword string with any password replaced by ****."""
    if "://" in text:
        return _QUERY_PASSWORD.sub(r"\1****", _URL_PASSWORD.sub(r"\1:****@", text))
    return _KEYWORD_PASSWORD.sub(r"\1****", text)


@db_app.command("migrate")
@fails_cleanly
def upgrade() -> None:
    """Create the roles and upgrade the schema to head (safe to run from many instances at once)."""
    from autoinvest.db import migrate, urls

    s = settings()
    admin = urls.admin_url(s, start=not s.database_url)
    with out.status("migrating…"):
        revision = migrate.upgrade(admin, app_password=s.app_db_password.get_secret_value())
    out.print(f"schema at revision {revision}")
