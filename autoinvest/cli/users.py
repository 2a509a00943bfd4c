"""`autoinvest users create EMAIL`."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

import typer

from autoinvest.cli._common import actor, fails_cleanly, run, settings

if TYPE_CHECKING:
    from autoinvest.db.tx import AppConnection

users_app = typer.Typer(no_args_is_help=True, help="Users (tenants).")


@users_app.command("create")
@fails_cleanly
def create(email: str = typer.Argument(..., help="The user's e-mail address.")) -> None:
    """Create a user; prints the new user id."""
    from autoinvest.accounts import inputs, users
    from autoinvest.db.tx import user_tx

    address = inputs.parse_email(email)
    s = settings()

    async def work(conn: AppConnection) -> UUID:
        user_id = users.new_user_id()
        async with user_tx(conn, user_id):
            return await users.create_user(conn, user_id, address, actor=actor())

    print(run(s, work))
