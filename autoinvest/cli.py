"""Typer entry points only: parse, call one function, print, exit with a meaningful code."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console

from autoinvest import config
from autoinvest.errors import AutoInvestError
from autoinvest.observability import logging as logs

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Auto Invest Oracle: safe automated investing.")
db_app = typer.Typer(no_args_is_help=True, help="The database: embedded PostgreSQL or DATABASE_URL.")
app.add_typer(db_app, name="db")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
P = ParamSpec("P")
R = TypeVar("R")


def fails_cleanly(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn our errors into a one-line message on stderr and exit code 2 (no traceback, no secrets)."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except AutoInvestError as exc:
            err.print(f"[red]error[/red] {exc}", markup=True, highlight=False)
            raise typer.Exit(2) from None

    return wrapper


def settings() -> config.Settings:
    try:
        loaded = config.load_settings()
    except AutoInvestError as exc:
        err.print(f"[red]error[/red] {exc}", markup=True, highlight=False)
        raise typer.Exit(2) from None
    logs.configure(loaded.log_level, sys.stderr)
    return loaded


@db_app.command("start")
@fails_cleanly
def db_start() -> None:
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
def db_stop() -> None:
    """Stop the embedded PostgreSQL server."""
    from autoinvest.db import embedded

    s = settings()
    out.print("stopped" if embedded.stop(s.home) else "not running")


@db_app.command("status")
@fails_cleanly
def db_status() -> None:
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
def db_url(app_role: bool = typer.Option(False, "--app", help="Print the application role's URL instead.")) -> None:
    """Print the administrative URL (psql and psycopg accept it); --app prints the application's."""
    from autoinvest.db import urls

    s = settings()
    print(urls.app_url(s) if app_role else urls.admin_url(s))


@db_app.command("migrate")
@fails_cleanly
def db_migrate() -> None:
    """Create the roles and upgrade the schema to head (safe to run from many instances at once)."""
    from autoinvest.db import migrate, urls

    s = settings()
    url = urls.admin_url(s, start=not s.database_url)
    with out.status("migrating…"):
        revision = migrate.upgrade(url, app_password=s.app_db_password.get_secret_value())
    out.print(f"schema at revision {revision}")


@app.command("up")
@fails_cleanly
def up(port: int = typer.Option(8000, help="Port of /metrics and /internal/health."),
       fast: bool = typer.Option(False, "--fast", help="Run the paper exchange's clock 60x, scan every 10 s.")) -> None:
    """Start the whole system in paper-trading mode (what `make run` runs); Ctrl-C stops cleanly."""
    import asyncio
    import signal

    from autoinvest import up as up_module

    s = settings()
    log_path = s.home / "autoinvest.log"
    out.print(f"logs (JSON lines): {log_path}")

    async def go() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await up_module.run(s, up_module.UpOptions(port=port, fast=fast), stop, out)

    with log_path.open("a") as log_file:  # the terminal belongs to the live view
        logs.configure(s.log_level, log_file)
        asyncio.run(go())


@app.command("execute")
def execute(proposal: str = typer.Argument(..., help="Id of an approved proposal.")) -> None:
    """Execute one approved proposal: prints one JSON object; exit 0 submitted/filled, 3 rejected,
    4 already claimed, 5 outcome unknown, 6 waiting for a live entry of the same market."""
    import asyncio
    import json
    from uuid import UUID

    from autoinvest import runtime
    from autoinvest.db import tx, urls
    from autoinvest.execution.service import execute as run

    s = settings()
    try:
        proposal_id = UUID(proposal)
    except ValueError:
        err.print(f"[red]error[/red] [INPUT_INVALID] {proposal!r} is not a proposal id (a UUID)")
        raise typer.Exit(2) from None

    async def go() -> dict[str, object]:
        conn = await tx.connect(urls.app_url(s))
        try:
            result = await run(conn, proposal_id, clients_for=runtime.executor_clients(s),
                               settings=runtime.submit_settings(s))
        finally:
            await conn.close()
        return result.to_json() | {"exit_code": int(result.exit_code)}

    try:
        payload = asyncio.run(go())
    except AutoInvestError as exc:
        err.print(f"[red]error[/red] {exc}", markup=True, highlight=False)
        raise typer.Exit(2) from None
    code = int(str(payload.pop("exit_code")))
    print(json.dumps(payload))
    raise typer.Exit(code)


@app.command("worker")
@fails_cleanly
def worker(roles: str = typer.Option("executor,resolver,monitor", help="Comma-separated roles to run."),
           poll_s: float = typer.Option(1.0, help="Polling interval of each loop, seconds.")) -> None:
    """Run worker loops until SIGINT/SIGTERM (several workers on one database are safe)."""
    import asyncio
    import signal

    from autoinvest import worker as worker_module

    s = settings()
    chosen = worker_module.parse_roles(roles)

    async def go() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        err.print(f"worker {', '.join(chosen)} running; Ctrl-C stops")
        await worker_module.run(s, chosen, stop, poll_s=poll_s)

    asyncio.run(go())


@app.command("exchange-sim")
def exchange_sim(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8899, help="Port to listen on."),
    seed: int = typer.Option(1, help="Seed of the deterministic price model."),
    admin: bool = typer.Option(False, "--admin", help="Serve the /_sim admin API (tests and demos only)."),
    state: Path | None = typer.Option(None, help="Keep the exchange state in this file across restarts."),
    speed: float = typer.Option(1.0, help="Simulated clock speed (1 = real time, 0 = paused)."),
    rate_limit: int = typer.Option(1000, help="Weight points per minute per key or IP."),
    log_level: str = typer.Option("warning", help="uvicorn log level."),
    candles: Path | None = typer.Option(
        None, help="Replay this CSV of candles (market,timestamp,open,high,low,close,volume) for the markets it "
                   "has; the others walk.",
    ),
    replay_from: int | None = typer.Option(
        None, help="CSV time (epoch ms) at which the replay starts (default: the last candle at most 3 days after "
                   "the file's first candle).",
    ),
) -> None:
    """Run the Bitvavo-compatible exchange simulator (paper trading; not part of production)."""
    # The CLI is an entry point, not production code: the simulator is started here and nowhere else.
    from rich.markup import escape

    from autoinvest.simulator.replay import ReplayError
    from autoinvest.simulator.server import serve

    try:
        serve(
            host=host, port=port, seed=seed, admin=admin, state=state, speed=speed, rate_limit=rate_limit,
            log_level=log_level, candles=candles, replay_from=replay_from,
        )
    except ReplayError as exc:  # refused at start, before listening
        err.print(f"[red]error[/red] {escape(str(exc))}", markup=True, highlight=False)
        raise typer.Exit(2) from None


from autoinvest.operator.cli import credentials_app, kill_switch, profiles_app, proposals_app, users_app  # noqa: E402

app.add_typer(users_app, name="users")
app.add_typer(profiles_app, name="profiles")
app.add_typer(credentials_app, name="credentials")
app.add_typer(proposals_app, name="proposals")
app.command("kill-switch")(kill_switch)

from autoinvest.ledger.cli import ledger_app  # noqa: E402
from autoinvest.reconcile.cli import reconcile  # noqa: E402

app.add_typer(ledger_app, name="ledger")
app.command("reconcile")(reconcile)

if __name__ == "__main__":
    app()
