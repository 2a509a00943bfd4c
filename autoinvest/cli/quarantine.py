"""`autoinvest quarantine list`: the exchange items refused at the edge, across tenants (runbook
``exchange-item-quarantined``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from autoinvest.cli._common import fails_cleanly, print_json, run, settings

if TYPE_CHECKING:
    from autoinvest.db.tx import AppConnection
    from autoinvest.lifecycle.quarantine import Quarantined

quarantine_app = typer.Typer(no_args_is_help=True, help="Exchange items refused at the edge and kept aside.")


@quarantine_app.command("list")
@fails_cleanly
def list_items() -> None:
    """Print every quarantined item as JSON lines, newest first: ids, endpoint, reason, first/last seen, count."""
    from autoinvest.lifecycle import quarantine

    async def work(conn: AppConnection) -> list[Quarantined]:
        return await quarantine.summary(conn)

    for item in run(settings(), work):
        print_json({"id": str(item.id), "user_id": str(item.user_id), "endpoint": item.endpoint,
                    "reason": item.reason, "first_seen": item.first_seen.isoformat(),
                    "last_seen": item.last_seen.isoformat(), "seen_count": item.seen_count})
