"""Run the real CLI in subprocesses against the test database and simulator."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from tests.support.database import DatabaseUnderTest
from tests.support.simulator import RunningSimulator
from tests.support.trading import vault_env

CLI = [sys.executable, "-m", "autoinvest.cli"]


def env_for(db: DatabaseUnderTest, sim: RunningSimulator, **extra: str) -> dict[str, str]:
    """The environment of a process on ``sim``; ``extra`` adds or overrides settings."""
    defaults = {"AUTOINVEST_EXCHANGE_URL": sim.url, "AUTOINVEST_ACCESS_WINDOW_MS": "2000",
                "AUTOINVEST_CLOCK_SKEW_MS": "500", "AUTOINVEST_RESOLVER_GRACE_S": "3", **vault_env()}
    return db.env(**(defaults | extra))


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([*CLI, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def execute_result(proc: subprocess.Popen[str], timeout: float = 120) -> tuple[int, dict[str, Any] | None, str]:
    out, err = proc.communicate(timeout=timeout)
    payload = json.loads(out) if out.strip() else None
    return proc.returncode, payload, err
