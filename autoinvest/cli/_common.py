"""What every command shares: the consoles, the one error wrapper, settings, the audit actor, id parsing, and
"run this as the owner of id X".

Commands connect as the operator role (row-level security applies), or as the trader role for the few that do a
trader's work (`execute`, `reconcile run`); the owning user is found from an id with ``owner_of`` and every
change runs inside that user's ``user_tx``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import TYPE_CHECKING, ParamSpec, TypeVar
from uuid import UUID

import typer
from rich.console import Console
from rich.markup import escape

from autoinvest import config
from autoinvest.errors import AutoInvestError
from autoinvest.observability import logging as logs

if TYPE_CHECKING:
    from autoinvest.db.ids import OwnedKind
    from autoinvest.db.tx import AppConnection

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

#: Exit code of a command refused by our error tree (bad input, a refused change, a database or exchange error).
EXIT_ERROR = 2

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def report(exc: AutoInvestError) -> None:
    """One line on stderr: the reason code and the message (never a traceback, never a secret)."""
    err.print(f"[red]error[/red] {escape(str(exc))}", markup=True, highlight=False)


def fails_cleanly(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn our errors into one stderr line and exit code 2."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except AutoInvestError as exc:
            report(exc)
            raise typer.Exit(EXIT_ERROR) from None

    return wrapper


def settings() -> config.Settings:
    """The settings from the environment (a bad one exits 2 naming the variable); logs go to stderr."""
    try:
        loaded = config.load_settings()
    except AutoInvestError as exc:
        report(exc)
        raise typer.Exit(EXIT_ERROR) from None
    logs.configure(loaded.log_level, sys.stderr)
    return loaded


def actor() -> str:
    """Who is at the keyboard, for the audit log: the one spelling of an operator."""
    return f"operator:{os.environ.get('USER') or 'cli'}"


def parse_id(text: str, *, field: str) -> UUID:
    """An id given on the command line (a UUID), or InputError naming the field."""
    from autoinvest.accounts import inputs

    return inputs.parse_uuid(text, field=field)


def run(s: config.Settings, work: Callable[[AppConnection], Awaitable[T]]) -> T:
    """Run ``work`` on one connection of the operator's role."""
    from autoinvest.db import urls
    from autoinvest.db.tx import run_with_connection

    return run_with_connection(urls.role_url(s, "operator"), work)


async def owner(conn: AppConnection, kind: OwnedKind, object_id: UUID) -> UUID:
    """The user who owns ``object_id`` (NotFound otherwise): the tenant to run the change as."""
    from autoinvest.db.ids import owner_of

    return await owner_of(conn, kind, object_id)


def print_json(value: object) -> None:
    print(json.dumps(value, sort_keys=True))
