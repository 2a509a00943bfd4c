"""`autoinvest up | worker | exchange-sim`: the long-running processes. Ctrl-C (or SIGTERM) stops each cleanly."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

import typer

from autoinvest.cli._common import EXIT_ERROR, err, fails_cleanly, out, settings
from autoinvest.observability import logging as logs


def _until_signalled(main: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    async def go() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await main(stop)

    asyncio.run(go())


@fails_cleanly
def up(port: int = typer.Option(8000, help="Port of /metrics and /internal/health."),
       fast: bool = typer.Option(False, "--fast", help="Run the paper exchange's clock 60x, scan every 10 s.")) -> None:
    """Start the whole system in paper-trading mode (what `make run` runs); Ctrl-C stops cleanly."""
    import autoinvest.up

    s = settings()
    log_path = s.home / "autoinvest.log"
    out.print(f"logs (JSON lines): {log_path}")
    with log_path.open("a") as log_file:  # the terminal belongs to the live view
        logs.configure(s.log_level, log_file)
        _until_signalled(lambda stop: autoinvest.up.run(s, autoinvest.up.UpOptions(port=port, fast=fast), stop, out))


@fails_cleanly
def worker(roles: str = typer.Option("executor,resolver,monitor", help="Comma-separated roles to run."),
           poll_s: float = typer.Option(1.0, help="Polling interval of each loop, seconds.")) -> None:
    """Run worker loops until SIGINT/SIGTERM (several workers on one database are safe)."""
    import autoinvest.worker
    from autoinvest import runtime

    s = settings()
    chosen = runtime.parse_roles(roles)
    err.print(f"worker {', '.join(chosen)} running; Ctrl-C stops")
    _until_signalled(lambda stop: autoinvest.worker.run(s, chosen, stop, poll_s=poll_s))


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
        serve(host=host, port=port, seed=seed, admin=admin, state=state, speed=speed, rate_limit=rate_limit,
              log_level=log_level, candles=candles, replay_from=replay_from)
    except ReplayError as exc:  # refused at start, before listening
        err.print(f"[red]error[/red] {escape(str(exc))}", markup=True, highlight=False)
        raise typer.Exit(EXIT_ERROR) from None
