"""`autoinvest reconcile [--profile ID | --user ID]`: one reconciliation pass, printed as JSON (exit 0 even with
mismatches: they were repaired or reported; exit 2 on an error). `autoinvest reconcile pending` lists the coin
shortfalls waiting for an operator and the unmanaged holdings; `autoinvest reconcile ack --profile ID` books a
profile's pending shortfalls (audited)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any
from uuid import UUID

import typer

from autoinvest.cli._common import actor, fails_cleanly, out, owner, parse_id, print_json, run, settings
from autoinvest.errors import InputError

if TYPE_CHECKING:
    from autoinvest.db.tx import AppConnection
    from autoinvest.exchange.base import MarketData


reconcile_app = typer.Typer(help="Converge the database to the exchange; acknowledge shortfalls.")


@reconcile_app.callback(invoke_without_command=True)
def reconcile(ctx: typer.Context,
              profile: str | None = typer.Option(None, "--profile", help="Reconcile only this profile."),
              user: str | None = typer.Option(None, "--user", help="Reconcile only this user's exchange account."),
              summary: bool = typer.Option(False, "--summary", help="Print a table instead of JSON.")) -> None:
    """Compare the database with the exchange once (orders, fills, balances), repair through the lifecycle,
    record a reconciliation_runs row per profile and print the report."""
    if ctx.invoked_subcommand is None:
        _reconcile(profile, user, summary)


@fails_cleanly
def _reconcile(profile: str | None, user: str | None, summary: bool) -> None:
    from autoinvest import runtime
    from autoinvest.db import urls
    from autoinvest.db.tx import connect
    from autoinvest.reconcile.service import reconcile_all, reconcile_users

    profile_id = None if profile is None else parse_id(profile, field="--profile")
    user_id = None if user is None else parse_id(user, field="--user")
    if profile_id is not None and user_id is not None:
        raise InputError("give --profile or --user, not both", reason="SCOPE_INVALID")
    s = settings()

    async def reader_for(conn: AppConnection, owner_id: UUID) -> MarketData:
        return await runtime.reader_for(conn, owner_id, s)

    async def main() -> dict[str, Any]:
        conn = await connect(urls.role_url(s, "trader"))
        try:
            if user_id is not None:
                return (await reconcile_users(conn, reader_for, [user_id],
                                              ack_above_eur=s.reconcile_ack_above_eur)).to_json()
            return (await reconcile_all(conn, reader_for, profile_id=profile_id,
                                        ack_above_eur=s.reconcile_ack_above_eur)).to_json()
        finally:
            await conn.close()

    report = asyncio.run(main())
    if summary:
        _print_summary(report)
    else:
        print_json(report)


def _print_summary(report: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title="reconciliation")
    for column in ("user", "profile", "status", "mismatches"):
        table.add_column(column)
    for account in report["accounts"]:
        for prun in account["profiles"]:
            found = ", ".join(f"{k}={n}" for k, n in prun["mismatches"].items() if n) or "none"
            table.add_row(account["user_id"], prun["profile_id"], prun["status"], found)
        if account["skipped"]:
            table.add_row(account["user_id"], "-", "skipped", str(account["skipped"]))
    out.print(table)


@reconcile_app.command("pending")
@fails_cleanly
def pending(user: str = typer.Option(..., "--user", help="The user whose account to show.")) -> None:
    """Print the user's coin shortfalls waiting for `reconcile ack` and their unmanaged holdings, as JSON."""
    from autoinvest.db.tx import user_tx
    from autoinvest.reconcile import adjustments, unmanaged

    user_id = parse_id(user, field="--user")

    async def work(conn: AppConnection) -> dict[str, Any]:
        async with user_tx(conn, user_id):
            items = await adjustments.pending(conn)
            held = await unmanaged.holdings(conn)
        return {"user_id": str(user_id), "unmanaged": {a: str(n) for a, n in held.items()},
                "pending": [{"id": str(i.id), "profile_id": str(i.profile_id), "market": i.market,
                             "d_quantity": str(i.d_quantity), "value_eur": str(i.value_eur)} for i in items]}

    print_json(run(settings(), work))


@reconcile_app.command("ack")
@fails_cleanly
def ack(profile: str = typer.Option(..., "--profile", help="The profile whose pending shortfalls to book.")) -> None:
    """Book the profile's pending coin shortfalls as ADJUST entries (audited as reconcile.adjust_ack). The profile
    stays paused: switch it back on with `autoinvest kill-switch` once the cause is known."""
    from autoinvest.reconcile.repair import acknowledge

    profile_id = parse_id(profile, field="--profile")
    who = actor()

    async def work(conn: AppConnection) -> list[dict[str, str]]:
        user_id = await owner(conn, "profile", profile_id)
        done = await acknowledge(conn, user_id, profile_id, actor=who)
        return [{"market": d.market, "d_quantity": str(d.d_quantity), "adjust_eur": str(d.d_cost_basis_eur)}
                for d in done]

    print_json({"profile_id": str(profile_id), "booked": run(settings(), work)})
