"""`autoinvest reconcile [--profile ID]`: one reconciliation pass, printed as JSON (exit 0 even with mismatches:
they were repaired or reported; exit 2 on an error)."""

from __future__ import annotations

import asyncio
import json
from uuid import UUID

import typer

from autoinvest.errors import InputError


def reconcile(profile: str | None = typer.Option(None, "--profile", help="Reconcile only this profile."),
              user: str | None = typer.Option(None, "--user", help="Reconcile only this user's exchange account."),
              summary: bool = typer.Option(False, "--summary", help="Print a table instead of JSON.")) -> None:
    """Compare the database with the exchange once (orders, fills, balances), repair through the lifecycle,
    record a reconciliation_runs row per profile and print the report."""
    import autoinvest.cli as root

    @root.fails_cleanly
    def go() -> dict[str, object]:
        from autoinvest import runtime
        from autoinvest.db import urls
        from autoinvest.db.tx import AppConnection, connect
        from autoinvest.exchange.base import MarketData
        from autoinvest.reconcile.service import reconcile_all, reconcile_users

        try:
            profile_id = None if profile is None else UUID(profile)
            user_id = None if user is None else UUID(user)
        except ValueError:
            raise InputError("--profile and --user take ids (UUIDs)") from None
        if profile_id is not None and user_id is not None:
            raise InputError("give --profile or --user, not both")
        settings = root.settings()

        async def reader_for(conn: AppConnection, user_id: UUID) -> MarketData:
            return await runtime.reader_for(conn, user_id, settings)

        async def main() -> dict[str, object]:
            conn = await connect(urls.app_url(settings))
            try:
                if user_id is not None:
                    return (await reconcile_users(conn, reader_for, [user_id])).to_json()
                return (await reconcile_all(conn, reader_for, profile_id=profile_id)).to_json()
            finally:
                await conn.close()

        return asyncio.run(main())

    report = go()
    if not summary:
        print(json.dumps(report, sort_keys=True))
        return
    from rich.table import Table

    table = Table(title="reconciliation")
    for column in ("user", "profile", "status", "mismatches"):
        table.add_column(column)
    accounts = report["accounts"]
    assert isinstance(accounts, list)
    for account in accounts:
        for run in account["profiles"]:
            found = ", ".join(f"{k}={n}" for k, n in run["mismatches"].items() if n) or "none"
            table.add_row(account["user_id"], run["profile_id"], run["status"], found)
        if account["skipped"]:
            table.add_row(account["user_id"], "-", "skipped", str(account["skipped"]))
    root.out.print(table)
