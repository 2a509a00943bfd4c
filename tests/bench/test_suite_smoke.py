"""The execution benchmarks run end to end with tiny volumes (`--quick`): every figure is in the one table with a
number and a ratio. No timing is asserted: the figures of a quick run mean nothing."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

FIGURES = {
    "execution": ("hardened p50", "hardened p99"),
    "approve-to-order": ("approve -> order p50", "approve -> order p99"),
    "throughput": ("1 executor", "4 executors", "4 executors / 1 executor", "wasted execute calls, 4 executors"),
}
NUMBER = r"\d+(?:\.\d+)?"


def test_quick_run_prints_every_figure_with_a_value_and_a_ratio() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOINVEST_") and k != "DATABASE_URL"}
    proc = subprocess.Popen([sys.executable, "-m", "bench", *FIGURES, "--quick"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the run's database, simulator and workers are in its group
        out, err = proc.communicate()
        pytest.fail(f"python -m bench --quick did not finish:\n{err[-3000:]}")
    assert proc.returncode == 0, err[-3000:]
    for benchmark, names in FIGURES.items():
        for name in names:
            row = re.search(rf"^\s*{re.escape(benchmark)}\s+{re.escape(name)}\s+({NUMBER}) \S.*?\s({NUMBER})x\s",
                            out, re.MULTILINE)
            assert row is not None, f"no row {benchmark} / {name} with a value and a ratio in:\n{out}"
    assert "not built" not in out, out
