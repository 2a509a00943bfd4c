"""`autoinvest up`: the whole system in one process — database, paper exchange, every loop, HTTP, a live view."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import uvicorn
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from autoinvest import paper, runtime, worker
from autoinvest.config import Settings
from autoinvest.db import migrate, tx, urls
from autoinvest.db.tx import AppConnection, user_tx


class _Server(uvicorn.Server):
    """uvicorn without its own signal handlers: `up` owns SIGINT/SIGTERM and stops every part in order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass(frozen=True)
class UpOptions:
    port: int
    fast: bool
    poll_s: float = 1.0


async def run(settings: Settings, options: UpOptions, stop: asyncio.Event, console: Console) -> None:
    """Start everything, run until ``stop`` is set, then stop cleanly."""
    home = settings.home
    with console.status("starting the database…"):
        admin = urls.admin_url(settings, start=not settings.database_url)
        migrate.upgrade(admin, passwords=urls.role_passwords(settings))
    exchange = None
    if not settings.live:
        with console.status("starting the paper exchange…"):
            exchange = paper.start_exchange(home, speed=60.0 if options.fast else 1.0)
        settings = settings.model_copy(update={"exchange_url": exchange.url, **paper.vault_keys(home, settings)})
    try:
        conn = await tx.connect(urls.role_url(settings, "operator"))  # the demo's set-up is an operator's
        try:
            await tx.assert_safe_role(conn, "operator")
            await tx.assert_safe_url(urls.role_url(settings, "api"), "api")  # the worker checks its loops' roles
            demo = None
            if exchange is not None:
                demo = await paper.ensure_demo(conn, home, exchange, settings,
                                               scan_interval_s=10 if options.fast else 60)
            roles = runtime.ROLES
            app = runtime.http_app(settings, roles=roles, poll_s=options.poll_s)
            server = _Server(uvicorn.Config(app, host=settings.http_host, port=options.port, log_level="warning",
                                            lifespan="off"))
            venue = f"paper exchange at {exchange.url}" if exchange else f"LIVE at {settings.exchange_url}"
            console.print(f"[bold]Auto Invest Oracle[/bold] — {venue}; "
                          f"roles {', '.join(roles)}; http://{settings.http_host}:{options.port}/internal/health "
                          "and /metrics; Ctrl-C stops")
            tasks = [asyncio.create_task(worker.run(settings, roles, stop, poll_s=options.poll_s)),
                     asyncio.create_task(server.serve())]
            if demo is not None:
                tasks.append(asyncio.create_task(_live_view(conn, demo, exchange, stop, console)))  # type: ignore[arg-type]
            await stop.wait()
            server.should_exit = True
            await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            await conn.close()
    finally:
        if exchange is not None:
            exchange.stop()
    console.print("stopped cleanly; `autoinvest up` resumes where this run stopped"
                  + ("" if settings.database_url else "; the embedded database keeps running (`autoinvest db stop`)"))


async def _live_view(conn: AppConnection, demo: paper.Demo, exchange: paper.PaperExchange, stop: asyncio.Event,
                     console: Console) -> None:
    if not console.is_terminal:  # in a pipe or a log: one summary line every 10 s
        while not stop.is_set():
            snapshot = await _snapshot(conn, demo, exchange)
            latest = ", ".join(e["state"] + (f" ({e['reasons']})" if e["reasons"] else "")
                               for e in snapshot["executions"])
            console.print(f"prices {snapshot['prices']} latest executions [{latest}] "
                          f"positions {len(snapshot['positions'])} capital {snapshot['capital']}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 10)
        return
    with Live(console=console, auto_refresh=False) as live:
        while not stop.is_set():
            live.update(_render(await _snapshot(conn, demo, exchange)), refresh=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1)


async def _snapshot(conn: AppConnection, demo: paper.Demo, exchange: paper.PaperExchange) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=2) as client:
        try:
            prices = {p["market"]: p["price"] for p in (await client.get(exchange.url + "/ticker/price")).json()
                      if p["market"] in paper.DEMO_MARKETS}
        except httpx.HTTPError:
            prices = {}
    async with user_tx(conn, demo.user_id):
        proposals = await (await conn.execute(
            "SELECT market, side, coalesce(amount_eur::text, amount_base::text || ' base') AS amount, confidence,"
            " status, decided_by FROM trade_proposals WHERE profile_id = %s ORDER BY created_at DESC LIMIT 5",
            (demo.profile_id,))).fetchall()
        executions = await (await conn.execute(
            "SELECT market, side, state, array_to_string(reasons, ',') AS reasons FROM executions"
            " WHERE profile_id = %s ORDER BY created_at DESC LIMIT 5", (demo.profile_id,))).fetchall()
        positions = await (await conn.execute(
            "SELECT market, quantity, cost_basis_eur FROM positions WHERE profile_id = %s AND quantity > 0",
            (demo.profile_id,))).fetchall()
        capital = await (await conn.execute(
            "SELECT allocated, reserved_for_orders, reserved_for_positions, realized_pnl FROM capital_accounts"
            " WHERE profile_id = %s", (demo.profile_id,))).fetchone()
    return {"prices": prices, "proposals": proposals, "executions": executions, "positions": positions,
            "capital": {k: _text(v) for k, v in (capital or {}).items()}}


def _table(title: str, rows: list[dict[str, Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in (rows[0] if rows else {"—": ""}):
        table.add_column(column)
    for row in rows:
        table.add_row(*(_text(v) for v in row.values()))
    return table


def _text(value: object) -> str:
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return "" if value is None else str(value)


def _render(snapshot: dict[str, Any]) -> Group:
    prices = [{"market": m, "price": p} for m, p in snapshot["prices"].items()]
    return Group(_table("Prices", prices), _table("Proposals", snapshot["proposals"]),
                 _table("Executions", snapshot["executions"]), _table("Positions", snapshot["positions"]),
                 _table("Capital (EUR)", [snapshot["capital"]] if snapshot["capital"] else []))
