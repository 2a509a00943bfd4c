"""Import boundaries (ARCHITECTURE.md guarantee 3 and the rules of the house), checked by import-linter.

The first test runs ``lint-imports`` on the real tree with the repository's
``.importlinter``. The others copy the package to a temporary directory, plant
one forbidden import per contract, and prove that the same configuration
breaks: a contract that cannot fail would prove nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    # cwd first on the path: lint-imports then analyses the copy in cwd, not the installed package.
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(cwd / ".importlinter"), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_import_contracts_are_kept() -> None:
    result = _lint(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


# (contract name, files to plant relative to the copied tree: path -> source)
VIOLATIONS: dict[str, tuple[str, dict[str, str]]] = {
    "scanner imports trade": (
        "Scheduler, scanner and proposers never import the trade client",
        {"autoinvest/scanner/__init__.py": "from autoinvest.exchange import trade\n"},
    ),
    "proposers import trade indirectly": (
        "Scheduler, scanner and proposers never import the trade client",
        {
            "autoinvest/proposers/__init__.py": "",
            "autoinvest/proposers/llm.py": "import autoinvest.execution.planted_helper\n",
            "autoinvest/execution/planted_helper.py": "from autoinvest.exchange.trade import trading\n",
        },
    ),
    "scheduler imports trade": (
        "Scheduler, scanner and proposers never import the trade client",
        {"autoinvest/scheduler/planted.py": "from autoinvest.exchange.trade import trading\n"},
    ),
    "production imports simulator": (
        "Production code never imports the simulator",
        {"autoinvest/ledger/planted.py": "import autoinvest.simulator\n"},
    ),
    "policy does I/O": (
        "The pure core does no I/O",
        {"autoinvest/policy/planted.py": "import httpx\n"},
    ),
    "the reason catalogue does I/O": (
        "The pure core does no I/O",
        {"autoinvest/reasons.py": "import httpx\n"},
    ),
    "the fill arithmetic reaches the database": (
        "The pure core does no I/O",
        {"autoinvest/lifecycle/fills.py": "import psycopg\n"},
    ),
    "domain imports ccxt": (
        "The pure core does no I/O",
        {"autoinvest/domain/planted.py": "import ccxt.async_support\n"},
    ),
    "ccxt outside exchange": (
        "Only autoinvest.exchange imports ccxt",
        {"autoinvest/execution/planted.py": "import ccxt\n"},
    ),
    "scanner builds its own session": (
        "Only autoinvest.exchange imports its private modules",
        {"autoinvest/scanner/planted.py": "from autoinvest.exchange._session import Session\n"},
    ),
    "scanner takes the endpoint table": (
        "Only autoinvest.exchange imports its private modules",
        {"autoinvest/scanner/planted.py": "from autoinvest.exchange import _endpoints\n"},
    ),
    "lifecycle imports execution": (
        "Layers: each module imports only the layers below it",
        {"autoinvest/lifecycle/planted.py": "from autoinvest.execution import claim\n"},
    ),
    "db imports the audit log": (
        "Layers: each module imports only the layers below it",
        {"autoinvest/db/planted.py": "import autoinvest.audit\n"},
    ),
    "the ledger imports the accounts": (
        "Layers: each module imports only the layers below it",
        {"autoinvest/ledger/planted.py": "from autoinvest.accounts import profiles\n"},
    ),
    "a scanner and a reconciler know each other": (
        "Layers: each module imports only the layers below it",
        {"autoinvest/scanner/planted.py": "import autoinvest.reconcile.run\n"},
    ),
    "a new top-level package nobody placed": (
        "Layers: each module imports only the layers below it",
        {"autoinvest/newthing/__init__.py": ""},
    ),
    "psycopg outside db": (
        "Only autoinvest.db imports psycopg",
        {"autoinvest/reconcile/__init__.py": "from psycopg import sql\n"},
    ),
}


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "autoinvest", tmp_path / "autoinvest", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / ".importlinter", tmp_path / ".importlinter")
    return tmp_path


def test_the_copy_alone_keeps_every_contract(tree_copy: Path) -> None:
    result = _lint(tree_copy)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("case", sorted(VIOLATIONS))
def test_a_planted_violation_breaks_its_contract(tree_copy: Path, case: str) -> None:
    contract, files = VIOLATIONS[case]
    for relative, source in files.items():
        path = tree_copy / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not (path.parent / "__init__.py").exists():
            (path.parent / "__init__.py").write_text("")
        path.write_text(source)

    result = _lint(tree_copy)

    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{contract} BROKEN" in result.stdout, result.stdout
