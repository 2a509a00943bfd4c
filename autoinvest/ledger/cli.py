"""`autoinvest ledger check | rebuild`: compare capital accounts with their entries, repair one from its entries."""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar
from uuid import UUID

import typer

from autoinvest.errors import InputError

if TYPE_CHECKING:
    from autoinvest.config import Settings
    from autoinvest.db.tx import AppConnection

T = TypeVar("T")

ledger_app = typer.Typer(no_args_is_help=True, help="The capital ledger: check accounts against entries, rebuild.")


def _run(settings: Settings, work: Callable[[AppConnection], Awaitable[T]]) -> T:
    from autoinvest.db import urls
    from autoinvest.db.tx import run_with_connection

    return run_with_connection(urls.app_url(settings), work)


def _profile_id(text: str | None) -> UUID | None:
    if text is None:
        return None
    try:
        return UUID(text)
    except ValueError:
        raise InputError(f"{text!r} is not a profile id (a UUID)", reason="INPUT_INVALID") from None


@ledger_app.command("check")
def check(profile: str | None = typer.Option(None, "--profile", help="Check only this profile's account."),
          as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of lines.")) -> None:
    """Rebuild every capital account from its entries and compare: exit 0 when all agree, 1 on any difference
    (each printed), 2 on an error."""
    # Imported when the command runs: autoinvest.cli imports this module to register the sub-app.
    import autoinvest.cli as root

    @root.fails_cleanly
    def go() -> list[dict[str, object]]:
        from autoinvest.reconcile.ledger_audit import check_all

        profile_id = _profile_id(profile)
        results = _run(root.settings(), lambda conn: check_all(conn, profile_id))
        return [r.to_json() | {"clean": r.clean} for r in results]

    results = go()
    bad = [r for r in results if not r["clean"]]
    if as_json:
        print(json.dumps({"accounts": len(results), "differences": bad}, sort_keys=True))
    else:
        for r in bad:
            print(f"DIFFERENCE profile {r['profile_id']} (user {r['user_id']}): drift {r['drift']}"
                  + (f"; invariant: {r['invariant_error']}" if r["invariant_error"] else ""))
        print(f"ledger check: {len(results)} account(s), {len(bad)} with a difference")
    raise typer.Exit(1 if bad else 0)


@ledger_app.command("rebuild")
def rebuild(profile: str = typer.Option(..., "--profile", help="The profile whose account to repair.")) -> None:
    """Overwrite a profile's materialised account with the sum of its entries (audited as ledger.rebuild);
    refused, changing nothing, if the result would break the capital invariant."""
    # Imported when the command runs: autoinvest.cli imports this module to register the sub-app.
    import autoinvest.cli as root

    @root.fails_cleanly
    def go() -> dict[str, object]:
        from autoinvest.reconcile.ledger_audit import rebuild_profile

        profile_id = _profile_id(profile)
        assert profile_id is not None
        actor = f"operator:{os.environ.get('USER') or 'cli'}"
        before, after = _run(root.settings(), lambda conn: rebuild_profile(conn, profile_id, actor=actor))
        return {"profile_id": str(profile_id), "changed": before != after,
                "before": {k: str(v) for k, v in vars(before).items()},
                "after": {k: str(v) for k, v in vars(after).items()}}

    print(json.dumps(go(), sort_keys=True))
