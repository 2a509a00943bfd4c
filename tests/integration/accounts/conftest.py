"""Fixtures of the operator tests: vault keys, the CLI (subprocess and in-process), admin-side row counts."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from cryptography.fernet import Fernet
from psycopg import sql
from psycopg.rows import dict_row
from typer.testing import CliRunner

from autoinvest.cli import app
from autoinvest.config import Settings
from tests.support.database import DatabaseUnderTest
from tests.support.simulator import RunningSimulator

# Tables an operator command may write: "changes nothing" is checked over all of them.
WRITTEN_TABLES = ("users", "profiles", "profile_policies", "capital_accounts", "ledger_entries", "scan_jobs",
                  "exchange_credentials", "trade_proposals", "audit_log")


@dataclass(frozen=True)
class VaultKeys:
    readonly: str
    trade: str

    def env(self) -> dict[str, str]:
        return {"AUTOINVEST_VAULT_KEY_READONLY": self.readonly, "AUTOINVEST_VAULT_KEY_TRADE": self.trade}

    def settings(self, **changes: Any) -> Settings:
        values: dict[str, Any] = {"vault_key_readonly": self.readonly, "vault_key_trade": self.trade,
                                  "exchange_url": "http://127.0.0.1:8899/v2", **changes}
        return Settings(**values)


@dataclass(frozen=True)
class CliResult:
    code: int
    stdout: str
    stderr: str


@pytest.fixture(scope="session")
def vault_keys() -> VaultKeys:
    return VaultKeys(Fernet.generate_key().decode(), Fernet.generate_key().decode())


@pytest.fixture
def run_cli(db: DatabaseUnderTest, vault_keys: VaultKeys, simulator: RunningSimulator) -> Callable[..., CliResult]:
    """Run ``autoinvest ARGS`` as a real subprocess (about a second each: use sparingly). The exchange is the
    simulator: creating a profile or a proposal reads its market list."""

    def run(*args: str, stdin: str = "") -> CliResult:
        env = db.env(**vault_keys.env(), AUTOINVEST_EXCHANGE_URL=simulator.url)
        proc = subprocess.run([sys.executable, "-m", "autoinvest.cli", *args], env=env, input=stdin,
                              capture_output=True, text=True, timeout=60, check=False)
        return CliResult(proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture(scope="session")
def invoke(db: DatabaseUnderTest, vault_keys: VaultKeys, simulator: RunningSimulator) -> Callable[..., CliResult]:
    """Run the same typer app in-process (fast): for the many bad-input cases (the exchange: the simulator)."""
    runner = CliRunner()

    def run(*args: str, stdin: str = "", **env_changes: str | None) -> CliResult:
        env: dict[str, str | None] = {**db.env(**vault_keys.env(), AUTOINVEST_EXCHANGE_URL=simulator.url),
                                      **env_changes}  # None unsets a variable
        result = runner.invoke(app, list(args), env=env, input=stdin)  # stdin: where the API secret comes from
        return CliResult(result.exit_code, result.stdout, result.stderr)

    return run


@pytest.fixture(scope="session")
def admin(db: DatabaseUnderTest) -> Iterator[psycopg.Connection[dict[str, Any]]]:
    """A superuser connection (sees every tenant's rows, and the global audit rows)."""
    with psycopg.connect(db.admin_url, autocommit=True, row_factory=dict_row) as conn:
        yield conn


def row_counts(admin: psycopg.Connection[dict[str, Any]]) -> dict[str, int]:
    """How many rows each table an operator command may write holds."""
    counts: dict[str, int] = {}
    for table in WRITTEN_TABLES:
        row = admin.execute(sql.SQL("SELECT count(*) AS n FROM {}").format(sql.Identifier(table))).fetchone()
        assert row is not None
        counts[table] = int(row["n"])
    return counts
