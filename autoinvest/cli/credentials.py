"""`autoinvest credentials set | rotate-vault-key`: a user's exchange key for one purpose, its secret encrypted by
that purpose's vault key; re-encrypting every row of a purpose under a new vault key.

The secret is never an argument (the process list, shell history and CI logs show arguments): it comes from a
hidden prompt, standard input or a file only the operator can read."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

import typer

from autoinvest import config
from autoinvest.cli._common import actor, fails_cleanly, owner, parse_id, run, settings
from autoinvest.errors import InputError

if TYPE_CHECKING:
    from autoinvest.accounts.vault import Rotation
    from autoinvest.db.tx import AppConnection

credentials_app = typer.Typer(no_args_is_help=True, help="Exchange API keys, secrets encrypted per purpose.")


def read_secret(secret_file: Path | None) -> str:
    """The secret from ``secret_file`` (its first line; refused when group or others may read it), else from a
    hidden prompt on a terminal, else the first line of standard input. Never echoed."""
    if secret_file is not None:
        try:
            mode = secret_file.stat().st_mode
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise InputError(f"--secret-file {secret_file} may be read by group or others (mode "
                                 f"{stat.S_IMODE(mode):o}): `chmod 600` it first", reason="SECRET_FILE_TOO_OPEN")
            lines = secret_file.read_text().splitlines()
        except OSError as exc:
            raise InputError(f"--secret-file {secret_file} cannot be read ({exc.strerror})",
                             reason="SECRET_FILE_UNREADABLE") from None
    elif sys.stdin.isatty():
        lines = [typer.prompt("API secret", hide_input=True, default="", show_default=False)]
    else:
        lines = [sys.stdin.readline()]
    secret = lines[0].strip() if lines else ""
    if not secret:
        raise InputError("no API secret given: type it at the prompt, pipe it on standard input or name a file "
                         "with --secret-file", reason="SECRET_EMPTY")
    return secret


@credentials_app.command("set")
@fails_cleanly
def set_credential(
    user: str = typer.Option(..., "--user", help="Owner's user id."),
    purpose: str = typer.Option(..., "--purpose", help="readonly | trade."),
    key: str = typer.Option(..., "--key", help="The exchange API key (64 characters)."),
    secret_file: Path | None = typer.Option(None, "--secret-file", help="Read the API secret from this file (first "
                                            "line; mode 600). Without it: a hidden prompt, or standard input."),
    exchange_url: str | None = typer.Option(None, "--exchange-url", help="Exchange base URL for this key."),
) -> None:
    """Store a user's exchange key for a purpose (replacing any previous one) once the exchange has shown what it
    may do: a read-only key refused trading, a trade key refused withdrawals, both keys on one account. Prints the
    credential id."""
    from autoinvest.accounts import inputs, vault

    user_id = parse_id(user, field="--user")
    key_purpose = inputs.parse_purpose(purpose)
    secret = read_secret(secret_file)
    vault.check_format(key.strip(), secret)
    s = settings()
    vault.check_key(s, key_purpose)  # a missing or bad vault key fails before connecting
    if exchange_url is not None:  # before the verification's probes: a key goes to no exchange it may not use
        config.check_exchange_url(exchange_url, live=s.live, what="--exchange-url", error=InputError)

    async def work(conn: AppConnection) -> UUID:
        user_owner = await owner(conn, "user", user_id)
        # Verified against the exchange first (with the other purpose's key, when stored): a refusal stores nothing.
        return await vault.store_verified(conn, user_owner, key_purpose, key, secret, s,
                                          exchange_url=exchange_url, actor=actor())

    print(run(s, work))


@credentials_app.command("rotate-vault-key")
@fails_cleanly
def rotate_vault_key(purpose: str = typer.Option(..., "--purpose", help="readonly | trade.")) -> None:
    """Re-encrypt every stored secret of a purpose under AUTOINVEST_VAULT_KEY_<PURPOSE>, reading the rows still
    under AUTOINVEST_VAULT_KEY_<PURPOSE>_PREVIOUS (or in the unbound format of before); each row audited. Safe to
    run again. Prints JSON; exit 0 when every row is under the current key, 1 when some row could not be read."""
    from autoinvest.accounts import inputs, vault

    key_purpose = inputs.parse_purpose(purpose)
    s = settings()
    vault.check_key(s, key_purpose)
    who = actor()

    async def work(conn: AppConnection) -> Rotation:
        return await vault.rotate_key(conn, s, key_purpose, actor=who)

    result = run(s, work)
    print(json.dumps(result.to_json(), sort_keys=True))
    raise typer.Exit(1 if result.failed else 0)

