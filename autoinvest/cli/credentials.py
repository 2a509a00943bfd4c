"""`autoinvest credentials set`: a user's exchange key for one purpose, its secret encrypted by that purpose's vault
key."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

import typer

from autoinvest import config
from autoinvest.cli._common import actor, fails_cleanly, owner, parse_id, run, settings
from autoinvest.errors import InputError

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
    """Store a user's exchange key for a purpose (replacing any previous one) once the exchange has shown what it
    may do: a read-only key refused trading, a trade key refused withdrawals, both keys on one account. Prints the
    credential id."""
    from autoinvest.accounts import inputs, vault

    user_id = parse_id(user, field="--user")
    key_purpose = inputs.parse_purpose(purpose)
    s = settings()
    vault.encrypt(s, key_purpose, "probe")  # a missing or bad vault key fails before connecting
    if exchange_url is not None:  # before the verification's probes: a key goes to no exchange it may not use
        config.check_exchange_url(exchange_url, live=s.live, what="--exchange-url", error=InputError)

    async def work(conn: AppConnection) -> UUID:
        user_owner = await owner(conn, "user", user_id)
        # Verified against the exchange first (with the other purpose's key, when stored): a refusal stores nothing.
        return await vault.store_verified(conn, user_owner, key_purpose, key, secret, s,
                                          exchange_url=exchange_url, actor=actor())

    print(run(s, work))
