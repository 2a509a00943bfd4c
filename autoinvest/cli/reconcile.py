"""`autoinvest reconcile [--profile ID | --user ID]`: one reconciliation pass, printed as JSON (exit 0 even with
mismatches: they were repaired or reported; exit 2 on an error)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any
from uuid import UUID

import typer

from autoinvest.cli._common import fails_cleanly, out, parse_id, print_json, settings
from autoinvest.errors import InputError

if TYPE_CHECKING:
    from autoinvest.db.tx import AppConnection
    from autoinvest.exchange.base import MarketData


@fails_cleanly
def reconcile(profile: str | None = typer.Option(None, "--profile", help="Reconcile only this profile."),
              user: str | None = typer.Option(None, "--user", help="Reconcile only this user's exchange account."),
              summary: bool = typer.Option(False, "--summary", help="Print a table instead of JSON.")) -> None:
    """Compare the database with the exchange once (orders, fills, balances), repair through the lifecycle,
    record a reconciliation_runs row per profile and print the report."""
    from autoinvest import runtime
    from autoinvest.db import urls
    from autoinvest.db.tx import connect
    from autoinvest.reconcile.service import reconcile_all, reconcile_users

    profile_id = None if profile is None else parse_id(profile, field="--profile")
    user_id = None if user is None else parse_id(user, field="--user")
    if profile_id is not None and user_id is not None:
        raise InputError("give --profile or --user, not both", reason="SCOPE_INVALID")
    s = settings()

    async def reader_for(conn: AppConnection, owner: UUID) -> MarketData:
        return await runtime.reader_for(conn, owner, s)

    async def main() -> dict[str, Any]:
        conn = await connect(urls.app_url(s))
        try:
            if user_id is not None:
                return (await reconcile_users(conn, reader_for, [user_id])).to_json()
            return (await reconcile_all(conn, reader_for, profile_id=profile_id)).to_json()
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
        for run in account["profiles"]:
            found = ", ".join(f"{k}={n}" for k, n in run["mismatches"].items() if n) or "none"
            table.add_row(account["user_id"], run["profile_id"], run["status"], found)
        if account["skipped"]:
            table.add_row(account["user_id"], "-", "skipped", str(account["skipped"]))
    out.print(table)
