"""`autoinvest credentials set`: a user's exchange key for one purpose, its secret encrypted by that purpose's vault
key."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

import typer

from autoinvest.cli._common import actor, fails_cleanly, owner, parse_id, run, settings

if TYPE_CHECKING:
    from autoinvest.db.tx import AppConnection

credentials_app = typer.Typer(no_args_is_help=True, help="Exchange API keys, secrets encrypted per purpose.")


@credentials_app.command("set")
@fails_cleanly
def set_credential(
    user: str = typer.Option(..., "--user", help="Owner's user id."),
    purpose: str = typer.Option(..., "--purpose", help="readonly | trade."),
    key: str = typer.Option(..., "--key", help="The exchange API key."),
    secret: str = typer.Option(..., "--secret", prompt="API secret", hide_input=True,
                               help="The exchange API secret (prompted, hidden, when omitted)."),
    exchange_url: str | None = typer.Option(None, "--exchange-url", help="Exchange base URL for this key."),
) -> None:
    """Store a user's exchange key for a purpose (replacing any previous one); prints the credential id."""
    from autoinvest.accounts import inputs, vault
    from autoinvest.db.tx import user_tx

    user_id = parse_id(user, field="--user")
    key_purpose = inputs.parse_purpose(purpose)
    s = settings()
    vault.encrypt(s, key_purpose, "probe")  # a missing or bad vault key fails before connecting

    async def work(conn: AppConnection) -> UUID:
        user_owner = await owner(conn, "user", user_id)
        async with user_tx(conn, user_owner):
            return await vault.set_credential(conn, user_owner, key_purpose, key, secret, s,
                                              exchange_url=exchange_url, actor=actor())

    print(run(s, work))
