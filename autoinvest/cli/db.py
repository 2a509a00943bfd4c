"""`autoinvest db start | stop | status | url | migrate`: the embedded PostgreSQL server or DATABASE_URL."""

from __future__ import annotations

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
def url(role: str | None = typer.Option(None, "--role", help="Print this component role's URL instead: "
                                                          "scanner | trader | api | operator."),
        show_password: bool = typer.Option(False, "--show-password", help="Print the password too (it then shows in "
                                           "the terminal's scrollback and any log of this output).")) -> None:
    """Print the administrative URL (psql and psycopg accept it), or with --role a component's. The password is left
    out unless --show-password: psql then takes it from PGPASSWORD or ~/.pgpass."""
    from autoinvest.config import COMPONENTS
    from autoinvest.db import urls
    from autoinvest.errors import InputError

    s = settings()
    if role is not None and role not in COMPONENTS:
        raise InputError(f"--role {role!r} must be one of {', '.join(COMPONENTS)}", reason="ROLE_UNKNOWN")
    found = urls.role_url(s, role) if role is not None else urls.admin_url(s)  # type: ignore[arg-type]
    print(found if show_password else urls.without_password(found))


@db_app.command("migrate")
@fails_cleanly
def upgrade() -> None:
    """Create the roles and upgrade the schema to head (safe to run from many instances at once)."""
    from autoinvest.db import migrate, urls

    s = settings()
    admin = urls.admin_url(s, start=not s.database_url)
    with out.status("migrating…"):
        revision = migrate.upgrade(admin, passwords=urls.role_passwords(s))
    out.print(f"schema at revision {revision}")


@db_app.command("add-operator")
@fails_cleanly
def add_operator(name: str = typer.Argument(..., help="The person's name: lower-case letters, digits, _.")) -> None:
    """Give a person their own database login in the operator role (autoinvest_op_NAME), so that every audit row
    they write names them. The password is read from a hidden prompt (twice), or from standard input."""
    import sys

    from autoinvest.db import migrate, urls
    from autoinvest.errors import InputError

    s = settings()
    if sys.stdin.isatty():
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    if not password:
        raise InputError("no password given (type it at the prompt, or pipe it on standard input)",
                         reason="PASSWORD_TOO_SHORT")
    admin = urls.admin_url(s, start=not s.database_url)
    role = migrate.add_operator_login(admin, name, password)
    url = urls.without_password(urls.with_login(admin, role))
    out.print(f"{role} is ready: they set AUTOINVEST_OPERATOR_DATABASE_URL to {url} "
              "with their password added")
